# Sourced by compare.sh and end_to_end.sh: sets $venv to a Python venv that has the given packages.
# Uses $TORCH_VENV when set (created there if needed, kept); otherwise a throw-away one, removed on exit.
torch_venv() {
    if [[ -n "${TORCH_VENV:-}" ]]; then
        venv="$TORCH_VENV"
    else
        scratch="$(mktemp -d)"
        trap 'rm -rf "$scratch"' EXIT
        venv="$scratch/venv"
    fi
    local imports
    imports="$(printf '%s\n' "$@" | grep -vx 'numpy\|pillow' | paste -sd, -)"
    if [[ ! -x "$venv/bin/python" ]] || ! "$venv/bin/python" -c "import $imports" 2>/dev/null; then
        echo "installing $* into $venv …" >&2
        python3 -m venv "$venv"
        "$venv/bin/pip" install --quiet --disable-pip-version-check "$@"
    fi
}
