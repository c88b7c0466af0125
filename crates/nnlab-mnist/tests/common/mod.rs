//! Shared by the integration tests: where the real MNIST files are.

use std::path::PathBuf;

/// `$MNIST_DIR` (relative paths are taken from the workspace root, as `.ci/run` sets it), else
/// `../shared/mnist` beside the repository.
/// Panics naming every missing file and where it looked, so a misplaced data folder is plain at once.
pub fn mnist_dir() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let (dir, how) = match std::env::var("MNIST_DIR") {
        Ok(d) if !d.is_empty() => {
            let p = PathBuf::from(d);
            (if p.is_absolute() { p } else { root.join(p) }, "MNIST_DIR")
        }
        _ => (root.join("../shared/mnist"), "the default ../shared/mnist"),
    };
    let missing = nnlab_mnist::data::dataset::missing_files(&dir);
    assert!(
        missing.is_empty(),
        "the tests read the real MNIST files, and {} (from {how}) lacks: {} (each looked for as .gz and raw)",
        dir.display(),
        missing.join(", ")
    );
    dir
}
