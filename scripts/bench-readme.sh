#!/usr/bin/env bash
# Time the README's scenario commands (every `sharesim run|size|sweep|uncertainty|waterfall
# scenarios/X.toml` and `cargo run --release -- ...` of README.md and
# notebooks-output/README.md), each with /usr/bin/time into a fresh output
# folder, and write what was measured:
#   docs/run-times.md   one row per command: wall and CPU seconds, peak memory,
#                       with the machine, its load and the commit
#   README.md           the text between <!-- run-time: COMMAND --> and
#                       <!-- /run-time --> becomes that command's wall and CPU
#                       time and the load average it ran at
#
#   bash scripts/bench-readme.sh                 # every command (the slow ones take many minutes)
#   bash scripts/bench-readme.sh default azure-trace   # only these scenarios; other rows are kept
#
# Wall time depends on what else the machine runs: the load average is
# written beside it, and CPU time (user + system) is the steadier figure.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
cargo build --release --quiet
bin="$CARGO_TARGET_DIR/release/sharesim"
table=docs/run-times.md
only=" $* "

# The commands, in README order, each once.
mapfile -t commands < <(
    for f in README.md notebooks-output/README.md; do tr '\n' ' ' <"$f"; done \
        | grep -oE '(cargo run --release -- |sharesim )(run|size|sweep|uncertainty|waterfall) +scenarios/[a-z0-9-]+\.toml' \
        | sed -E 's/^cargo run --release -- /sharesim /; s/ +/ /g' | awk '!seen[$0]++'
)

declare -A row
if [ -f "$table" ]; then
    while IFS= read -r line; do
        c=$(sed -n 's/^| `\(sharesim [^`]*\)` |.*/\1/p' <<<"$line")
        [ -n "$c" ] && row[$c]=$line
    done <"$table"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
load_before=$(cut -d' ' -f1 /proc/loadavg)
for c in "${commands[@]}"; do
    name=$(sed -E 's/.*scenarios\/([a-z0-9-]+)\.toml/\1/' <<<"$c")
    if [ "$only" != "  " ] && [[ "$only" != *" $name "* ]]; then
        continue
    fi
    read -r -a args <<<"${c#sharesim }"
    rm -rf "$work/out"
    echo "bench-readme: $c" >&2
    load=$(cut -d' ' -f1 /proc/loadavg)
    /usr/bin/time -f '%e %U %S %M' -o "$work/time" "$bin" "${args[@]}" --out "$work/out" \
        >/dev/null 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
    read -r wall user sys rss <"$work/time"
    cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.1f", u + s }')
    mb=$(awk -v k="$rss" 'BEGIN { printf "%.0f", k / 1024 }')
    wall=$(awk -v w="$wall" 'BEGIN { printf "%.1f", w }')
    row[$c]="| \`$c\` | $wall | $cpu | $mb | $load | $(date -u +%Y-%m-%d) |"
    echo "bench-readme: $c: $wall s wall, $cpu s CPU, $mb MB" >&2
    # The README's quote of this command, if it has one.
    quote="$wall s wall and $cpu s of CPU time (load average $load)"
    C="$c" Q="$quote" perl -0pi -e 's/(<!-- run-time: \Q$ENV{C}\E -->).*?(<!-- \/run-time -->)/$1$ENV{Q}$2/gs' README.md
done

{
    echo "# Run times of the README's commands"
    echo
    echo "Written by \`bash scripts/bench-readme.sh\`: do not edit. Each command ran with"
    echo "\`--out\` a fresh folder, as the README gives it otherwise (threads: all cores)."
    echo "Last run: commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown), $(nproc) cores,"
    echo "load average $load_before at its start. The load average beside each row is the"
    echo "machine's when that command started: wall times grow with it; CPU time (user +"
    echo "system) is the steadier figure."
    echo
    echo "| command | wall s | CPU s | peak MB | load average | measured |"
    echo "|---|---|---|---|---|---|"
    for c in "${commands[@]}"; do
        [ -n "${row[$c]:-}" ] && echo "${row[$c]}"
    done
} >"$table"
echo "bench-readme: wrote $table" >&2
