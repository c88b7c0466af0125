//! `nnlab backprop boundary`: TF Playground's targets at its default settings, the files it writes, the
//! web API's numbers for the same setup, and its refusals.

mod common;

use common::{Server, nnlab};
use predicates::prelude::*;
use serde_json::Value;

fn metrics(dir: &std::path::Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("metrics.json")).unwrap()).unwrap()
}

/// Circle with 2-4-1 tanh on (x1, x2), XOR with x1·x2 and no hidden layer, spiral with 8-8 tanh on
/// (x1, x2, sin x1, sin x2): lr 0.03, batch 10, no noise, half the 500 points for testing, 500 epochs.
#[test]
fn tf_playgrounds_targets_are_met_and_the_web_gives_the_same_numbers() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(tmp.path(), &[]);
    for (data, features, hidden, goal) in [
        ("circle", "x1,x2", "4", 0.98),
        ("xor", "x1x2", "none", 0.98),
        ("spiral", "x1,x2,sinx1,sinx2", "8,8", 0.90),
    ] {
        let out = tmp.path().join(data);
        nnlab()
            .args([
                "backprop",
                "boundary",
                "--data",
                data,
                "--features",
                features,
                "--hidden",
                hidden,
                "--out",
            ])
            .arg(&out)
            .assert()
            .success()
            .stdout(predicate::str::contains("epoch 500:"));
        for file in ["boundary.png", "neurons.png", "loss.png", "metrics.json"] {
            assert!(out.join(file).is_file(), "{data}: {file}");
        }
        let m = metrics(&out);
        assert!(
            m["test_accuracy"].as_f64().unwrap() >= goal,
            "{data}: {}",
            m["test_accuracy"]
        );
        assert_eq!(m["per_epoch"].as_array().unwrap().len(), 501);
        let hidden_query = if hidden == "none" { "" } else { hidden };
        let api: Value = ureq::get(format!(
            "{}/api/boundary?data={data}&features={features}&hidden={hidden_query}&epochs=500",
            server.url
        ))
        .call()
        .unwrap()
        .body_mut()
        .read_json()
        .unwrap();
        for key in ["test_loss", "train_loss", "test_accuracy", "weights", "biases"] {
            assert_eq!(api[key], m[key], "{data}: {key}");
        }
    }
}

#[test]
fn bad_settings_and_files_are_named_and_nothing_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let csv = tmp.path().join("points.csv");
    std::fs::write(&csv, "x1,x2,label\n1,2,1\n3,oops,0\n").unwrap();
    let csv_arg = csv.display().to_string();
    for (args, words) in [
        (vec!["--data", "moons"], "--data: unknown data set 'moons'"),
        (vec!["--hidden", "4,0"], "--hidden: layer 2 has 0 neurons"),
        (vec!["--features", "x1,z"], "--features: unknown feature 'z'"),
        (
            vec!["--activation", "swish"],
            "--activation: unknown activation 'swish'",
        ),
        (vec!["--noise", "70"], "--noise: 70 is outside 0–50"),
        (vec!["--data", csv_arg.as_str()], "points.csv:3:"),
        (
            vec!["--hidden", "8,8,2", "--features", "x1,x2,sinx1", "--xlsx", "big.xlsx"],
            "--xlsx: the network has 106 weights; the workbook holds at most 100",
        ),
        (
            vec!["--regularization", "l1", "--xlsx", "l1.xlsx"],
            "--xlsx: regularization l1 cannot be exported",
        ),
    ] {
        nnlab()
            .args(["backprop", "boundary"])
            .args(&args)
            .arg("--out")
            .arg(&out)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(words));
        assert!(!out.exists(), "{args:?} wrote its folder");
    }
    // A good CSV trains.
    std::fs::write(
        &csv,
        "x1,x2,label\n1,1,1\n2,2,1\n-1,-1,0\n-2,-2,0\n1.5,1,1\n-1.5,-1,0\n",
    )
    .unwrap();
    nnlab()
        .args([
            "backprop",
            "boundary",
            "--data",
            csv_arg.as_str(),
            "--hidden",
            "",
            "--epochs",
            "50",
            "--out",
        ])
        .arg(&out)
        .assert()
        .success();
    assert_eq!(metrics(&out)["layers"], serde_json::json!([2, 1]));
}

/// The trained network exported with `--pytorch` gives, in PyTorch (float64), the engine's output over
/// the plane (the web API's 50×50 grid for the same setup) to 1e-12. Needs `NNLAB_TORCH_PYTHON` (.ci/run
/// sets it); without it the test says so and passes, except under CI.
#[test]
fn the_pytorch_module_computes_the_engines_outputs() {
    let Some(py) = std::env::var_os("NNLAB_TORCH_PYTHON") else {
        assert!(std::env::var_os("CI").is_none(), "CI must set NNLAB_TORCH_PYTHON");
        eprintln!("skipped: NNLAB_TORCH_PYTHON is not set");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let module = tmp.path().join("net.py");
    nnlab()
        .args([
            "backprop",
            "boundary",
            "--data",
            "spiral",
            "--features",
            "x1,x2,sinx1,sinx2",
            "--hidden",
            "8,8",
        ])
        .args(["--activation", "relu", "--epochs", "120", "--pytorch"])
        .arg(&module)
        .arg("--out")
        .arg(tmp.path().join("out"))
        .assert()
        .success();
    let script = r#"
import importlib.util, json, sys, torch
spec = importlib.util.spec_from_file_location("net", sys.argv[1]); m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
net = m.load_trained()
res, s = 50, 12 / 50
xs = torch.tensor([-6 + (k % res + 0.5) * s for k in range(res * res)], dtype=torch.float64)
ys = torch.tensor([6 - (k // res + 0.5) * s for k in range(res * res)], dtype=torch.float64)
with torch.no_grad():
    print(json.dumps(net(m.Net.features(xs, ys)).squeeze(-1).tolist()))
"#;
    let out = std::process::Command::new(py)
        .args(["-c", script])
        .arg(&module)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let torch: Vec<f64> = serde_json::from_slice(&out.stdout).unwrap();
    let server = Server::start(tmp.path(), &[]);
    let api: Value = ureq::get(format!(
        "{}/api/boundary?data=spiral&features=x1,x2,sinx1,sinx2&hidden=8,8&activation=relu&epochs=120",
        server.url
    ))
    .call()
    .unwrap()
    .body_mut()
    .read_json()
    .unwrap();
    let engine: Vec<f64> = api["output"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert_eq!(torch.len(), engine.len());
    for (k, (a, b)) in torch.iter().zip(&engine).enumerate() {
        assert!((a - b).abs() < 1e-12, "cell {k}: PyTorch {a}, nnlab {b}");
    }
}
