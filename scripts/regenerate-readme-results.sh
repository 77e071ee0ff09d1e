#!/usr/bin/env bash
# Regenerate every result, number and chart the README quotes, from the
# shipped scenarios:
#   bash scripts/regenerate-readme-results.sh
# reruns them all into notebooks-output/, copies the charts the README shows
# into notebooks-output/readme-images/, and writes the README's numbers: the
# text between <!-- results:NAME --> and <!-- /results:NAME --> comes from
# the answers the runs print (`--format json --all-columns`), by the rules of
# scripts/readme-results.pl.
#
# --check (.ci/run calls it): rerun only the fast scenarios, into a temporary
# folder, and exit 1 naming each README chart that differs from the committed
# one in notebooks-output/readme-images/ and each README number block that
# differs from what the runs give (the code no longer gives what the README
# says: run this script without --check and commit README.md and the images).
# Fast (checked): default, seed-one-percent, memory-price-shock,
# latency-and-availability, small-models, household-office-region,
# azure-trace, always-available-assistant, privacy, world-scale,
# memory-breakeven, household-office-models, disaggregation, mooncake-trace and default-uncertainty: their numbers, and the charts sharing-factor-vs-duty-cycle.png,
# cost-vs-memory-price.png, latency-cdf.png, pool-size-curve.png and
# small-models-pool-size-curve.png.
# Slow, regenerated only without --check (--check leaves their blocks alone
# and says so): always-on-agent and elastic-region (their numbers) and
# bench-1m-users (load over the day). The bursty-arrival figures are not
# written here: fit-trace prints text, not JSON.
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
# The scenario commands whose answers the README quotes: command, scenario.
fast_answers=(
    "sweep default" "sweep seed-one-percent" "sweep memory-price-shock"
    "sweep latency-and-availability" "size small-models" "size household-office-region"
    "size azure-trace" "size always-available-assistant" "size privacy" "size world-scale"
    "sweep memory-breakeven" "size household-office-models" "sweep disaggregation"
    "size mooncake-trace"
    "uncertainty default-uncertainty"
)
slow_answers=("sweep always-on-agent" "size elastic-region")
fast="default seed-one-percent memory-price-shock latency-and-availability small-models household-office-region azure-trace always-available-assistant privacy world-scale memory-breakeven household-office-models disaggregation mooncake-trace default-uncertainty default-waterfall"

answers=$(mktemp -d)
if [ -n "$check" ]; then
    out=$(mktemp -d)
    trap 'rm -rf "$out" "$answers"' EXIT
    todo=("${fast_answers[@]}")
else
    trap 'rm -rf "$answers"' EXIT
    out=notebooks-output
    # Fresh folders: a folder keeps one scenario's results, and an edited
    # scenario is another scenario (its fingerprint differs).
    for s in default seed-one-percent memory-price-shock latency-and-availability always-on-agent \
        small-models household-office-region azure-trace bench-1m-users always-available-assistant \
        privacy world-scale memory-breakeven household-office-models disaggregation mooncake-trace default-uncertainty \
        elastic-region; do
        rm -rf "$out/$s"
    done
    todo=("${fast_answers[@]}" "${slow_answers[@]}")
fi
for a in "${todo[@]}"; do
    read -r command scenario <<<"$a"
    quiet=()
    [ "$command" = sweep ] || [ "$command" = uncertainty ] && quiet=(--quiet)
    "$bin" "$command" "scenarios/$scenario.toml" --out "$out" "${quiet[@]}" \
        --format json --all-columns >"$answers/$scenario.json"
done
# The decomposition waterfall of default's 0.3 % point (the uncertainty
# scenario's nominal inputs), in its own folder beside the uncertainty run's.
"$bin" waterfall scenarios/default-uncertainty.toml --out "$out/waterfall" \
    --format json --all-columns >"$answers/default-waterfall.json"
# The runs behind charts only (a size of azure-trace above, its latency CDF
# from a run).
"$bin" run scenarios/azure-trace.toml --out "$out" >/dev/null
[ -n "$check" ] || "$bin" run scenarios/bench-1m-users.toml --out "$out" >/dev/null

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
numbers=0
if [ -n "$check" ]; then
    perl scripts/readme-results.pl --check "$answers" README.md || numbers=$?
    if [ "${#differ[@]}" -gt 0 ]; then
        printf 'regenerate-readme-results: the README chart %s differs from what the code draws now\n' "${differ[@]}"
        echo "regenerate-readme-results: run bash scripts/regenerate-readme-results.sh and commit notebooks-output/readme-images/"
    fi
    if [ "${#differ[@]}" -gt 0 ] || [ "$numbers" -ne 0 ]; then
        exit 1
    fi
    echo "regenerate-readme-results: the README charts and numbers of $fast are what the code gives now"
else
    perl scripts/readme-results.pl "$answers" README.md
    echo "charts in notebooks-output/readme-images/, numbers in README.md"
fi
