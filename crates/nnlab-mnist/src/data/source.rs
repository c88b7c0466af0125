//! Where the data comes from: `--data-dir`, else `$MNIST_DIR`, else `data/mnist`.

use std::path::{Path, PathBuf};

/// Default data directory, relative to the working directory.
pub const DEFAULT_DIR: &str = "data/mnist";

/// How the data directory was chosen, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DirSource {
    /// `--data-dir`.
    Flag,
    /// The `MNIST_DIR` environment variable.
    Environment,
    /// The default `data/mnist`.
    Default,
}

/// Resolves the data directory from the flag and the `MNIST_DIR` value.
pub fn resolve(flag: Option<&Path>, env: Option<&str>) -> (PathBuf, DirSource) {
    match (flag, env.filter(|e| !e.is_empty())) {
        (Some(dir), _) => (dir.to_path_buf(), DirSource::Flag),
        (None, Some(env)) => (PathBuf::from(env), DirSource::Environment),
        (None, None) => (PathBuf::from(DEFAULT_DIR), DirSource::Default),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_beats_environment_beats_default() {
        assert_eq!(
            resolve(Some(Path::new("a")), Some("b")),
            (PathBuf::from("a"), DirSource::Flag)
        );
        assert_eq!(resolve(None, Some("b")), (PathBuf::from("b"), DirSource::Environment));
        assert_eq!(
            resolve(None, Some("")),
            (PathBuf::from(DEFAULT_DIR), DirSource::Default)
        );
        assert_eq!(resolve(None, None), (PathBuf::from(DEFAULT_DIR), DirSource::Default));
    }
}
