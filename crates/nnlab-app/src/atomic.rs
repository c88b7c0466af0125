//! Files appear whole or not at all: written to a temporary file beside the target, then renamed.

use std::path::Path;

use crate::{AppError, Result};

/// Writes `bytes` to `path` atomically (see `nnlab_mnist::atomic`); on failure nothing is left behind.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    nnlab_mnist::atomic::write_atomic(path, bytes).map_err(|e| AppError::file(path, format!("cannot write it: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn writes_whole_files_and_leaves_nothing_on_failure() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.txt");
        write_atomic(&path, b"hello").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"hello");
        let bad = dir.path().join("missing-dir").join("out.txt");
        let err = write_atomic(&bad, b"x").unwrap_err();
        assert!(err.to_string().contains("cannot write"), "{err}");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
