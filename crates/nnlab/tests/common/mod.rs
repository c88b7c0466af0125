//! Shared by the integration tests: where the real MNIST files are.

use std::path::PathBuf;

/// `$MNIST_DIR` (relative paths are taken from the workspace root, as `.ci/run` sets it), else
/// `../shared/mnist` beside the repository.
pub fn mnist_dir() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    match std::env::var("MNIST_DIR") {
        Ok(d) if !d.is_empty() => {
            let p = PathBuf::from(d);
            if p.is_absolute() { p } else { root.join(p) }
        }
        _ => root.join("../shared/mnist"),
    }
}
