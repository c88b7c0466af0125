//! What goes wrong when people try things, run as they would: a learning rate that diverges, an image
//! that declares 400 million pixels, Ctrl-C in the middle of training, and `--resume` with a recipe
//! that contradicts the checkpoint.

mod common;
use common::{mnist_dir, nnlab};

use std::path::Path;
use std::time::{Duration, Instant};

use predicates::prelude::*;

fn metrics(out: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap()).unwrap()
}

#[test]
fn a_diverging_run_stops_at_once_and_leaves_no_nan_model() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    nnlab()
        .args([
            "mnist",
            "train",
            "--lr",
            "1000",
            "--train-limit",
            "2000",
            "--test-limit",
            "500",
            "--epochs",
            "3",
        ])
        .arg("--out")
        .arg(&out)
        .assert()
        .code(3)
        .stderr(
            predicate::str::is_match(
                r"^error: training diverged in epoch 1 at step \d+ \(lr 1000\): the (loss|gradient)",
            )
            .unwrap()
            .and(predicate::str::contains("no checkpoint was written"))
            .and(predicate::str::contains("try --lr 100")),
        );
    let m = metrics(&out);
    assert_eq!(m["stopped"]["reason"], "diverged");
    assert_eq!(m["stopped"]["lr"], 1000.0);
    assert_eq!(m["epochs"].as_array().unwrap().len(), 0);
    assert!(
        !out.join("last.safetensors").exists(),
        "a diverged model must not be saved"
    );
}

/// A PNG whose header declares `side`×`side` pixels, followed by a few bytes of (zero) image data.
fn declared_png(side: u32) -> Vec<u8> {
    use std::io::Write;
    let chunk = |kind: &[u8], data: &[u8]| {
        let mut crc = flate2::Crc::new();
        crc.update(kind);
        crc.update(data);
        [
            &(data.len() as u32).to_be_bytes()[..],
            kind,
            data,
            &crc.sum().to_be_bytes(),
        ]
        .concat()
    };
    let mut ihdr = [side.to_be_bytes(), side.to_be_bytes()].concat();
    ihdr.extend([8, 0, 0, 0, 0]);
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    z.write_all(&vec![0u8; 4 * (side as usize + 1)]).unwrap();
    [
        &b"\x89PNG\r\n\x1a\n"[..],
        &chunk(b"IHDR", &ihdr),
        &chunk(b"IDAT", &z.finish().unwrap()),
        &chunk(b"IEND", &[]),
    ]
    .concat()
}

#[test]
fn an_image_declaring_huge_dimensions_is_refused_before_decoding() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    nnlab()
        .args([
            "mnist",
            "train",
            "--train-limit",
            "500",
            "--test-limit",
            "100",
            "--epochs",
            "1",
            "--out",
        ])
        .arg(&out)
        .assert()
        .success();
    let huge = dir.path().join("huge.png");
    std::fs::write(&huge, declared_png(20_000)).unwrap();
    assert!(std::fs::metadata(&huge).unwrap().len() < 1_000);
    let started = Instant::now();
    nnlab()
        .args(["mnist", "predict", "--checkpoint"])
        .arg(out.join("last.safetensors"))
        .arg(&huge)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!(
            "{}: the image is 20000×20000 pixels, larger than the 4096×4096 limit (--max-image-side); refused before decoding",
            huge.display()
        )));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "refused from the header, not decoded"
    );
    // Raising the side limit still leaves the decoder's allocation cap.
    nnlab()
        .args(["mnist", "predict", "--max-image-side", "30000", "--checkpoint"])
        .arg(out.join("last.safetensors"))
        .arg(&huge)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("decoding it needs more than 256 MB; refused"));
}

#[test]
fn ctrl_c_stops_cleanly_and_says_how_to_resume() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("nnlab"))
        .env("MNIST_DIR", mnist_dir())
        .args([
            "mnist",
            "train",
            "--train-limit",
            "4000",
            "--test-limit",
            "500",
            "--batch-size",
            "50",
            "--epochs",
            "6",
        ])
        .arg("--out")
        .arg(&out)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while !out.join("last.safetensors").exists() {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the first epoch never finished"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(300));
    // SAFETY: sends SIGINT to the child we started.
    assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) }, 0);
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(130));
    let stderr = String::from_utf8(output.stderr).unwrap();
    let last = out.join("last.safetensors");
    assert!(stderr.contains("interrupted in epoch "), "{stderr}");
    let command = format!("nnlab mnist train --resume {} --out {}", last.display(), out.display());
    assert!(stderr.contains(&command), "{stderr}");
    let m = metrics(&out);
    assert_eq!(m["stopped"]["reason"], "interrupted");
    let saved = m["epochs"].as_array().unwrap().len();
    assert!(
        saved >= 1 && stderr.contains(&format!("holds epoch {saved}")),
        "{stderr}"
    );
    // The printed command continues the run.
    nnlab()
        .args(command.split(' ').skip(1))
        .assert()
        .success()
        .stdout(predicate::str::contains(format!("resuming after epoch {saved}")));
    assert_eq!(metrics(&out)["epochs"].as_array().unwrap().len(), 6);
    assert!(metrics(&out).get("stopped").is_none());
}

#[test]
fn resume_refuses_a_contradicting_recipe_and_records_more_epochs() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let quick = ["--train-limit", "500", "--test-limit", "100", "--batch-size", "50"];
    nnlab()
        .args(["mnist", "train", "--epochs", "1"])
        .args(quick)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let last = out.join("last.safetensors");
    nnlab()
        .args(["mnist", "train", "--batch-size", "64", "--lr", "0.1", "--recipe", "seed", "--resume"])
        .arg(&last)
        .assert()
        .code(2)
        .stderr(
            "error: --resume continues the checkpoint's run exactly, and these would change it: --batch-size 64 (the run has 50), --lr 0.1 (the run has 0.01); leave them out, or start a new run\n",
        );
    let more = dir.path().join("more");
    nnlab()
        .args(["mnist", "train", "--epochs", "2", "--batch-size", "50", "--out"])
        .arg(&more)
        .arg("--resume")
        .arg(&last)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "resumed after epoch 1: epochs 1 → 2 (recorded in config.json)",
        ));
    let config = common::config_json(&more);
    assert_eq!(
        config["changes"],
        serde_json::json!(["resumed after epoch 1: epochs 1 → 2"])
    );
    assert_eq!(config["epochs"], 2);
}
