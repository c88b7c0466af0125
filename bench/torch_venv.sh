# Sourced by compare.sh and end_to_end.sh: sets $python to a Python that has the given packages.
# $TORCH_PYTHON, when set, is used as it is (a Python that already has them, e.g. a machine's own torch);
# else $TORCH_VENV when set (created there if needed, kept); otherwise a throw-away venv, removed on exit.
torch_venv() {
    if [[ -n "${TORCH_PYTHON:-}" ]]; then
        python="$TORCH_PYTHON"
        return
    fi
    local venv
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
    python="$venv/bin/python"
}
