#!/bin/bash
# One task of a Slurm job array running a sharesim sweep (README, "Sweeps
# across many machines"): sharesim reads the array variables itself and runs
# that task's shard, writing its parts into OUT/<scenario name>/ on a folder
# every node sees. Usage, from the repository, one task per point:
#   sbatch --array=1-$(sharesim sweep --points SCENARIO) scripts/slurm-sweep.sh SCENARIO OUT
# SHARESIM_BIN: the binary (default target/release/sharesim).
#SBATCH --job-name=sharesim-sweep
#SBATCH --time=02:00:00
set -euo pipefail
scenario=${1:?usage: sbatch --array=1-N scripts/slurm-sweep.sh SCENARIO OUT}
out=${2:?usage: sbatch --array=1-N scripts/slurm-sweep.sh SCENARIO OUT}
exec "${SHARESIM_BIN:-target/release/sharesim}" sweep "$scenario" --out "$out" \
    --threads "${SLURM_CPUS_PER_TASK:-1}" --quiet --no-charts
