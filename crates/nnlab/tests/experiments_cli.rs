//! Briefs and comparisons, run as a user runs them: `train --brief` judges each clause with its numbers
//! (a missed brief is still exit 0) and records the verdicts, and `compare` puts run folders side by side.

mod common;
use common::{json_stdout, nnlab};

use std::path::Path;

use predicates::prelude::*;

/// Writes `nnlab mnist report RUN --out OUT` and returns its report.md.
fn report_md(run: &Path, out: &Path) -> String {
    nnlab()
        .args(["mnist", "report"])
        .arg(run)
        .arg("--out")
        .arg(out)
        .assert()
        .success();
    std::fs::read_to_string(out.join("report.md")).unwrap()
}

fn quick(out: &Path, seed: &str, brief: &str) -> String {
    let output = nnlab()
        .args([
            "mnist",
            "train",
            "--train-limit",
            "600",
            "--test-limit",
            "200",
            "--batch-size",
            "50",
        ])
        .args([
            "--lr", "0.05", "--epochs", "2", "--seed", seed, "--brief", brief, "--out",
        ])
        .arg(out)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    String::from_utf8(output).unwrap()
}

#[test]
fn briefs_are_judged_clause_by_clause_and_runs_compared() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let out = quick(&a, "1", "8k");
    assert!(
        out.contains("brief '8k' (acc>=99.4,params<8000,epochs<=15,last=3): missed")
            && out.contains("  ✗ parameters < 8000: 18934")
            && out.contains("  ✓ epochs ≤ 15: 2")
            && out.contains("  ✗ test accuracy ≥ 99.4 % on each of the last 3 epochs: "),
        "{out}"
    );
    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(a.join("metrics.json")).unwrap()).unwrap();
    assert_eq!(metrics["brief"]["brief"], "acc>=99.4,params<8000,epochs<=15,last=3");
    assert_eq!(metrics["brief"]["met"], false);
    assert_eq!(metrics["brief"]["verdicts"][1]["detail"], "18934");
    let out = quick(&b, "2", "acc>=10,params<20000");
    assert!(out.contains("brief acc>=10,params<20000: met"), "{out}");

    let table = nnlab()
        .args(["mnist", "compare"])
        .arg(&a)
        .arg(&b)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let table = String::from_utf8(table).unwrap();
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 5, "{table}");
    assert!(lines[0].starts_with("run  model  params  epochs  recipe"), "{table}");
    let (fa, fb) = (metrics_final(&a) * 100.0, metrics_final(&b) * 100.0);
    assert_eq!(
        lines[4],
        format!(
            "final test accuracy over 2 runs: mean {:.3} %, min {:.2} %, max {:.2} %; brief met by 1 of 2",
            (fa + fb) / 2.0,
            fa.min(fb),
            fa.max(fb)
        ),
        "{table}"
    );
    let words: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(
        words[..7],
        ["a", "seed", "18934", "2/2", "seed,", "seed", "1"],
        "{table}"
    );
    assert!(lines[1].ends_with("✗ 2 of 3 missed"), "{table}");
    assert!(lines[2].ends_with("✓ met"), "{table}");
    let csv = nnlab()
        .args(["mnist", "compare", "--format", "csv"])
        .arg(&a)
        .arg(&b)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let csv = String::from_utf8(csv).unwrap();
    let row: Vec<&str> = csv.lines().nth(2).unwrap().split(',').collect();
    let final_test = metrics_final(&b);
    assert_eq!(row[9].parse::<f64>().unwrap(), final_test, "{csv}");
    let plot = dir.path().join("runs.png");
    nnlab()
        .args(["mnist", "compare", "--format", "markdown", "--plot"])
        .arg(&plot)
        .arg(&a)
        .arg(&b)
        .assert()
        .success()
        .stdout(predicate::str::starts_with("| run | model | params |"));
    assert_eq!(&std::fs::read(&plot).unwrap()[1..4], b"PNG");

    // The report of run a: Markdown with every section and its figures, computed from the checkpoint.
    let report = dir.path().join("report");
    nnlab()
        .args(["mnist", "report"])
        .arg(&a)
        .arg("--out")
        .arg(&report)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "report.md, curves.png, confusion.png, misclassified.png",
        ));
    let md = std::fs::read_to_string(report.join("report.md")).unwrap();
    for section in [
        "# Run `a`: model `seed`, 18934 parameters",
        "## The brief",
        "- ✗ parameters < 8000: 18934",
        "## The model",
        "input 1x28x28",
        "RF  jump",
        "## The recipe",
        "## Training log",
        "| 2 | ",
        "## Errors on the test set",
        "on 200 test images",
    ] {
        assert!(md.contains(section), "{section} missing from\n{md}");
    }
    for figure in ["curves.png", "confusion.png", "misclassified.png"] {
        assert_eq!(&std::fs::read(report.join(figure)).unwrap()[1..4], b"PNG", "{figure}");
    }
    nnlab()
        .args(["mnist", "report"])
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("metrics.json: cannot read it"));
    // MNIST missing: one line, and no report folder left behind.
    let nowhere = dir.path().join("no-report");
    nnlab()
        .args(["mnist", "report", "--offline", "--data-dir"])
        .arg(dir.path().join("no-data"))
        .arg(&a)
        .arg("--out")
        .arg(&nowhere)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("MNIST files are missing"));
    assert!(!nowhere.exists(), "a failed report must leave no folder");

    // A folder that is no run, and a brief that does not parse: one line each, exit 2.
    nnlab()
        .args(["mnist", "compare"])
        .arg(&a)
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("metrics.json: cannot read it (is").and(predicate::str::contains("a run folder")),
        );
    nnlab()
        .args(["mnist", "train", "--brief", "acc>=99.4,speed>3"])
        .assert()
        .code(2)
        .stderr("error: --brief 'acc>=99.4,speed>3': 'speed>3': unknown key 'speed' (known: acc, params, epochs, last, bn, dropout, gap)\n");
}

