#!/usr/bin/env bash
# Regenerate every result and chart the README quotes, from the shipped
# scenarios, and copy the charts it shows into notebooks-output/readme-images/.
#   bash scripts/regenerate-readme-results.sh
#
# --check (.ci/run calls it): rerun only the fast scenarios, into a temporary
# folder, and exit 1 naming each README chart that differs from the committed
# one in notebooks-output/readme-images/ (the code no longer draws what the
# README shows: run this script without --check and commit the images).
# Fast: default, memory-price-shock, azure-trace (their charts:
# sharing-factor-vs-duty-cycle.png, cost-vs-memory-price.png, latency-cdf.png).
# Slow, regenerated only without --check: household-office-region and
# small-models (pool-size curves), bench-1m-users (load over the day), and
# seed-one-percent, latency-and-availability and always-on-agent (quoted
# numbers only).
set -euo pipefail
cd "$(dirname "$0")/.."
check=
if [ "${1:-}" = --check ]; then
    check=1
fi
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
cargo build --release --quiet
bin="$CARGO_TARGET_DIR/release/sharesim"

# Each README chart: scenario, command, chart file, name in readme-images/.
charts=(
    "default sweep sharing-factor-vs-duty-cycle.png sharing-factor-vs-duty-cycle.png"
    "memory-price-shock sweep cost-vs-memory-price.png cost-vs-memory-price.png"
    "azure-trace run latency-cdf.png latency-cdf.png"
    "household-office-region size pool-size-curve.png pool-size-curve.png"
    "small-models size pool-size-curve.png small-models-pool-size-curve.png"
    "bench-1m-users run load-over-the-day.png load-over-the-day.png"
)
fast="default memory-price-shock azure-trace"

if [ -n "$check" ]; then
    out=$(mktemp -d)
    trap 'rm -rf "$out"' EXIT
    # Only the runs the fast charts need.
    "$bin" sweep scenarios/default.toml --out "$out" --quiet >/dev/null
    "$bin" sweep scenarios/memory-price-shock.toml --out "$out" --quiet >/dev/null
    "$bin" run scenarios/azure-trace.toml --out "$out" >/dev/null
else
    out=notebooks-output
    # Fresh folders: a folder keeps one scenario's results, and an edited
    # scenario is another scenario (its fingerprint differs).
    for s in default seed-one-percent memory-price-shock latency-and-availability always-on-agent \
        small-models household-office-region azure-trace bench-1m-users always-available-assistant; do
        rm -rf "$out/$s"
    done
    for s in default seed-one-percent memory-price-shock latency-and-availability always-on-agent; do
        "$bin" sweep "scenarios/$s.toml" --quiet
    done
    for s in small-models household-office-region azure-trace always-available-assistant; do
        "$bin" size "scenarios/$s.toml"
    done
    "$bin" run scenarios/azure-trace.toml
    "$bin" run scenarios/bench-1m-users.toml
fi

mkdir -p notebooks-output/readme-images
differ=()
for c in "${charts[@]}"; do
    read -r scenario _ chart name <<<"$c"
    if [ -n "$check" ]; then
        [[ " $fast " == *" $scenario "* ]] || continue
        cmp -s "$out/$scenario/$chart" "notebooks-output/readme-images/$name" || differ+=("$name ($scenario)")
    else
        cp "$out/$scenario/$chart" "notebooks-output/readme-images/$name"
    fi
done
if [ -n "$check" ]; then
    if [ "${#differ[@]}" -gt 0 ]; then
        printf 'regenerate-readme-results: the README chart %s differs from what the code draws now\n' "${differ[@]}"
        echo "regenerate-readme-results: run bash scripts/regenerate-readme-results.sh and commit notebooks-output/readme-images/"
        exit 1
    fi
    echo "regenerate-readme-results: the README charts of $fast are what the code draws now"
else
    echo "charts in notebooks-output/readme-images/"
fi
