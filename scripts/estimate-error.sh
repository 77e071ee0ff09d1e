#!/usr/bin/env bash
# The instant estimate's error against the simulation, on the shipped
# scenarios that size fleets: each is sized (`size`, or `sweep` for those
# with a size-mode [sweep]) and the estimate beside every simulated size in
# sizing.parquet / sweep.parquet (`estimate_servers_total` against
# `servers_total`) is tabulated as the Markdown table of docs/model.md
# ("The instant estimate"): the rows under its header.
#
#   bash scripts/estimate-error.sh OUT_DIR [SCENARIO...]
#
# SHARESIM_BIN picks the binary (default: build the release one);
# SHARESIM_PYTHON a Python with pyarrow (default python3).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: estimate-error.sh OUT_DIR [SCENARIO...]}
shift
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
    names=(llm-chat small-models privacy always-available-assistant azure-trace world-scale
        household-office-region elastic-region generic-queue always-on-agent
        latency-and-availability memory-breakeven memory-price-shock seed-one-percent default)
fi
bin="${SHARESIM_BIN:-}"
if [ -z "$bin" ]; then
    cargo build --release --quiet
    bin="${CARGO_TARGET_DIR:-target}/release/sharesim"
fi
py="${SHARESIM_PYTHON:-python3}"
mkdir -p "$out"
for name in "${names[@]}"; do
    f="scenarios/$name.toml"
    if grep -q '^\[sweep\]' "$f"; then cmd=(sweep --quiet); else cmd=(size); fi
    if [ ! -e "$out/$name.done" ]; then
        t0=$SECONDS
        "$bin" "${cmd[@]}" "$f" --out "$out" --no-charts > "$out/$name.stdout"
        echo "$name: ${cmd[0]} in $((SECONDS - t0)) s" >&2
        touch "$out/$name.done"
    fi
done
"$py" - "$out" "${names[@]}" <<'PY'
import sys, pathlib
import pyarrow.parquet as pq
out = pathlib.Path(sys.argv[1])
for name in sys.argv[2:]:
    d = out / name
    f = d / "sizing.parquet"
    if not f.exists():
        f = d / "sweep.parquet"
    t = pq.read_table(f).to_pylist()
    rows = [r for r in t if r.get("kind") == "pooled"
            and r.get("servers_total") and r.get("estimate_servers_total")]
    if not rows:
        continue
    ratios = sorted(((r["estimate_servers_total"] / r["servers_total"], r) for r in rows), key=lambda p: p[0])
    rs = [x for x, _ in ratios]
    med = rs[len(rs) // 2] if len(rs) % 2 else (rs[len(rs) // 2 - 1] + rs[len(rs) // 2]) / 2
    worst_ratio, worst = max(ratios, key=lambda p: abs(p[0] - 1))
    where = ", ".join(f"{k[6:]} = {v}" for k, v in worst.items() if k.startswith("sweep_"))
    where = f" ({where})" if where else ""
    work = "generic" if name in ("generic-queue",) else "LLM"
    print(f"| {name} | {len(rows)} | {work} | {rs[0]:.3g} | {med:.3g} | {rs[-1]:.3g} | "
          f"{worst['placement']}, pools of {worst['pool_size']}{where}: {worst['estimate_servers_total']:,.0f} vs {worst['servers_total']:,.0f} |")
PY
