//! Shared by the integration tests: where the real MNIST files are, the binary with that data, and a
//! run's per-epoch records. (Each test crate uses a part of it.)
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;

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

/// The `nnlab` binary, reading MNIST from `mnist_dir()`.
pub fn nnlab() -> Command {
    let mut c = Command::cargo_bin("nnlab").unwrap();
    c.env("MNIST_DIR", mnist_dir());
    c
}

/// A run's `metrics.json`: the epoch records without their wall time, and the parameter count.
pub fn epoch_records(out: &Path) -> (Vec<serde_json::Value>, serde_json::Value) {
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap()).unwrap();
    let records = v["epochs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let mut r = r.clone();
            r.as_object_mut().unwrap().remove("seconds");
            r
        })
        .collect();
    (records, v["params"].clone())
}
