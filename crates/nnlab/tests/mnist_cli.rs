//! `nnlab mnist …` run as a user runs it, on the real MNIST files (MNIST_DIR, default ../shared/mnist).

mod common;
use common::{json_stdout, nnlab};

use std::path::Path;

use predicates::prelude::*;

/// A quick real-data run: 2,000 training images, 1,000 test images, batch 64, lr 0.05.
fn quick_train(out: &Path, extra: &[&str]) {
    let quick = "--train-limit 2000 --test-limit 1000 --threads 2 --batch-size 64 --lr 0.05";
    nnlab()
        .args(["mnist", "train"])
        .args(quick.split(' '))
        .arg("--out")
        .arg(out)
        .args(extra)
        .assert()
        .success();
}

fn records(out: &Path) -> Vec<serde_json::Value> {
    let (records, params) = common::epoch_records(out);
    assert_eq!(params, 18934);
    records
}

#[test]
fn summary_counts_18934_parameters() {
    nnlab().args(["mnist", "summary"]).assert().success().stdout(
        predicate::str::contains("total trainable parameters: 18934").and(predicate::str::contains("convblock8")),
    );
}

#[test]
fn info_reports_counts_statistics_and_draws_grids() {
    let dir = tempfile::tempdir().unwrap();
    let (grid, aug) = (dir.path().join("grid.png"), dir.path().join("aug.png"));
    nnlab()
        .args(["mnist", "info", "--offline", "--grid"])
        .arg(&grid)
        .arg("--augment-grid")
        .arg(&aug)
        .assert()
        .success()
        .stdout(
            predicate::str::contains("train: 60000 images, test: 10000 images")
                .and(predicate::str::contains("mean 0.1307, std 0.3081"))
                .and(predicate::str::contains("test      980   1135")),
        );
    for p in [grid, aug] {
        assert_eq!(&std::fs::read(p).unwrap()[1..4], b"PNG");
    }
}

#[test]
fn a_short_real_run_learns_and_resuming_gives_the_same_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let (full, half, resumed, again) = (
        dir.path().join("full"),
        dir.path().join("half"),
        dir.path().join("resumed"),
        dir.path().join("again"),
    );
    quick_train(&full, &["--epochs", "3", "--seed", "3"]);
    for f in [
        "config.json",
        "metrics.json",
        "metrics.csv",
        "curves.png",
        "last.safetensors",
        "best.safetensors",
    ] {
        assert!(full.join(f).is_file(), "{f} missing");
    }
    let full_records = records(&full);
    assert_eq!(full_records.len(), 3);
    let acc = full_records[2]["test_accuracy"].as_f64().unwrap();
    assert!(
        acc > 0.8,
        "3 epochs on 2,000 images should be far above chance, got {acc}"
    );

    quick_train(&half, &["--epochs", "2", "--seed", "3"]);
    nnlab()
        .args(["mnist", "train", "--epochs", "3", "--out"])
        .arg(&resumed)
        .arg("--resume")
        .arg(half.join("last.safetensors"))
        .assert()
        .success()
        .stdout(predicate::str::contains("resuming after epoch 2"));
    assert_eq!(
        records(&resumed),
        full_records,
        "resumed run must equal the uninterrupted one"
    );

    quick_train(&again, &["--epochs", "3", "--seed", "3"]);
    assert_eq!(
        records(&again),
        full_records,
        "same seed, same thread count: same numbers"
    );
}

