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

/// The `nnlab` binary, reading MNIST from `mnist_dir()`, on the pinned SIMD path ([`pinned_simd`]).
pub fn nnlab() -> Command {
    let mut c = Command::cargo_bin("nnlab").unwrap();
    c.env("MNIST_DIR", mnist_dir());
    match pinned_simd() {
        Some(level) => c.env("NNLAB_SIMD", level),
        None => c.env_remove("NNLAB_SIMD"),
    };
    c
}

/// Runs `cmd`, requires exit 0 (its stderr shown otherwise), and parses its stdout as JSON: the `--json`
/// outputs the tests read.
pub fn json_stdout(cmd: &mut Command) -> serde_json::Value {
    let out = cmd.assert().success().get_output().stdout.clone();
    serde_json::from_slice(&out)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", String::from_utf8_lossy(&out)))
}

/// The SIMD path the tests' exact numbers were recorded on: AVX2 + FMA (`gemm`'s fma kernels), wherever
/// the CPU has it, so they hold on AVX2 and AVX-512 machines alike (AVX-512 kernels sum in another order).
/// The other paths are checked against it within tolerance (`model_cli.rs`).
pub fn pinned_simd() -> Option<&'static str> {
    (nnlab_nn::cpu::detected_level() >= nnlab_nn::cpu::SimdLevel::Avx2).then_some("avx2")
}

/// A run's `config.json` (its whole recipe), parsed.
pub fn config_json(run: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(run.join("config.json")).unwrap()).unwrap()
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

/// Trains a small real run into `runs/NAME` (10,000 training images, 1,000 test images, two epochs of the
/// seed model at batch 64 and lr 0.05: about 96 % test accuracy) and returns its folder: a run with
/// metrics and checkpoints, quick enough for a test.
pub fn tiny_run(runs: &Path, name: &str) -> PathBuf {
    let out = runs.join(name);
    nnlab()
        .args(["mnist", "train", "--recipe", "seed", "--seed", "1", "--epochs", "2"])
        .args(["--batch-size", "64", "--lr", "0.05"])
        .args(["--train-limit", "10000", "--test-limit", "1000", "--out"])
        .arg(&out)
        .assert()
        .success();
    out
}

/// `nnlab serve` on a free loopback port, stopped when dropped.
pub struct Server {
    child: std::process::Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
}

impl Server {
    /// Starts `nnlab serve --addr 127.0.0.1:0 --runs RUNS` plus `extra` and waits for its address.
    pub fn start(runs: &Path, extra: &[&str]) -> Server {
        Server::start_at("127.0.0.1:0", runs, extra)
    }

    /// [`Server::start`] listening on `addr`; the URL always reaches it over loopback.
    pub fn start_at(addr: &str, runs: &Path, extra: &[&str]) -> Server {
        use std::io::{BufRead, BufReader};
        let mut command = std::process::Command::new(assert_cmd::cargo::cargo_bin("nnlab"));
        // The SIMD path the CLI runs under in the tests, so the server's numbers are the CLI's to the bit.
        match pinned_simd() {
            Some(level) => command.env("NNLAB_SIMD", level),
            None => command.env_remove("NNLAB_SIMD"),
        };
        let mut child = command
            .args(["serve", "--addr", addr, "--runs"])
            .arg(runs)
            .args(extra)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .unwrap();
        let mut first = String::new();
        let mut reader = BufReader::new(child.stdout.take().unwrap());
        reader.read_line(&mut first).unwrap();
        // Keep reading, so the server never writes into a closed pipe.
        std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
        let url = first
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("no address in the server's first line: {first}"))
            .trim_end_matches('/')
            .replace("0.0.0.0", "127.0.0.1");
        Server { child, url }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
