#!/usr/bin/env bash
# Compares candidates honestly: trains each on a validation split (the last 10,000 training images held out,
# the test set unused) for every seed, then prints each run's last three validation accuracies and, per
# candidate, the mean over seeds of the worst of its last three — the number docs/experiments.md's candidate tables
# choose by. One candidate is a name and the `nnlab mnist train` flags that make it.
#
# Usage: bench/validate.sh --out DIR [--seeds "1 2 3"] [--threads N] NAME "TRAIN FLAGS" [NAME "TRAIN FLAGS" …]
# e.g.   bench/validate.sh --out runs/val NAME-a "--recipe tuned" NAME-b "--recipe tuned --ema 0.999"
# Finished runs are kept and skipped, so an interrupted comparison resumes where it stopped.
set -euo pipefail
cd "$(dirname "$0")/.."

out="" seeds="1 2 3" threads=2 validation=10000
while [[ $# -gt 0 && "$1" == --* ]]; do
    [[ $# -ge 2 ]] || { echo "bench/validate.sh: $1 needs a value" >&2; exit 2; }
    case "$1" in
        --out) out="$2" ;;
        --seeds) seeds="$2" ;;
        --threads) threads="$2" ;;
        --validation) validation="$2" ;;
        *) echo "bench/validate.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
    shift 2
done
[[ -n "$out" ]] || { echo "bench/validate.sh: --out DIR is needed" >&2; exit 2; }
[[ $# -ge 2 && $(($# % 2)) -eq 0 ]] || {
    echo "bench/validate.sh: give candidates as NAME \"TRAIN FLAGS\" pairs" >&2; exit 2; }
export MNIST_DIR="${MNIST_DIR:-../shared/mnist}"
nnlab="${NNLAB:-target/release/nnlab}"
[[ -n "${NNLAB:-}" ]] || cargo build --release --quiet
mkdir -p "$out"

finished() { python3 -c "import json,sys; sys.exit(0 if json.load(open('$1/progress.json'))['state']=='finished' else 1)" 2>/dev/null; }
names=()
while [[ $# -gt 0 ]]; do
    name="$1" flags="$2"; shift 2
    names+=("$name")
    for seed in $seeds; do
        dir="$out/$name-s$seed"
        finished "$dir" && continue
        rm -rf "$dir"
        # shellcheck disable=SC2086 # the flags are split on purpose
        "$nnlab" mnist train $flags --seed "$seed" --validation "$validation" --threads "$threads" \
            --out "$dir" >"$dir.log" 2>&1
    done
done

python3 - "$out" "$seeds" "${names[@]}" <<'EOF'
import json, sys
out, seeds, names = sys.argv[1], sys.argv[2].split(), sys.argv[3:]
print("| candidate | seed | validation accuracy, last three epochs (%) | worst |")
print("|---|---|---|---|")
for name in names:
    worst = []
    for s in seeds:
        e = json.load(open(f"{out}/{name}-s{s}/metrics.json"))["epochs"]
        last = [x["test_accuracy"] * 100 for x in e[-3:]]
        worst.append(min(last))
        print(f"| {name} | {s} | {' '.join(f'{v:.2f}' for v in last)} | {min(last):.2f} |")
    print(f"| {name} | mean | | **{sum(worst) / len(worst):.2f}** |")
EOF
