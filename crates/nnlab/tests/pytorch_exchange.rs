//! Both ways between nnlab and PyTorch, on the real MNIST test set, with the model that uses every
//! module kind: an nnlab checkpoint loaded into the exported PyTorch module evaluates as it does in nnlab,
//! and a state_dict trained in PyTorch and saved with `safetensors.torch.save_file` evaluates in nnlab
//! as it does in PyTorch.
//!
//! Needs a Python with torch and safetensors: `NNLAB_TORCH_PYTHON` (`bash .ci/run` sets it to its cached
//! venv). Without it the test says so and passes, except under CI, where it fails.

mod common;
use common::{json_stdout, mnist_dir, nnlab};

use std::path::{Path, PathBuf};

fn json(out: &[u8]) -> serde_json::Value {
    serde_json::from_slice(out).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(out)))
}

fn python(py: &Path, args: &[&str], paths: &[&Path]) -> serde_json::Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/pytorch/exchange.py");
    let out = std::process::Command::new(py)
        .arg(script)
        .args(args)
        .args(paths)
        .env("MNIST_DIR", mnist_dir())
        // Tests write nothing into the checkout, Python's bytecode cache included.
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    json(&out.stdout)
}

fn eval(args: &[&str], checkpoint: &Path) -> serde_json::Value {
    json_stdout(
        nnlab()
            .args(["mnist", "eval", "--json"])
            .args(args)
            .arg("--checkpoint")
            .arg(checkpoint),
    )
}

/// Test images on which two confusion matrices must disagree at the least (half the L1 distance).
fn disagreements(a: &serde_json::Value, b: &serde_json::Value) -> i64 {
    let cells = |v: &serde_json::Value| -> Vec<i64> {
        v.as_array()
            .unwrap()
            .iter()
            .flat_map(|r| r.as_array().unwrap().iter().map(|c| c.as_i64().unwrap()))
            .collect()
    };
    cells(a).iter().zip(cells(b)).map(|(x, y)| (x - y).abs()).sum::<i64>() / 2
}

#[test]
fn checkpoints_move_to_pytorch_and_back() {
    let Some(py) = std::env::var_os("NNLAB_TORCH_PYTHON").map(PathBuf::from) else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must set NNLAB_TORCH_PYTHON to a Python with torch and safetensors (.ci/run does)"
        );
        eprintln!("skipped: set NNLAB_TORCH_PYTHON to a Python with torch and safetensors (bash .ci/run does)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    nnlab()
        .args([
            "mnist",
            "train",
            "--model",
            "separable",
            "--train-limit",
            "3000",
            "--test-limit",
            "500",
        ])
        .args([
            "--batch-size",
            "50",
            "--lr",
            "0.05",
            "--epochs",
            "2",
            "--seed",
            "2",
            "--out",
        ])
        .arg(&run)
        .assert()
        .success();
    let checkpoint = run.join("last.safetensors");
    let module = dir.path().join("net.py");
    nnlab()
        .args(["mnist", "export-pytorch", "--model", "separable", "--out"])
        .arg(&module)
        .assert()
        .success();

    // nnlab → PyTorch.
    let ours = eval(&[], &checkpoint);
    let theirs = python(
        &py,
        &["eval", "--module"],
        &[&module, Path::new("--checkpoint"), &checkpoint],
    );
    let differ = disagreements(&ours["confusion"], &theirs["confusion"]);
    eprintln!(
        "nnlab checkpoint: nnlab {} vs PyTorch {} test accuracy, {differ} image(s) classified differently",
        ours["test_accuracy"], theirs["accuracy"]
    );
    assert!(ours["test_accuracy"].as_f64().unwrap() > 0.5);
    assert!(differ <= 2, "the same weights must classify the test set alike in both");

    // PyTorch → nnlab.
    let state = dir.path().join("torch.safetensors");
    let trained = python(&py, &["train", "--module"], &[&module, Path::new("--out"), &state]);
    let back = eval(&["--model", "separable"], &state);
    let differ = disagreements(&back["confusion"], &trained["confusion"]);
    eprintln!(
        "PyTorch state_dict: PyTorch {} vs nnlab {} test accuracy, {differ} image(s) classified differently",
        trained["accuracy"], back["test_accuracy"]
    );
    assert!(trained["accuracy"].as_f64().unwrap() > 0.5);
    assert!(differ <= 2, "the same weights must classify the test set alike in both");
}
