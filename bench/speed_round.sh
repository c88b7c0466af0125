#!/usr/bin/env bash
# Every speed measurement of docs/speed.md's latest round, one after the other on an otherwise idle machine,
# each command's output in bench/results/DATE-NAME.log:
#   - the data pipeline against the training step (`nnlab mnist bench --pipeline`);
#   - where the time goes before and after (bench/profile_pair.sh BEFORE AFTER) for the seed, small8k and
#     separable models, when BEFORE is given;
#   - nnlab against PyTorch (bench/compare.sh --runs 3) for every shipped model and separable, on the
#     engine's own SIMD path, and as a stand-in for an AVX2-only CPU with both sides held to AVX2
#     (NNLAB_SIMD=avx2; PyTorch's ATEN_CPU_CAPABILITY=avx2 and ONEDNN_MAX_CPU_ISA=AVX2);
#   - the 19-epoch seed recipe end to end (bench/end_to_end.sh), unless --no-end-to-end.
# Usage: bench/speed_round.sh [--before NNLAB_BINARY] [--no-end-to-end]
# NNLAB=BINARY times a prebuilt nnlab (default: target/release/nnlab, built here); TORCH_VENV / TORCH_PYTHON as
# for compare.sh. About 35 minutes on 2 cores with the end-to-end run.
set -euo pipefail
cd "$(dirname "$0")/.."
before="" end_to_end=1
while [[ $# -gt 0 ]]; do
    case "$1" in
        --before) [[ $# -ge 2 ]] || { echo "bench/speed_round.sh: --before needs a binary" >&2; exit 2; }; before="$2"; shift 2 ;;
        --no-end-to-end) end_to_end=0; shift ;;
        *) echo "bench/speed_round.sh: unknown argument '$1' (expected --before BINARY, --no-end-to-end)" >&2; exit 2 ;;
    esac
done
export MNIST_DIR="${MNIST_DIR:-../shared/mnist}"
source bench/nnlab_binary.sh
nnlab_binary
export NNLAB="$nnlab"
out="bench/results/$(date -u +%Y-%m-%d)"
mkdir -p bench/results
run() {
    local name="$1"
    shift
    echo "== $name: $*" >&2
    { echo "\$ $*"; date -u; "$@"; } 2>&1 | tee "$out-$name.log"
}
run pipeline "$nnlab" mnist bench --pipeline --steps 20
if [[ -n "$before" ]]; then
    for model in seed small8k separable; do
        run "profile-$model" bash bench/profile_pair.sh "$before" "$nnlab" --model "$model"
    done
fi
for model in seed small8k small5k small20 separable; do
    run "compare-$model" bash bench/compare.sh --model "$model" --runs 3
done
for model in seed small8k separable; do
    run "compare-avx2-$model" env NNLAB_SIMD=avx2 ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 \
        bash bench/compare.sh --model "$model" --runs 3
done
if [[ "$end_to_end" == 1 ]]; then
    run end-to-end bash bench/end_to_end.sh
fi
