#!/usr/bin/env bash
# A sweep on a real Slurm cluster: start a one-node cluster on this machine
# (munged, slurmctld and slurmd, all in a temporary folder, stopped by their
# process ids when the script ends), submit the README's job-array script
# (scripts/slurm-sweep.sh) with one task per point of a small sweep, wait for
# the array, merge its parts with `sharesim merge`, and check the merged
# sweep.parquet is byte-identical to a single-machine `sharesim sweep` of the
# same scenario. .ci/run calls it.
#
#   bash scripts/slurm-check.sh [SCENARIO]       # default scenarios/latency-and-availability.toml
#
# SLURM_CHECK_CPUS_PER_TASK (default 1) is each task's --cpus-per-task;
# the node has $(nproc) CPUs, so that many tasks run at once when it is 1.
# Slurm and munge come from the Debian packages (slurmctld, slurmd,
# slurm-client, munge), installed with apt-get when missing. Where they
# cannot be installed (not root, no apt-get, no package archive) the script
# prints a line starting with SKIPPED saying why and exits 0.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
# The daemons install in sbin, which a non-login PATH may lack.
export PATH="$PATH:/usr/sbin:/sbin"
scenario=${1:-scenarios/latency-and-availability.toml}
cpus_per_task=${SLURM_CHECK_CPUS_PER_TASK:-1}
started=$SECONDS

skip() {
    echo "SKIPPED: slurm-check: $*"
    exit 0
}
have_slurm() {
    local c
    for c in munged slurmctld slurmd sbatch squeue scontrol sinfo; do
        command -v "$c" >/dev/null 2>&1 || return 1
    done
}
if ! have_slurm; then
    [ "$(id -u)" = 0 ] || skip "Slurm is not installed and installing it needs root (apt-get install slurmctld slurmd slurm-client munge)"
    command -v apt-get >/dev/null 2>&1 || skip "Slurm is not installed and there is no apt-get to install it with"
    log=$(mktemp)
    echo "slurm-check: installing slurmctld slurmd slurm-client munge (apt-get)"
    if ! { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
        --no-install-recommends slurmctld slurmd slurm-client munge; } >"$log" 2>&1; then
        tail -n 5 "$log"
        rm -f "$log"
        skip "apt-get could not install slurmctld slurmd slurm-client munge (its last lines above)"
    fi
    rm -f "$log"
    have_slurm || skip "the Slurm packages installed but munged, slurmctld, slurmd, sbatch, squeue, scontrol or sinfo is missing"
fi
echo "slurm-check: $(slurmctld -V), $(munged --version 2>&1 | head -n 1)"
install_s=$((SECONDS - started))

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
cargo build --release --quiet
bin="$(cd "$CARGO_TARGET_DIR/release" && pwd)/sharesim"
name=$(sed -n 's/^name *= *"\(.*\)".*/\1/p' "$scenario" | head -n 1)
[ -n "$name" ] || { echo "slurm-check: $scenario has no name"; exit 1; }

work=$(mktemp -d /tmp/sharesim-slurm.XXXXXX)
pids=()
cleanup() {
    local i
    # Our own daemons only, newest first, by the ids we started them with.
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
        kill "${pids[i]}" 2>/dev/null || true
    done
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
        wait "${pids[i]}" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT
fail() {
    echo "slurm-check: FAILED: $*"
    local f
    for f in "$work"/log/*; do
        [ -s "$f" ] || continue
        echo "--- $f (last lines)"
        tail -n 15 "$f"
    done
    exit 1
}
mkdir -p "$work/munge" "$work/state" "$work/spool" "$work/log" "$work/cluster"

# munge: a fresh key, its socket in our folder (Slurm is told where).
head -c 1024 /dev/urandom >"$work/munge/munge.key"
chmod 400 "$work/munge/munge.key"
socket="$work/munge/munge.socket"
munged --foreground --force --key-file="$work/munge/munge.key" --socket="$socket" \
    --pid-file="$work/munge/munged.pid" --seed-file="$work/munge/munged.seed" \
    --log-file="$work/log/munged.log" >"$work/log/munged.out" 2>&1 &
pids+=($!)
for _ in $(seq 50); do [ -S "$socket" ] && break; sleep 0.1; done
[ -S "$socket" ] || fail "munged did not open its socket"

# Two free ports, so a second check (or another cluster) does not collide.
port=$((20000 + RANDOM % 20000))
cpus=$(nproc)
cat >"$work/slurm.conf" <<EOF
ClusterName=sharesimcheck
SlurmctldHost=localhost
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$socket
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
MinJobAge=600
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/log/slurmctld.log
SlurmdLogFile=$work/log/slurmd.log
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=check Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF="$work/slurm.conf"
slurmctld -D -i -f "$SLURM_CONF" >"$work/log/slurmctld.out" 2>&1 &
pids+=($!)
slurmd -D -N localhost -f "$SLURM_CONF" >"$work/log/slurmd.out" 2>&1 &
pids+=($!)
up=
for _ in $(seq 120); do
    state=$(sinfo -h -n localhost -o %T 2>/dev/null || true)
    case "$state" in idle*) up=1; break ;; esac
    sleep 0.5
done
[ -n "$up" ] || fail "the node did not become idle (state: ${state:-none})"
echo "slurm-check: one-node cluster up ($cpus CPUs, ports $port-$((port + 1)))"

# The array: one task per point, as the README says.
points=$("$bin" sweep --points "$scenario")
[ "$points" -ge 1 ] || fail "sharesim sweep --points printed $points"
submitted=$SECONDS
job=$(sbatch --parsable --array=1-"$points" --cpus-per-task="$cpus_per_task" \
    --chdir="$repo" --output="$work/log/task-%A_%a.out" --export=ALL,SHARESIM_BIN="$bin" \
    scripts/slurm-sweep.sh "$scenario" "$work/cluster")
job=${job%%;*}
echo "slurm-check: job $job: $points tasks of scripts/slurm-sweep.sh $scenario, $cpus_per_task CPU(s) each"
for _ in $(seq 600); do
    [ -z "$(squeue -h -j "$job" 2>/dev/null)" ] && break
    sleep 0.5
done
[ -z "$(squeue -h -j "$job")" ] || fail "job $job still queued or running after 300 s"
records=$(scontrol -o show job "$job")
done_ok=$(grep -c 'JobState=COMPLETED .*ExitCode=0:0' <<<"$records" || true)
[ "$done_ok" = "$points" ] || {
    grep -o 'ArrayTaskId=[^ ]* JobState=[^ ]*\|ExitCode=[^ ]*' <<<"$records" || true
    fail "$done_ok of $points array tasks completed with exit 0"
}
cluster_s=$((SECONDS - submitted))

"$bin" merge "$work/cluster/$name" --no-charts >/dev/null
"$bin" sweep "$scenario" --out "$work/single" --quiet --no-charts >/dev/null
cmp "$work/cluster/$name/sweep.parquet" "$work/single/$name/sweep.parquet" \
    || fail "the merged sweep.parquet differs from the single-machine one"
echo "slurm-check: $points array tasks merged: sweep.parquet byte-identical to a single-machine run (install/check ${install_s} s, array ${cluster_s} s, total $((SECONDS - started)) s)"
