# Sourced by the speed scripts: sets $nnlab to the binary to time — $NNLAB when set (a prebuilt binary, e.g. on a
# machine without Rust), else target/release/nnlab, built fresh.
nnlab_binary() {
    nnlab="${NNLAB:-target/release/nnlab}"
    [[ -n "${NNLAB:-}" ]] || cargo build --release --quiet
}
