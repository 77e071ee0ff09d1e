#!/usr/bin/env bash
# Record, or compare, the outputs of every shipped scenario, so a change that
# must not alter behaviour (a restructure) can show it did not, and a change
# to the model can show what moved.
#
#   bash scripts/baseline.sh record DIR [SCENARIO...]   # run each scenario into DIR
#   bash scripts/baseline.sh compare DIR_A DIR_B        # every Parquet file, value for value
#
# Each scenario runs the way its header says (run, size or sweep), with its
# own seed and `--threads 1` (results do not depend on the thread count; one
# thread keeps the timings comparable). Charts are skipped: they are drawn
# from these same tables. `compare` exits 1 and names the file and the first
# differing column when two tables differ; it needs Python with pyarrow
# ($SHARESIM_PYTHON, as .ci/run sets it, or python3).
set -euo pipefail
cd "$(dirname "$0")/.."

# scenario -> command, as each scenario's header says.
declare -A COMMAND=(
    [agents-shared-prefix]=run
    [always-available-assistant]=size
    [always-on-agent]=sweep
    [azure-trace]=size
    [benchmark-burst]=run
    [benchmark-closed-loop]=run
    [bench-1m-users]=run
    [bench-1m-users-prefix]=run
    [bench-sweep-16]=sweep
    [default]=sweep
    [default-uncertainty]=size
    [disaggregation]=sweep
    [elastic-region]=size
    [generic-queue]=run
    [household-office-models]=size
    [household-office-region]=size
    [latency-and-availability]=sweep
    [llm-chat]=size
    [memory-breakeven]=sweep
    [memory-price-shock]=sweep
    [mmc-erlang-check]=run
    [mooncake-trace]=run
    [privacy]=size
    [seed-one-percent]=sweep
    [small-models]=size
    [world-scale]=size
)

record() {
    local out=$1
    shift
    local names=("$@")
    if [ ${#names[@]} -eq 0 ]; then
        for f in scenarios/*.toml; do names+=("$(basename "$f" .toml)"); done
    fi
    local bin="${SHARESIM_BIN:-}"
    if [ -z "$bin" ]; then
        cargo build --release --quiet
        bin="${CARGO_TARGET_DIR:-target}/release/sharesim"
    fi
    mkdir -p "$out"
    for name in "${names[@]}"; do
        local cmd=${COMMAND[$name]:-}
        if [ -z "$cmd" ]; then
            echo "baseline.sh: scenarios/$name.toml has no entry in COMMAND; add one (run, size or sweep)" >&2
            exit 2
        fi
        local extra=(--threads 1 --no-charts)
        [ "$cmd" = sweep ] && extra+=(--quiet)
        local t0=$SECONDS
        "$bin" "$cmd" "scenarios/$name.toml" --out "$out" "${extra[@]}" > "$out/$name.stdout"
        echo "$name: $cmd in $((SECONDS - t0)) s"
    done
}

compare() {
    local a=$1 b=$2
    local py="${SHARESIM_PYTHON:-python3}"
    "$py" - "$a" "$b" <<'EOF'
import pathlib, sys
import pyarrow.parquet as pq

a, b = (pathlib.Path(p) for p in sys.argv[1:3])
files_a = {p.relative_to(a) for p in a.rglob("*.parquet")}
files_b = {p.relative_to(b) for p in b.rglob("*.parquet")}
bad = 0
for f in sorted(files_a ^ files_b):
    print(f"only in {'A' if f in files_a else 'B'}: {f}")
    bad += 1
for f in sorted(files_a & files_b):
    ta, tb = pq.read_table(a / f), pq.read_table(b / f)
    if ta.column_names != tb.column_names:
        print(f"{f}: columns differ: {set(ta.column_names) ^ set(tb.column_names)}")
        bad += 1
        continue
    if ta.num_rows != tb.num_rows:
        print(f"{f}: {ta.num_rows} rows vs {tb.num_rows}")
        bad += 1
        continue
    for c in ta.column_names:
        if not ta.column(c).equals(tb.column(c)):
            print(f"{f}: column {c} differs")
            bad += 1
            break
print(f"{len(files_a & files_b)} tables compared, {bad} differences")
sys.exit(1 if bad else 0)
EOF
}

case "${1:-}" in
    record) shift; record "$@" ;;
    compare) shift; compare "$@" ;;
    *) echo "usage: bash scripts/baseline.sh record DIR [SCENARIO...] | compare DIR_A DIR_B" >&2; exit 2 ;;
esac
