#!/usr/bin/env bash
# Where the time goes, before and after a change: `nnlab mnist bench --profile` of two binaries, alternated
# for --runs rounds, medians per layer (training forward, backward, evaluation forward, ms per step of 256
# images), the images per second and the fraction of the CPU's peak multiply-add rate each reaches.
#
# Usage: bench/profile_pair.sh BEFORE AFTER [--model NAME|FILE] [--threads N] [--batch-size N] [--steps N] [--runs N]
#   BEFORE, AFTER: two nnlab binaries (e.g. one built at an older commit with `git worktree` + cargo build).
set -euo pipefail
cd "$(dirname "$0")/.."
[[ $# -ge 2 ]] || { echo "usage: bench/profile_pair.sh BEFORE AFTER [--model M] [--threads N] [--batch-size N] [--steps N] [--runs N]" >&2; exit 2; }
before="$1" after="$2"
shift 2
for b in "$before" "$after"; do
    [[ -x "$b" ]] || { echo "bench/profile_pair.sh: '$b' is not an executable nnlab binary" >&2; exit 2; }
done
source bench/speed_args.sh
speed_args "$@"

results="$(mktemp)"
trap 'rm -f "$results"' EXIT
for round in $(seq 1 "$runs"); do
    echo "round $round/$runs" >&2
    for side in before after; do
        bin="$before"; [[ "$side" == after ]] && bin="$after"
        printf '%s %s\n' "$side" "$("$bin" mnist bench --model "$model" --batch-size "$batch" --steps "$steps" --threads "$threads" --profile --json)" >>"$results"
    done
done
"$after" mnist summary --model "$model" --json >"$results.summary"
trap 'rm -f "$results" "$results.summary"' EXIT
cpu="$(lscpu | sed -n 's/^Model name: *//p' | head -1)"
echo "model $model; CPU: $cpu; batch $batch, $threads threads, $steps timed steps, median of $runs alternating runs"
python3 - "$results" "$results.summary" <<'EOF'
import json, statistics, sys
rows = {"before": [], "after": []}
for line in open(sys.argv[1]):
    side, payload = line.split(" ", 1)
    rows[side].append(json.loads(payload))
med = lambda xs: statistics.median(xs)
def layer(side, name, key):
    vals = [r["profile_ms_per_step"].get(name, {}).get(key, 0.0) for r in rows[side]]
    return med(vals)
# The model's statements in file order, then the step's other parts (batch, loss, update).
order = [layer["name"] for layer in json.load(open(sys.argv[2]))["layers"]]
names = list(rows["after"][0]["profile_ms_per_step"])
names.sort(key=lambda n: (order.index(n) if n in order else len(order), n))
print("| part | forward before | forward after | backward before | backward after | eval before | eval after |")
print("|---|---:|---:|---:|---:|---:|---:|")
for n in names:
    cells = [layer(s, n, k) for k in ("forward", "backward", "eval") for s in ("before", "after")]
    if sum(cells) < 0.005:
        continue
    print(f"| {n} | " + " | ".join(f"{c:.2f}" if c else "" for c in cells) + " |")
for key, label in (("train_images_per_sec", "train images/s"), ("eval_images_per_sec", "eval images/s")):
    b, a = (med([r[key] for r in rows[s]]) for s in ("before", "after"))
    print(f"{label}: {b:,.0f} → {a:,.0f} ({a / b:.2f}×)")
after = rows["after"]
if "peak_macs_per_sec" in after[0]:
    peak = med([r["peak_macs_per_sec"] for r in after])
    for side in ("before", "after"):
        t = med([r["train_images_per_sec"] for r in rows[side]]) * after[0]["train_macs_per_image"] / peak
        e = med([r["eval_images_per_sec"] for r in rows[side]]) * after[0]["macs_per_image"] / peak
        print(f"{side}: {100 * t:.1f} % of the peak in training, {100 * e:.1f} % in evaluation", end="; ")
    print(f"peak {peak / 1e9:.1f} G multiply-adds/s on {after[0].get('simd_level', '?')}")
EOF
