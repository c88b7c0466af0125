#!/usr/bin/env bash
# Every speed figure of docs/speed.md for the CPU this runs on, in one go, on two threads pinned to two distinct
# cores: the CPU and its flags, the engine on each SIMD path (simd_paths.sh), nnlab against PyTorch for each
# shipped model (compare.sh; the seed model over 5 rounds), the per-layer profiles of the seed and small8k
# models, and the first two epochs of the seed recipe end to end (end_to_end.sh --epochs 2). About 8 minutes.
#
# Usage: bench/cpu_report.sh   (NNLAB=BINARY, TORCH_PYTHON=PYTHON or TORCH_VENV=DIR as in compare.sh; on a
# machine without Rust and pip, e.g. `NNLAB=/path/nnlab TORCH_PYTHON=python3 bench/cpu_report.sh`)
set -uo pipefail
cd "$(dirname "$0")/.."
export MNIST_DIR="${MNIST_DIR:-../shared/mnist}"
source bench/nnlab_binary.sh
nnlab_binary
export NNLAB="$nnlab"
step() { echo; echo "=== $* ($(date -u '+%Y-%m-%d %H:%M:%S UTC'))"; }

step cpu
lscpu | grep -E 'Model name|^CPU\(s\)|Thread|Core|Socket|L2|L3'
cpus="$(lscpu -p=CPU,CORE | grep -v '^#' | sort -t, -k2,2n -u | head -2 | cut -d, -f1 | paste -sd,)"
[[ "$cpus" == *,* ]] || cpus=0,1
echo "pinned to CPUs $cpus (two distinct cores)"
pin() { taskset -c "$cpus" "$@"; }

step simd paths; pin bench/simd_paths.sh
step compare seed; pin bench/compare.sh --model seed --runs 5
for model in small8k separable; do step compare "$model"; pin bench/compare.sh --model "$model"; done
for model in seed small8k; do step profile "$model"; pin "$nnlab" mnist bench --model "$model" --steps 30 --profile; done
step end to end, 2 epochs; pin bench/end_to_end.sh --epochs 2 2>&1 | grep -v -E '^\s*[0-9]+/[0-9]+|ETA'
step done
