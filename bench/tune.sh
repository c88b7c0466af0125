#!/usr/bin/env bash
# Honest tuning, then every seed: the learning rate of MODEL under RECIPE chosen on a validation split (each
# rate trained to the brief's epochs on three seeds, the mean worst-of-last-N deciding), then the chosen rate
# trained on all 60,000 images for test seeds 1–10 and judged on the test set. A thin call of
# `nnlab mnist search` over a space of MODEL with `recipe.optimizer.lr = choice(RATES)`.
#
# Usage: [SEEDS=3] [TEST_SEEDS=1-10] bench/tune.sh MODEL RECIPE BRIEF "RATE RATE …" [search flags…]
# e.g.   bench/tune.sh seed tuned seed "0.05 0.08 0.1" --out runs/tune-tuned
# (Before nnlab mnist search existed, this script trained the grid itself; see commit 3a75baf.)
set -euo pipefail
cd "$(dirname "$0")/.."
[[ $# -ge 4 ]] || { echo "usage: bench/tune.sh MODEL RECIPE BRIEF \"RATE …\" [search flags…]" >&2; exit 2; }
model="$1" recipe="$2" brief="$3" rates="$4"; shift 4
export MNIST_DIR="${MNIST_DIR:-../shared/mnist}"
nnlab="${NNLAB:-target/release/nnlab}"
[[ -n "${NNLAB:-}" ]] || cargo build --release --quiet
space="$(mktemp --suffix=.space)"
trap 'rm -f "$space"' EXIT
# A shipped name is written out as its file; a file is used as it is.
if [[ -f "$model" ]]; then cat "$model"; else cat "models/$model.model"; fi >"$space"
echo "recipe.optimizer.lr = choice($(echo "$rates" | sed 's/ \+/, /g'))" >>"$space"
"$nnlab" mnist search --space "$space" --recipe "$recipe" --brief "$brief" --eta 1000 --seeds "${SEEDS:-3}" \
    --test-seeds "${TEST_SEEDS:-1-10}" "$@"