#[test]
fn bad_checkpoints_and_flags_give_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.safetensors");
    nnlab()
        .args(["mnist", "train", "--resume"])
        .arg(&missing)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no such checkpoint file"));

    let wrong = dir.path().join("wrong.safetensors");
    let bytes = vec![0u8; 12 * 4 * 4];
    let view = safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![12, 1, 2, 2], &bytes).unwrap();
    std::fs::write(
        &wrong,
        safetensors::serialize([("convblock1.0.weight", view)], None).unwrap(),
    )
    .unwrap();
    nnlab()
        .args(["mnist", "train", "--resume"])
        .arg(&wrong)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "holds no model description (a plain state_dict?): pass --model NAME|FILE",
        ));
    nnlab()
        .args(["mnist", "eval", "--model", "seed", "--checkpoint"])
        .arg(&wrong)
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("does not fit the model 'seed': missing convblock1.2.weight, convblock1.2.bias")
                .and(predicate::str::contains(
                    "convblock1.0.weight is F32 [12, 1, 2, 2], the model needs F32 [12, 1, 3, 3]",
                )),
        );

    let truncated = dir.path().join("truncated.safetensors");
    std::fs::write(&truncated, b"\x10\x00\x00\x00\x00\x00\x00\x00{\"a\":").unwrap();
    nnlab()
        .args(["mnist", "train", "--resume"])
        .arg(&truncated)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not a readable safetensors checkpoint"));

    let empty = dir.path().join("empty-data");
    std::fs::create_dir(&empty).unwrap();
    nnlab()
        .args(["mnist", "info", "--offline", "--data-dir"])
        .arg(&empty)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("MNIST files are missing").and(predicate::str::contains("--offline")));
    // Two of the four files present: the other two are named, by info, train and eval alike.
    let half = dir.path().join("half-data");
    std::fs::create_dir(&half).unwrap();
    for f in ["train-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"] {
        std::fs::copy(common::mnist_dir().join(f), half.join(f)).unwrap();
    }
    let named = format!(
        "MNIST files are missing in {} (from --data-dir): train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz (each looked for as .gz and raw)",
        half.display()
    );
    let cwd = dir.path().join("cwd");
    std::fs::create_dir(&cwd).unwrap();
    for args in [
        vec!["mnist", "info", "--offline"],
        vec!["mnist", "train", "--offline", "--epochs", "1"],
    ] {
        nnlab()
            .current_dir(&cwd)
            .args(&args)
            .arg("--data-dir")
            .arg(&half)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(named.as_str()));
    }
    assert_eq!(
        std::fs::read_dir(&cwd).unwrap().count(),
        0,
        "a failed train must leave no run folder"
    );
    for (flag, value, message) in [
        ("--epochs", "0", "--epochs must be at least 1"),
        ("--batch-size", "0", "--batch-size must be at least 1"),
        ("--momentum", "1.5", "--momentum must be in [0, 1)"),
        // The flags and recipe files share one range check; each names the value its own way.
        ("--lr", "0", "--lr must be a finite number > 0, got 0"),
        ("--gamma", "0", "--gamma must be in (0, 1], got 0"),
        ("--rotation", "200", "--rotation must be in [0, 180] degrees, got 200"),
    ] {
        nnlab()
            .args(["mnist", "train", "--out"])
            .arg(dir.path().join("x"))
            .args([flag, value])
            .assert()
            .code(2)
            .stderr(predicate::str::contains(message));
    }
}

#[test]
fn bench_reports_speeds_and_a_profile_per_layer_as_json_and_text() {
    let v = json_stdout(nnlab().args([
        "mnist",
        "bench",
        "--batch-size",
        "16",
        "--steps",
        "2",
        "--profile",
        "--json",
    ]));
    assert!(v["train_images_per_sec"].as_f64().unwrap() > 0.0);
    assert!(v["eval_images_per_sec"].as_f64().unwrap() > 0.0);
    // The ceiling: the seed model's 2,748,208 multiply-adds per image, 3× less the first block's ∂x in
    // training, and a fraction of the measured peak that lies in (0, 1).
    assert_eq!(v["macs_per_image"].as_f64(), Some(2_748_208.0));
    assert_eq!(v["train_macs_per_image"].as_f64(), Some(3.0 * 2_748_208.0 - 73_008.0));
    assert!(v["peak_macs_per_sec"].as_f64().unwrap() > 1e8);
    for key in ["train_peak_fraction", "eval_peak_fraction"] {
        let f = v[key].as_f64().unwrap();
        assert!(f > 0.0 && f < 1.0, "{key} {f}");
    }
    let profile = v["profile_ms_per_step"].as_object().unwrap();
    for layer in [
        "convblock1",
        "convblock2",
        "convblock3",
        "pool1",
        "convblock4",
        "convblock5",
        "convblock6",
        "pool2",
        "convblock7",
        "convblock8",
        "global_avg_pool",
        "fc",
    ] {
        let row = &profile[layer];
        for key in ["forward", "backward", "eval"] {
            assert!(row[key].as_f64().unwrap() > 0.0, "{layer}.{key} in {row}");
        }
    }
    assert!(profile["sgd"]["update"].as_f64().unwrap() > 0.0);
    nnlab()
        .args(["mnist", "bench", "--batch-size", "8", "--steps", "1", "--profile"])
        .assert()
        .success()
        .stdout(predicate::str::contains("eval fwd").and(predicate::str::contains("phase backward")));
    nnlab()
        .args(["mnist", "bench", "--steps", "0"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--steps"));
}
