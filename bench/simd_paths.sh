#!/usr/bin/env bash
# The engine on each SIMD path this CPU has (NNLAB_SIMD=baseline|avx2|avx512): train and eval images/s of
# one model, the paths alternated for --runs rounds, medians printed as a Markdown table with the CPU.
#
# Usage: bench/simd_paths.sh [--model NAME|FILE] [--threads N] [--batch-size N] [--steps N] [--runs N]
set -euo pipefail
cd "$(dirname "$0")/.."

source bench/speed_args.sh
speed_args "$@"
source bench/nnlab_binary.sh
nnlab_binary

detected="$(NNLAB_SIMD= "$nnlab" mnist bench --model "$model" --steps 1 --batch-size 4 --json |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["simd_detected"])')"
case "$detected" in
    avx512) levels="baseline avx2 avx512" ;;
    avx2) levels="baseline avx2" ;;
    *) levels="baseline" ;;
esac
results="$(mktemp)"
trap 'rm -f "$results"' EXIT
for round in $(seq 1 "$runs"); do
    for level in $levels; do
        echo "round $round/$runs: $level" >&2
        printf '%s %s\n' "$level" "$(NNLAB_SIMD="$level" "$nnlab" mnist bench --model "$model" --batch-size "$batch" \
            --steps "$steps" --threads "$threads" --json)" >>"$results"
    done
done
cpu="$(lscpu | sed -n 's/^Model name: *//p' | head -1)"
echo "model $model, batch $batch, $threads threads, $steps timed steps, median of $runs alternating runs"
echo "CPU: $cpu; detected path: $detected; $(date -u +%Y-%m-%d)"
python3 - "$results" <<'PY'
import json, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    level, js = line.split(" ", 1)
    rows.setdefault(level, []).append(json.loads(js))
base = statistics.median(r["train_images_per_sec"] for r in rows["baseline"])
print("\n| path (NNLAB_SIMD) | gemm kernels | train images/s | eval images/s | train vs baseline |")
print("|---|---|---|---|---|")
for level, rs in rows.items():
    t = [r["train_images_per_sec"] for r in rs]
    e = [r["eval_images_per_sec"] for r in rs]
    runs = lambda xs: " · ".join(f"{x:,.0f}" for x in xs)
    print(f"| {level} | {rs[0]['gemm_kernel']} | **{statistics.median(t):,.0f}** ({runs(t)}) | "
          f"**{statistics.median(e):,.0f}** ({runs(e)}) | {statistics.median(t) / base:.2f}× |")
PY
