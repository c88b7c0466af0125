#!/usr/bin/env bash
# Compares candidates honestly, as a search with a single rung: every point of SPACE is trained to the brief's
# full epochs on a validation split (the last 10,000 training images held out, the test set unused) for every
# seed, and ranked by the mean over seeds of the worst of the brief's last epochs — the number the candidate
# tables of docs/experiments.md choose by. A thin call of `nnlab mnist search` (η large, so nothing is
# pruned); finished trainings are kept, so an interrupted comparison resumes with --resume DIR.
#
# Usage: [SEEDS=3] bench/validate.sh SPACE BRIEF [search flags…]
# e.g.   bench/validate.sh models/spaces/small8k.space 8k --recipe small8k --trials 6 --out runs/val
# (Before nnlab mnist search existed, this script took NAME "TRAIN FLAGS" pairs; see commit 3a75baf.)
set -euo pipefail
cd "$(dirname "$0")/.."
[[ $# -ge 2 ]] || { echo "usage: bench/validate.sh SPACE BRIEF [search flags…]" >&2; exit 2; }
space="$1" brief="$2"; shift 2
export MNIST_DIR="${MNIST_DIR:-../shared/mnist}"
nnlab="${NNLAB:-target/release/nnlab}"
[[ -n "${NNLAB:-}" ]] || cargo build --release --quiet
exec "$nnlab" mnist search --space "$space" --brief "$brief" --eta 1000 --seeds "${SEEDS:-3}" "$@"
