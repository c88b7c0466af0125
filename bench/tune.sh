#!/usr/bin/env bash
# Honest tuning, then every seed: trains MODEL with RECIPE at each candidate learning rate on a validation
# split (the last 10,000 training images held out; the test set unused), picks the rate whose worst of the
# last three validation accuracies is highest, then trains with it on all 60,000 images for every seed and
# reports the test accuracy of each (none left out) with `nnlab mnist compare`.
#
# Usage: bench/tune.sh --model M --recipe R --brief B --lrs "0.05 0.1 0.2" --seeds "1 2 3 4 5" --out DIR
# Finished runs are kept and skipped, so an interrupted tuning resumes where it stopped.
set -euo pipefail
cd "$(dirname "$0")/.."

model="" recipe="" brief="" lrs="" seeds="1 2 3 4 5" out="" validation=10000
while [[ $# -gt 0 ]]; do
    [[ $# -ge 2 ]] || { echo "bench/tune.sh: $1 needs a value" >&2; exit 2; }
    case "$1" in
        --model) model="$2" ;;
        --recipe) recipe="$2" ;;
        --brief) brief="$2" ;;
        --lrs) lrs="$2" ;;
        --seeds) seeds="$2" ;;
        --out) out="$2" ;;
        --validation) validation="$2" ;;
        *) echo "bench/tune.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
    shift 2
done
[[ -n "$model" && -n "$recipe" && -n "$brief" && -n "$lrs" && -n "$out" ]] || {
    echo "bench/tune.sh: --model, --recipe, --brief, --lrs and --out are needed" >&2; exit 2; }
export MNIST_DIR="${MNIST_DIR:-../shared/mnist}"
nnlab="${NNLAB:-target/release/nnlab}"
[[ -n "${NNLAB:-}" ]] || cargo build --release --quiet
mkdir -p "$out"

finished() { python3 -c "import json,sys; sys.exit(0 if json.load(open('$1/progress.json'))['state']=='finished' else 1)" 2>/dev/null; }
train() {
    local dir="$1"; shift
    finished "$dir" && return 0
    rm -rf "$dir"
    "$nnlab" mnist train --model "$model" --recipe "$recipe" --brief "$brief" --out "$dir" "$@" >"$dir.log" 2>&1
}

echo "# validation ($validation held-out training images), seed 1"
best="" best_score=-1
for lr in $lrs; do
    train "$out/val-lr$lr" --lr "$lr" --seed 1 --validation "$validation"
    score=$(python3 -c "
import json; e=json.load(open('$out/val-lr$lr/metrics.json'))['epochs']
print(min(x['test_accuracy'] for x in e[-3:]))")
    echo "lr $lr: validation accuracy of the last three epochs: $(python3 -c "
import json; e=json.load(open('$out/val-lr$lr/metrics.json'))['epochs']
print(', '.join(f\"{x['test_accuracy']*100:.2f}\" for x in e[-3:]))") %"
    if python3 -c "import sys; sys.exit(0 if $score > $best_score else 1)"; then best="$lr" best_score="$score"; fi
done
echo "chosen: lr $best (worst of the last three validation epochs $(python3 -c "print(f'{$best_score*100:.2f}')") %)"

echo "# test set, lr $best, all 60,000 training images"
dirs=()
for seed in $seeds; do
    train "$out/seed$seed" --lr "$best" --seed "$seed"
    dirs+=("$out/seed$seed")
done
"$nnlab" mnist compare "${dirs[@]}" --format markdown
