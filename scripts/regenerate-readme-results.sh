#!/usr/bin/env bash
# Regenerate every result and chart the README quotes, from the shipped
# scenarios, and copy the charts it shows into notebooks-output/readme-images/.
#   bash scripts/regenerate-readme-results.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release
bin="${CARGO_TARGET_DIR:-target}/release/sharesim"
# Fresh folders: a folder keeps one scenario's results, and an edited
# scenario is another scenario (its fingerprint differs).
for s in default seed-one-percent memory-price-shock latency-and-availability always-on-agent \
    small-models household-office-region azure-trace bench-1m-users; do
    rm -rf "notebooks-output/$s"
done
for s in default seed-one-percent memory-price-shock latency-and-availability always-on-agent; do
    "$bin" sweep "scenarios/$s.toml" --quiet
done
for s in small-models household-office-region azure-trace; do
    "$bin" size "scenarios/$s.toml"
done
"$bin" run scenarios/azure-trace.toml
"$bin" run scenarios/bench-1m-users.toml
mkdir -p notebooks-output/readme-images
cp notebooks-output/default/sharing-factor-vs-duty-cycle.png notebooks-output/readme-images/
cp notebooks-output/household-office-region/pool-size-curve.png notebooks-output/readme-images/
cp notebooks-output/small-models/pool-size-curve.png notebooks-output/readme-images/small-models-pool-size-curve.png
cp notebooks-output/memory-price-shock/cost-vs-memory-price.png notebooks-output/readme-images/ 2>/dev/null || true
cp notebooks-output/azure-trace/latency-cdf.png notebooks-output/readme-images/
cp notebooks-output/bench-1m-users/load-over-the-day.png notebooks-output/readme-images/
echo "charts in notebooks-output/readme-images/"
