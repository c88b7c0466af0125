#!/usr/bin/env bash
# Full-length training benchmarks (not tests): the seed recipe, and the tuned recipe for three seeds.
# Usage: bench/train.sh [seed|tuned|all]   (results in runs/bench-*/; a run took about 5 min on 2 cores here, see docs/experiments.md)
set -euo pipefail
cd "$(dirname "$0")/.."
export MNIST_DIR="${MNIST_DIR:-../shared/mnist}"
cargo build --release --quiet
what="${1:-all}"
if [[ "$what" == seed || "$what" == all ]]; then
    target/release/nnlab mnist train --recipe seed --seed 1 --out runs/bench-seed-s1 | tee runs/bench-seed-s1.log
fi
if [[ "$what" == tuned || "$what" == all ]]; then
    for seed in 1 2 3; do
        target/release/nnlab mnist train --recipe tuned --seed "$seed" --out "runs/bench-tuned-s$seed" | tee "runs/bench-tuned-s$seed.log"
    done
fi
grep -h "test accuracy ≥ 99.4" runs/bench-*.log || true
