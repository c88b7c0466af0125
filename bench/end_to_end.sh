#!/usr/bin/env bash
# The full seed recipe (19 epochs, augmentation, evaluation after every epoch) in nnlab and in PyTorch,
# one after the other on this machine, with the same thread count and one data-loading worker each.
# Usage: bench/end_to_end.sh [--model NAME|FILE] [--threads N] [--epochs N]   (logs in runs/e2e-*.log; about
# 25 min on 2 cores here). The PyTorch side trains the module `nnlab mnist export-pytorch` writes for the same model.
# Installs torch and torchvision into a throw-away venv; set TORCH_VENV=DIR to use (or keep) one instead, or
# TORCH_PYTHON=PYTHON to use a Python that has them; NNLAB=BINARY times a prebuilt nnlab instead of building one.
# --epochs N shortens both runs to the first N epochs (a per-epoch comparison where 19 epochs take too long).
set -euo pipefail
cd "$(dirname "$0")/.."
threads=2 model=seed epochs=19
while [[ $# -gt 0 ]]; do
    [[ $# -ge 2 ]] || { echo "bench/end_to_end.sh: $1 needs a value" >&2; exit 2; }
    case "$1" in
        --threads) threads="$2" ;;
        --model) model="$2" ;;
        --epochs) epochs="$2" ;;
        *) echo "bench/end_to_end.sh: unknown argument '$1' (expected --model NAME|FILE, --threads N, --epochs N)" >&2; exit 2 ;;
    esac
    shift 2
done
export MNIST_DIR="${MNIST_DIR:-../shared/mnist}"

source bench/torch_venv.sh
source bench/nnlab_binary.sh
torch_venv torch torchvision numpy pillow
nnlab_binary
mkdir -p runs
module="$(mktemp --suffix=.py)"
"$nnlab" mnist export-pytorch --model "$model" --out "$module"
echo "model $model; CPU: $(lscpu | sed -n 's/^Model name: *//p' | head -1); SIMD flags: $(grep -o -w -E 'avx512f|avx512bw|avx512_vnni|avx512_bf16|avx2|fma' /proc/cpuinfo | sort -u | paste -sd' ')"

start=$(date +%s)
"$nnlab" mnist train --model "$model" --recipe seed --epochs "$epochs" --seed 1 --threads "$threads" --out runs/e2e-nnlab | tee runs/e2e-nnlab.log
nnlab_s=$(( $(date +%s) - start ))

start=$(date +%s)
"$python" bench/pytorch_reference.py train --module "$module" --epochs "$epochs" --threads "$threads" --workers 1 --seed 12 | tee runs/e2e-pytorch.log
torch_s=$(( $(date +%s) - start ))

echo
echo "$epochs-epoch seed recipe, $threads threads, wall time including start-up and every evaluation:"
printf '  nnlab    %4d s  (%d min %02d s)\n' "$nnlab_s" $((nnlab_s / 60)) $((nnlab_s % 60))
printf '  PyTorch  %4d s  (%d min %02d s)\n' "$torch_s" $((torch_s / 60)) $((torch_s % 60))
python3 -c "print(f'  ratio    {$torch_s / $nnlab_s:.2f}×')"
rm -f "$module"
