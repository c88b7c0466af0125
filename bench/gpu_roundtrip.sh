#!/usr/bin/env bash
# nnlab → PyTorch on a GPU under DDP → nnlab, on the real MNIST test set: nnlab trains a model on the CPU, the
# exported PyTorch module loads the checkpoint on the GPU and must classify the 10,000 test images as nnlab does,
# trains on under DistributedDataParallel, saves its state_dict with safetensors, and nnlab must evaluate that
# file as PyTorch did. Prints both comparisons (accuracy each side, test images classified differently).
#
# Usage: bench/gpu_roundtrip.sh [--model NAME|FILE] [--epochs N] [--ranks N] [--threads N] [--device cuda|cpu]
#   --epochs: nnlab's training epochs before the hand-over (default 1); the DDP run trains one more.
# Needs a CUDA GPU and a Python with torch and safetensors ($TORCH_PYTHON, default python3); NNLAB=BINARY uses a
# prebuilt nnlab instead of building one. --device cpu does the same on the CPU (gloo), to try it without a GPU.
# MNIST from $MNIST_DIR (default ../shared/mnist).
set -euo pipefail
cd "$(dirname "$0")/.."
model=seed epochs=1 ranks=2 threads=2 device=cuda
while [[ $# -gt 0 ]]; do
    [[ $# -ge 2 ]] || { echo "bench/gpu_roundtrip.sh: $1 needs a value" >&2; exit 2; }
    case "$1" in
        --model) model="$2" ;;
        --epochs) epochs="$2" ;;
        --ranks) ranks="$2" ;;
        --threads) threads="$2" ;;
        --device) device="$2" ;;
        *) echo "bench/gpu_roundtrip.sh: unknown argument '$1' (expected --model, --epochs, --ranks, --threads, --device)" >&2; exit 2 ;;
    esac
    shift 2
done
export MNIST_DIR="${MNIST_DIR:-../shared/mnist}"
python="${TORCH_PYTHON:-python3}"
source bench/nnlab_binary.sh
nnlab_binary

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$nnlab" mnist train --model "$model" --epochs "$epochs" --seed 1 --threads "$threads" --out "$work/run" >"$work/train.log"
"$nnlab" mnist export-pytorch --model "$model" --out "$work/net.py" >/dev/null
"$nnlab" mnist eval --checkpoint "$work/run/last.safetensors" --threads "$threads" --json >"$work/nnlab-before.json"
"$python" bench/pytorch_gpu_ddp.py --module "$work/net.py" --checkpoint "$work/run/last.safetensors" \
    --out "$work/ddp.safetensors" --ranks "$ranks" --device "$device" >"$work/torch.json"
"$nnlab" mnist eval --model "$model" --checkpoint "$work/ddp.safetensors" --threads "$threads" --json >"$work/nnlab-after.json"

python3 - "$work" "$model" "$epochs" <<'PY'
import json, sys
work, model, epochs = sys.argv[1:]
load = lambda name: json.load(open(f"{work}/{name}"))
torch, before, after = load("torch.json"), load("nnlab-before.json"), load("nnlab-after.json")
differ = lambda a, b: sum(abs(x - y) for ra, rb in zip(a, b) for x, y in zip(ra, rb)) // 2
print(f"model {model}: {torch['device']} ({torch['gpus']} GPU), PyTorch {torch['torch']}, "
      f"DDP {torch['ranks']} ranks over {torch['backend']}, TF32 off")
print(f"| step | nnlab test accuracy | PyTorch test accuracy | test images classified differently |")
print(f"|---|---|---|---|")
print(f"| nnlab checkpoint ({epochs} epoch(s) on the CPU) → PyTorch on the {torch['device']} | {100 * before['test_accuracy']:.2f} % | "
      f"{100 * torch['before']['accuracy']:.2f} % | {differ(before['confusion'], torch['before']['confusion'])} |")
print(f"| 1 more epoch under DDP on the {torch['device']} ({torch['train_seconds']:.1f} s) → nnlab | {100 * after['test_accuracy']:.2f} % | "
      f"{100 * torch['after']['accuracy']:.2f} % | {differ(after['confusion'], torch['after']['confusion'])} |")
PY
