#!/usr/bin/env bash
# Holds sharesim's peak-memory estimate (sim/run/memory.rs, the figure a run
# is refused on) within 2x of the peak resident memory a run really reaches:
# for 1e5 and 1e6 users of a few populations (open-loop, a rate spread,
# sessions, agents, an overloaded LLM pool beside one device per user), it
# reads the estimate from the refusal `--max-memory 1` prints, runs the
# scenario, and asserts measured / estimated in [0.5, 2]. Quick (~15 s);
# .ci/run calls it before the tests. 1e7 users: MEMORY_CHECK_USERS="1e7".
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
cargo build --release --quiet
bin="$CARGO_TARGET_DIR/release/sharesim"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# scenario USERS KIND EXTRA: 600 s, 2 replications, one device per user
# beside a pool; KIND generic or llm; EXTRA lines go in [users].
scenario() {
    local load="requests_per_day = 500"
    case "$3" in *agent*) load="" ;; esac
    cat <<EOF
name = "memory-check"
seed = 1
horizon_s = 600
warmup_s = 60
replications = 2
[users]
count = $1
$load
$3
EOF
    if [ "$2" = llm ]; then
        cat <<'EOF'
[model]
name = "gpt_oss_120b"
quantisation = "mxfp4"
[requests]
input_tokens = { distribution = "lognormal", median = 1020, p99 = 4142 }
output_tokens = { distribution = "lognormal", median = 129, p99 = 601 }
[[placements]]
name = "desk"
kind = "dedicated"
device = "framework_desktop"
[[placements]]
name = "pool"
kind = "pooled"
device = "h100_sxm"
servers = 300
max_batch = 256
EOF
    else
        cat <<'EOF'
[service]
distribution = "exponential"
mean_s = 2.0
[[placements]]
name = "local"
kind = "dedicated"
[[placements]]
name = "pool"
kind = "pooled"
servers = 200
EOF
    fi
}

# Peak resident memory of a command's children, bytes (Linux: ru_maxrss in KiB).
peak_rss() {
    python3 - "$@" <<'EOF'
import resource, subprocess, sys
subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024)
EOF
}

# The estimate, bytes, from the refusal's "need about 1.6 GB".
estimate() {
    local msg
    msg="$("$bin" run "$1" --out "$2" --no-charts --threads 2 --max-memory 1 2>&1 || true)"
    echo "$msg" | sed -n 's/.*need about \([0-9.]*\) \([kMG]\)B.*/\1 \2/p' \
        | awk '{ m = ($2 == "k") ? 1e3 : ($2 == "M") ? 1e6 : 1e9; printf "%.0f\n", $1 * m }'
}

users_list="${MEMORY_CHECK_USERS:-1e5 1e6}"
failed=0
case_n=0
for users in $users_list; do
    n=$(awk -v u="$users" 'BEGIN { printf "%.0f", u }')
    for case in "generic|" "generic|requests_per_day_cv = 1.0" "generic|arrivals = \"sessions\"" \
        "generic|arrivals = \"agent\"
agent_gap = { distribution = \"exponential\", mean_s = 600.0 }" "llm|"; do
        kind="${case%%|*}"
        extra="${case#*|}"
        f="$work/s.toml"
        scenario "$n" "$kind" "$extra" > "$f"
        # Each case is another scenario: it gets an output folder of its own
        # (a folder holds the results of one scenario only).
        case_n=$((case_n + 1))
        out="$work/out-$case_n"
        est="$(estimate "$f" "$out")"
        if [ -z "$est" ]; then
            echo "memory-check: no estimate for $users users ($kind ${extra%%$'\n'*})" >&2
            failed=1
            continue
        fi
        rss="$(peak_rss "$bin" run "$f" --out "$out" --no-charts --threads 2)"
        ratio=$(awk -v r="$rss" -v e="$est" 'BEGIN { printf "%.2f", r / e }')
        ok=$(awk -v x="$ratio" 'BEGIN { print (x >= 0.5 && x <= 2) ? "ok" : "OUT OF [0.5, 2]" }')
        printf 'memory-check: %s users, %-7s %-30s measured %6.0f MB, estimated %6.0f MB, ratio %s %s\n' \
            "$users" "$kind" "${extra%%$'\n'*}" "$(awk -v r="$rss" 'BEGIN{print r/1e6}')" \
            "$(awk -v e="$est" 'BEGIN{print e/1e6}')" "$ratio" "$ok"
        [ "$ok" = ok ] || failed=1
    done
done
exit "$failed"
