#!/usr/bin/env bash
# The screenshots of nnlab serve in docs/web.md and the README: runs the browser tests (crates/nnlab/tests/serve_browser.rs)
# against existing runs (the first run there stands in for the tests' small run) and saves each page they check as
# docs/img/serve-{draw,playground,runs,design}.png and docs/img/serve-phone-*.png (390 × 844).
#
# Usage: bench/screenshots.sh [--runs DIR]   (default runs/, e.g. from bench/train.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=runs
if [[ "${1:-}" == "--runs" ]]; then runs="${2:?--runs needs a folder}"; fi
export MNIST_DIR="${MNIST_DIR:-../shared/mnist}"
NNLAB_SERVE_RUNS="$(realpath "$runs")" NNLAB_SCREENSHOTS="$(realpath docs/img)" \
    cargo test --quiet -p nnlab --test serve_browser -- --nocapture 2>&1 | grep -E "wrote|test result"
