# Sourced by compare.sh and simd_paths.sh: their shared flags, with the same defaults (seed model, 2 threads,
# batch 256, 20 timed steps, 3 rounds). Sets $model $threads $batch $steps $runs; an unknown flag or one
# without a value is one line naming the script, exit 2.
speed_args() {
    local script="bench/$(basename "$0")"
    threads=2 batch=256 steps=20 runs=3 model=seed
    while [[ $# -gt 0 ]]; do
        [[ $# -ge 2 ]] || { echo "$script: $1 needs a value" >&2; exit 2; }
        case "$1" in
            --model) model="$2" ;;
            --threads) threads="$2" ;;
            --batch-size) batch="$2" ;;
            --steps) steps="$2" ;;
            --runs) runs="$2" ;;
            *) echo "$script: unknown argument '$1' (expected --model, --threads, --batch-size, --steps, --runs)" >&2; exit 2 ;;
        esac
        shift 2
    done
}