fn metrics_final(run: &Path) -> f64 {
    let (records, _) = common::epoch_records(run);
    records.last().unwrap()["test_accuracy"].as_f64().unwrap()
}

#[test]
fn lr_find_plots_the_range_test_and_suggests_a_rate() {
    let dir = tempfile::tempdir().unwrap();
    let plot = dir.path().join("lr.png");
    let out = nnlab()
        .args([
            "mnist",
            "lr-find",
            "--train-limit",
            "3000",
            "--batch-size",
            "32",
            "--steps",
            "80",
            "--out",
        ])
        .arg(&plot)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let out = String::from_utf8(out).unwrap();
    let suggested: f64 = out
        .lines()
        .find_map(|l| l.strip_prefix("suggested lr: "))
        .unwrap_or_else(|| panic!("no suggestion in {out}"))
        .parse()
        .unwrap();
    assert!((1e-7..10.0).contains(&suggested), "{out}");
    assert!(
        out.contains("stopped early: diverged at lr"),
        "a rate of 10 diverges: {out}"
    );
    assert_eq!(&std::fs::read(&plot).unwrap()[1..4], b"PNG");
    let v = json_stdout(nnlab().args([
        "mnist",
        "lr-find",
        "--train-limit",
        "1000",
        "--batch-size",
        "32",
        "--steps",
        "20",
        "--json",
    ]));
    let points = v["points"].as_array().unwrap();
    assert!(points.len() >= 3 && v["suggested_lr"].as_f64().unwrap() > 0.0);
    let lrs: Vec<f64> = points.iter().map(|p| p["lr"].as_f64().unwrap()).collect();
    assert!(
        lrs.windows(2).all(|w| w[1] > w[0] * 1.5),
        "rates grow exponentially: {lrs:?}"
    );
    nnlab()
        .args(["mnist", "lr-find", "--start-lr", "1", "--end-lr", "0.1"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "--start-lr and --end-lr must be finite with 0 < start < end",
        ));
}

#[test]
fn adam_and_adamw_train_and_resume_exactly_with_their_moments_in_the_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let run = |out: &Path, epochs: &str, extra: &[&str]| {
        nnlab()
            .args([
                "mnist",
                "train",
                "--train-limit",
                "600",
                "--test-limit",
                "200",
                "--batch-size",
                "50",
            ])
            .args(["--epochs", epochs, "--out"])
            .arg(out)
            .args(extra)
            .assert()
            .success()
            .get_output()
            .stdout
            .clone()
    };
    let adam = ["--optimizer", "adam", "--lr", "0.003", "--weight-decay", "0.01"];
    let (full, half, resumed) = (
        dir.path().join("full"),
        dir.path().join("half"),
        dir.path().join("resumed"),
    );
    let out = String::from_utf8(run(&full, "2", &adam)).unwrap();
    assert!(
        out.contains("Adam, lr 0.003, betas (0.9, 0.999), eps 1e-8, weight decay 0.01"),
        "{out}"
    );
    run(&half, "1", &adam);
    let bytes = std::fs::read(half.join("last.safetensors")).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    assert!(st.tensor("optimizer.fc.weight.exp_avg_sq").is_ok() && st.tensor("optimizer.fc.weight.exp_avg").is_ok());
    let checkpoint = half.join("last.safetensors");
    run(&resumed, "2", &["--resume", checkpoint.to_str().unwrap()]);
    assert_eq!(common::epoch_records(&resumed).0, common::epoch_records(&full).0);
    let out = String::from_utf8(run(
        &dir.path().join("w"),
        "1",
        &["--optimizer", "adamw", "--weight-decay", "0.05"],
    ))
    .unwrap();
    assert!(out.contains("AdamW, lr 0.01"), "{out}");
    nnlab()
        .args(["mnist", "train", "--optimizer", "adam", "--nesterov"])
        .assert()
        .code(2)
        .stderr("error: --nesterov is a form of SGD momentum: it needs --optimizer sgd\n");
    nnlab()
        .args(["mnist", "train", "--optimizer", "sgd", "--resume"])
        .arg(half.join("last.safetensors"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--optimizer sgd (the run has adam)"));
}

#[test]
fn label_smoothing_trains_is_recorded_and_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    let (plain, smooth) = (dir.path().join("plain"), dir.path().join("smooth"));
    for (out, eps) in [(&plain, "0"), (&smooth, "0.1")] {
        nnlab()
            .args([
                "mnist",
                "train",
                "--train-limit",
                "600",
                "--test-limit",
                "200",
                "--batch-size",
                "50",
            ])
            .args(["--epochs", "1", "--label-smoothing", eps, "--out"])
            .arg(out)
            .assert()
            .success();
    }
    let config = common::config_json(&smooth);
    assert_eq!(config["label_smoothing"], 0.1);
    // The smoothed training loss includes ε/K·Σ −log p over every class: higher than the plain one.
    let loss = |d: &Path| common::epoch_records(d).0[0]["train_loss"].as_f64().unwrap();
    assert!(loss(&smooth) > loss(&plain), "{} vs {}", loss(&smooth), loss(&plain));
    nnlab()
        .args(["mnist", "train", "--label-smoothing", "1.5"])
        .assert()
        .code(2)
        .stderr("error: --label-smoothing must be in [0, 1), got 1.5\n");
}

