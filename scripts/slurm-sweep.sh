#!/bin/bash
# One task of a Slurm job array running a sharesim sweep: each task runs the
# shard its SLURM_ARRAY_TASK_ID names (sharesim reads the array variables
# itself, 0- or 1-based) and writes its part files into OUT/<scenario name>/,
# a folder every node sees. Submit one task per point, from the repository:
#
#   points=$(target/release/sharesim sweep --points scenarios/seed-one-percent.toml)
#   sbatch --array=1-"$points" --cpus-per-task=2 scripts/slurm-sweep.sh scenarios/seed-one-percent.toml /shared/results
#   # once the array is done:
#   target/release/sharesim merge /shared/results/seed-one-percent
#
# SHARESIM_BIN names the binary (default target/release/sharesim, relative
# to the folder sbatch was run from). scripts/slurm-check.sh runs this on a
# one-node cluster and checks the merged sweep.parquet is byte-identical to a
# single-machine run.
#SBATCH --job-name=sharesim-sweep
#SBATCH --time=02:00:00
set -euo pipefail
scenario=${1:?usage: sbatch --array=1-N scripts/slurm-sweep.sh SCENARIO OUT}
out=${2:?usage: sbatch --array=1-N scripts/slurm-sweep.sh SCENARIO OUT}
exec "${SHARESIM_BIN:-target/release/sharesim}" sweep "$scenario" --out "$out" \
    --threads "${SLURM_CPUS_PER_TASK:-1}" --quiet --no-charts
