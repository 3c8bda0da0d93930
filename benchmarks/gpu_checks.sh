#!/usr/bin/env bash
# Every GPU measurement the open issues ask for, in one command, each step under its own
# time limit so that one slow step cannot eat the others' time:
#
#     bash benchmarks/gpu_checks.sh [RESULTS_DIR]     # default: gpu-results/
#
# Needs the package installed with a CUDA-enabled OpenMM (`pip install -e ".[cuda]"`).
# Writes one log per step into RESULTS_DIR; copy the figures into benchmarks/README.md and
# docs/validation.md with the date and the GPU model (nvidia-smi's first line is logged).
#   1. bench_gpu: engine vs plain OpenMM loop, 5k/20k/100k atoms, 2 fs and 4 fs HMR,
#      12-6-4 and CM (issue 16; target 20k atoms at 4 fs >= 1500 ns/day on an H100/H200)
#   2. bench_packing: 1, 2, 4, 8 small jobs on one GPU through the campaign executor
#      (issue 16; target 8 jobs >= 2x the aggregate ns/day of one)
#   3. validate --profile gpu, solutions and osmotic rows, both model families
#      (issue 14; target under 10 minutes)
#   4. bench_pmf: ns/day of one umbrella window on a ~4k-atom Cu5Zn8 slab (issue 19)
#   5. bench_viscosity: periodic-perturbation viscosity of TIP3P on CUDA (issue 15)
#   6. validate --profile gpu, pairing rows: log10 K_A of ZnSO4 at infinite dilution from
#      the Zn-S pair PMF, both families, 1 ns windows plus 7 stiff contact windows
#      (issue 28; about 64 ns in all); watch for the 'neither saw it enter or leave'
#      warning: on the CPU's 60 ps windows no contact formed or broke in either family
#   7. bench_contact_pairs: 2 m ZnSO4 contact pairs by well-tempered metadynamics from a
#      pre-hydrated and a plain-packmol start, 10 ns each, on the exchange CV (contacts
#      minus first-shell water; issue 28; the CPU got 2 x 1 ns on the contact CV)
set -u
OUT=${1:-gpu-results}
mkdir -p "$OUT"
PY=${PYTHON:-python}
export PYTHONUNBUFFERED=1
nvidia-smi -L > "$OUT/gpu.txt" 2>&1 || echo "no nvidia-smi" > "$OUT/gpu.txt"
step() {  # step NAME SECONDS COMMAND...
    local name=$1 limit=$2
    shift 2
    echo "== $name (limit ${limit}s): $*"
    local t0=$SECONDS
    timeout "$limit" "$@" > "$OUT/$name.log" 2>&1
    echo "   exit $? after $((SECONDS - t0)) s" | tee -a "$OUT/$name.log"
}
step bench_gpu 900 $PY benchmarks/bench_gpu.py --platform CUDA --steps 20000
step bench_packing 600 $PY benchmarks/bench_packing.py --platform CUDA
step validate_gpu 900 $PY -m solvation.cli validate --profile gpu --systems solutions,osmotic \
    --platform CUDA -o "$OUT/validation"
step bench_pmf 300 $PY benchmarks/bench_pmf.py --platform CUDA --out "$OUT/pmf"
step bench_viscosity 300 $PY benchmarks/bench_viscosity.py --platform CUDA --out "$OUT/viscosity"
step validate_pairing 3600 $PY -m solvation.cli validate --profile gpu --systems pairing \
    --platform CUDA -o "$OUT/validation"
step contact_pairs 3600 $PY benchmarks/bench_contact_pairs.py --n-water 600 --time "10 ns" \
    --cv exchange --platform CUDA --out "$OUT/contact-pairs"
