#!/usr/bin/env bash
# nnlab against PyTorch on this CPU: training and evaluation images per second for the same model, step,
# batch and thread count, alternating the two for --runs rounds and reporting medians and the ratio.
#
# Usage: bench/compare.sh [--model NAME|FILE] [--threads N] [--batch-size N] [--steps N] [--runs N]
# The PyTorch side runs the module `nnlab mnist export-pytorch` writes for the same model (default: seed).
# Installs torch into a throw-away venv (removed on exit); set TORCH_VENV=DIR to use (or keep) one instead, or
# TORCH_PYTHON=PYTHON to use a Python that has torch; NNLAB=BINARY times a prebuilt nnlab instead of building one.
set -euo pipefail
cd "$(dirname "$0")/.."

source bench/speed_args.sh
speed_args "$@"

source bench/torch_venv.sh
source bench/nnlab_binary.sh
torch_venv torch numpy
nnlab_binary

results="$(mktemp)" module="$(mktemp --suffix=.py)"
"$nnlab" mnist export-pytorch --model "$model" --out "$module"
cpu="$(lscpu | sed -n 's/^Model name: *//p' | head -1)"
simd="$(grep -o -w -E 'avx512f|avx512bw|avx512_vnni|avx512_bf16|avx2|fma' /proc/cpuinfo | sort -u | paste -sd' ')"
for round in $(seq 1 "$runs"); do
    echo "round $round/$runs" >&2
    printf 'nnlab %s\n' "$("$nnlab" mnist bench --model "$model" --batch-size "$batch" --steps "$steps" --threads "$threads" --json)" >>"$results"
    printf 'pytorch %s\n' "$("$python" bench/pytorch_reference.py bench --module "$module" --batch-size "$batch" --steps "$steps" --threads "$threads" --json)" >>"$results"
done
echo "model $model; CPU: $cpu; SIMD flags: $simd"

torch_version="$("$python" -c 'import torch; print(torch.__version__)')"
python3 - "$results" "$threads" "$batch" "$steps" "$runs" "$torch_version" <<'EOF'
import json, statistics, sys
path, threads, batch, steps, runs, torch_version = sys.argv[1:]
rows = {"nnlab": [], "pytorch": []}
for line in open(path):
    name, payload = line.split(" ", 1)
    rows[name].append(json.loads(payload))
med = {n: {k: statistics.median(r[k] for r in rs) for k in ("train_images_per_sec", "eval_images_per_sec")} for n, rs in rows.items()}
print(f"batch {batch}, {threads} threads, {steps} timed steps, median of {runs} alternating runs (PyTorch {torch_version})")
print(f"{'':10} {'train img/s':>12} {'eval img/s':>12}")
for name in ("nnlab", "pytorch"):
    print(f"{name:10} {med[name]['train_images_per_sec']:12.0f} {med[name]['eval_images_per_sec']:12.0f}")
ratio = {k: med["nnlab"][k] / med["pytorch"][k] for k in med["nnlab"]}
print(f"{'ratio':10} {ratio['train_images_per_sec']:11.2f}× {ratio['eval_images_per_sec']:11.2f}×")
for name in ("nnlab", "pytorch"):
    print(f"  {name} runs, train: " + ", ".join(f"{r['train_images_per_sec']:.0f}" for r in rows[name])
          + "; eval: " + ", ".join(f"{r['eval_images_per_sec']:.0f}" for r in rows[name]))
EOF
rm -f "$results" "$module"