#[test]
fn each_augmentation_can_be_set_or_switched_off() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    nnlab()
        .args([
            "mnist",
            "train",
            "--train-limit",
            "300",
            "--test-limit",
            "100",
            "--batch-size",
            "50",
        ])
        .args([
            "--epochs",
            "1",
            "--translate",
            "2",
            "--rotation",
            "0",
            "--crop-probability",
            "0",
            "--out",
        ])
        .arg(&out)
        .assert()
        .success();
    let config = common::config_json(&out);
    assert_eq!(
        (
            &config["max_shift"],
            &config["max_degrees"],
            &config["crop_probability"]
        ),
        (&serde_json::json!(2), &serde_json::json!(0.0), &serde_json::json!(0.0))
    );
    let md = report_md(&out, &dir.path().join("report"));
    assert!(
        md.contains("| augmentation | centre crop + resize with p = 0, rotation ±0°, translation ±2 px |")
            && md.contains("--crop-probability 0 --rotation 0 --translate 2"),
        "{md}"
    );
    nnlab()
        .args(["mnist", "train", "--translate", "20"])
        .assert()
        .code(2)
        .stderr("error: --translate must be at most 14 pixels (half the image), got 20\n");
}

#[test]
fn the_last_epochs_can_train_without_augmentation() {
    let dir = tempfile::tempdir().unwrap();
    let run = |out: &Path, extra: &[&str]| {
        let stdout = nnlab()
            .args(["mnist", "train", "--train-limit", "300", "--test-limit", "100"])
            .args(["--batch-size", "50", "--epochs", "2", "--translate", "2", "--out"])
            .arg(out)
            .args(extra)
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        String::from_utf8(stdout).unwrap()
    };
    let (augmented, clean) = (dir.path().join("augmented"), dir.path().join("clean"));
    run(&augmented, &[]);
    let log = run(&clean, &["--clean-epochs", "1"]);
    assert!(
        log.contains("augmentation off in the last 1 epochs (from epoch 2): they train on the images as they are"),
        "{log}"
    );
    // The same first epoch; the second sees other (undistorted) images, so it trains to other numbers.
    let (a, c) = (common::epoch_records(&augmented).0, common::epoch_records(&clean).0);
    assert_eq!(a[0], c[0]);
    assert_ne!(a[1]["train_loss"], c[1]["train_loss"]);
    let config = common::config_json(&clean);
    assert_eq!(config["clean_epochs"], 1);
    let plain = common::config_json(&augmented);
    assert!(plain.get("clean_epochs").is_none(), "written only when used");
    // The run's config.json re-creates it, and the report writes the flag out.
    let again = dir.path().join("again");
    run(&again, &["--recipe", clean.join("config.json").to_str().unwrap()]);
    assert_eq!(common::epoch_records(&again).0, c);
    let md = report_md(&clean, &dir.path().join("report"));
    assert!(
        md.contains("translation ±2 px; none in the last 1 epochs |") && md.contains(" --clean-epochs 1"),
        "{md}"
    );
    // A resumed run keeps its augmentation; more clean epochs than epochs is refused.
    let checkpoint = augmented.join("last.safetensors");
    nnlab()
        .args(["mnist", "train", "--epochs", "3", "--clean-epochs", "1", "--resume"])
        .arg(&checkpoint)
        .args(["--out"])
        .arg(dir.path().join("resumed"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--clean-epochs 1 (the run has 0)"));
    nnlab()
        .args(["mnist", "train", "--epochs", "2", "--clean-epochs", "3"])
        .assert()
        .code(2)
        .stderr(
            "error: --clean-epochs must be at most the 2 epochs (the last N epochs train without augmentation), got 3\n",
        );
}
