#!/usr/bin/env bash
# The TF Playground targets of docs/backprop.md: circle with 2-4-1 tanh (x1, x2), XOR with x1·x2 alone and no
# hidden layer, spiral with 8-8 tanh and (x1, x2, sin x1, sin x2), each at TF Playground's defaults (lr 0.03,
# batch 10, no noise, half the 500 points for testing, 500 epochs) on seeds 1–10; prints every seed's test
# accuracy from its metrics.json.
#
# Usage: bench/boundary.sh [--epochs N]   (release build; about 10 s)
set -euo pipefail
cd "$(dirname "$0")/.."
epochs=500
if [[ "${1:-}" == "--epochs" ]]; then epochs="${2:?--epochs needs a number}"; fi
cargo build --release --quiet -p nnlab
out=$(mktemp -d)
for setup in "circle|x1,x2|4" "xor|x1x2|none" "spiral|x1,x2,sinx1,sinx2|8,8"; do
    IFS='|' read -r data features hidden <<<"$setup"
    line="$data ($features; hidden $hidden):"
    for seed in 1 2 3 4 5 6 7 8 9 10; do
        target/release/nnlab backprop boundary --data "$data" --features "$features" --hidden "$hidden" \
            --epochs "$epochs" --seed "$seed" --out "$out/$data-$seed" >/dev/null
        acc=$(python3 -c "import json,sys; print('%.1f' % (100 * json.load(open(sys.argv[1]))['test_accuracy']))" "$out/$data-$seed/metrics.json")
        line="$line $acc"
    done
    echo "$line"
done
rm -rf "$out"
