//! Weight averaging (`--ema DECAY`, `ema_decay` in a recipe), run as a user runs it: the weights under
//! optimisation train exactly as without it while the test columns are the average's; the checkpoint holds
//! the average (its evaluation is the last epoch's test accuracy) and the trained weights beside it, so a
//! resumed run matches an uninterrupted one; config.json re-creates the run; bad values are one line.

mod common;
use common::{epoch_records, json_stdout, nnlab};

use std::path::Path;

fn train(out: &Path, epochs: &str, extra: &[&str]) {
    nnlab()
        .args(["mnist", "train", "--recipe", "seed", "--seed", "3", "--epochs", epochs])
        .args(["--train-limit", "2000", "--batch-size", "64", "--lr", "0.05", "--out"])
        .arg(out)
        .args(extra)
        .assert()
        .success();
}

fn column(records: &[serde_json::Value], key: &str) -> Vec<f64> {
    records.iter().map(|r| r[key].as_f64().unwrap()).collect()
}

#[test]
fn the_average_is_evaluated_and_checkpointed_and_a_resumed_run_matches() {
    let dir = tempfile::tempdir().unwrap();
    let (plain, averaged) = (dir.path().join("plain"), dir.path().join("ema"));
    train(&plain, "2", &[]);
    train(&averaged, "2", &["--ema", "0.9"]);
    let (p, _) = epoch_records(&plain);
    let (a, _) = epoch_records(&averaged);
    assert_eq!(
        column(&p, "train_loss"),
        column(&a, "train_loss"),
        "averaging leaves the training itself alone"
    );
    assert_ne!(
        column(&p, "test_loss"),
        column(&a, "test_loss"),
        "the test columns are the average's"
    );

    // The checkpoint is the average: evaluating it gives the last epoch's test numbers.
    let eval = json_stdout(
        nnlab()
            .args(["mnist", "eval", "--json", "--checkpoint"])
            .arg(averaged.join("last.safetensors")),
    );
    let last = a.last().unwrap();
    assert_eq!(eval["test_accuracy"].as_f64(), last["test_accuracy"].as_f64(), "{eval}");

    // Stopped after one epoch and resumed: the same numbers as the uninterrupted run.
    let (half, resumed) = (dir.path().join("half"), dir.path().join("resumed"));
    train(&half, "1", &["--ema", "0.9"]);
    nnlab()
        .args(["mnist", "train", "--epochs", "2", "--resume"])
        .arg(half.join("last.safetensors"))
        .arg("--out")
        .arg(&resumed)
        .assert()
        .success();
    assert_eq!(epoch_records(&resumed).0, a);

    // Another decay on resume would change the run: refused.
    let refused = nnlab()
        .args(["mnist", "train", "--epochs", "3", "--ema", "0.5", "--resume"])
        .arg(averaged.join("last.safetensors"))
        .arg("--out")
        .arg(dir.path().join("other"))
        .assert()
        .code(2)
        .get_output()
        .stderr
        .clone();
    let refused = String::from_utf8_lossy(&refused);
    assert!(refused.contains("--ema 0.5 (the run has 0.9)"), "{refused}");

    // The folder alone re-creates the run.
    let config = common::config_json(&averaged);
    assert_eq!(config["ema_decay"], 0.9);
    let again = dir.path().join("again");
    nnlab()
        .args(["mnist", "train", "--recipe"])
        .arg(averaged.join("config.json"))
        .arg("--out")
        .arg(&again)
        .assert()
        .success();
    assert_eq!(epoch_records(&again).0, a);
    let plain_config = common::config_json(&plain);
    assert!(
        plain_config.get("ema_decay").is_none(),
        "runs without it keep their old config.json"
    );
}

#[test]
fn a_decay_outside_zero_to_one_is_one_line_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let assert = nnlab()
        .args(["mnist", "train", "--ema", "1.5", "--out"])
        .arg(&out)
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    assert_eq!(
        stderr.trim(),
        "error: --ema must be in [0, 1) (0: no weight averaging), got 1.5"
    );
    assert!(!out.exists());
}
