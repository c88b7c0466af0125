//! Recipes as files, run as a user runs them: the shipped `tuned` file trains exactly as the hard-coded
//! recipe did, a run is re-created from its own config.json, every schedule and optimizer of a TOML file
//! trains, and a bad recipe is one line naming the file, the line and the key, with nothing written.

mod common;
use common::{epoch_records, nnlab};

use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn metrics_csv_without_seconds(run: &Path) -> Vec<String> {
    std::fs::read_to_string(run.join("metrics.csv"))
        .unwrap()
        .lines()
        .map(|l| l.rsplit_once(',').unwrap().0.to_string())
        .collect()
}

/// `--recipe tuned` (recipes/tuned.toml) with the peak it had then, `--lr 0.05`, and no weight averaging,
/// `--ema 0`, gives the numbers the hard-coded tuned recipe gave: these lines are the metrics.csv of the
/// binary of commit 3dd6bbc (before recipe files) for the same command. (The file's own peak is now the
/// re-tuned 0.08, and it averages the weights with decay 0.999.)
#[test]
fn the_shipped_tuned_file_trains_exactly_as_the_hard_coded_recipe_did() {
    let dir = tempfile::tempdir().unwrap();
    for (k, recipe) in ["tuned", repo().join("recipes/tuned.toml").to_str().unwrap()]
        .into_iter()
        .enumerate()
    {
        let out = dir.path().join(format!("run{k}"));
        nnlab()
            .args([
                "mnist", "train", "--recipe", recipe, "--lr", "0.05", "--ema", "0", "--seed", "1", "--epochs", "2",
            ])
            .args(["--train-limit", "3000", "--test-limit", "500", "--out"])
            .arg(&out)
            .assert()
            .success();
        assert_eq!(
            metrics_csv_without_seconds(&out),
            [
                "epoch,train_loss,train_accuracy,test_loss,test_accuracy,lr",
                "1,1.900009458636548,0.36233333333333334,1.9795927046421733,0.306,0.036490485072135925",
                "2,1.020380348721586,0.7313333333333333,1.012897931101111,0.704,0.00033319980138912797",
            ],
            "{recipe}"
        );
    }
}

#[test]
fn a_run_is_re_created_from_its_own_config_json() {
    let dir = tempfile::tempdir().unwrap();
    let (first, again) = (dir.path().join("first"), dir.path().join("again"));
    nnlab()
        .args([
            "mnist",
            "train",
            "--model",
            "separable",
            "--optimizer",
            "adamw",
            "--lr",
            "0.003",
        ])
        .args([
            "--weight-decay",
            "0.01",
            "--translate",
            "2",
            "--label-smoothing",
            "0.1",
            "--seed",
            "7",
        ])
        .args([
            "--epochs",
            "2",
            "--batch-size",
            "64",
            "--train-limit",
            "1500",
            "--test-limit",
            "300",
            "--out",
        ])
        .arg(&first)
        .assert()
        .success();
    let config = common::config_json(&first);
    assert!(config["model_text"].as_str().unwrap().contains("groups"));
    // Only the folder is needed: the model comes from the config's own model text.
    nnlab()
        .args(["mnist", "train", "--recipe"])
        .arg(first.join("config.json"))
        .arg("--out")
        .arg(&again)
        .assert()
        .success();
    assert_eq!(epoch_records(&first), epoch_records(&again));
    let again_config = common::config_json(&again);
    assert_eq!(config, again_config);
}

#[test]
fn every_schedule_of_a_recipe_file_trains_and_is_recorded() {
    let dir = tempfile::tempdir().unwrap();
    for (k, schedule) in [
        "kind = \"onecycle\"",
        "kind = \"cosine\"\neta_min = 0.0005",
        "kind = \"constant\"",
    ]
    .into_iter()
    .enumerate()
    {
        let recipe = dir.path().join(format!("r{k}.toml"));
        std::fs::write(
            &recipe,
            format!(
                "epochs = 2\nbatch_size = 64\n[optimizer]\nkind = \"sgd\"\nlr = 0.05\nmomentum = 0.9\nnesterov = true\n[schedule]\n{schedule}\n[augmentation]\ntranslate = 1\n"
            ),
        )
        .unwrap();
        let out = dir.path().join(format!("run{k}"));
        nnlab()
            .args(["mnist", "train", "--recipe"])
            .arg(&recipe)
            .args(["--train-limit", "640", "--test-limit", "200", "--out"])
            .arg(&out)
            .assert()
            .success();
        let config = common::config_json(&out);
        assert_eq!(config["recipe"], format!("r{k}"));
        let kind = schedule.split('"').nth(1).unwrap();
        assert_eq!(config["schedule"]["kind"], kind);
        let (records, _) = epoch_records(&out);
        let lr = |e: usize| records[e]["lr"].as_f64().unwrap();
        match kind {
            // The last step of one-cycle is max_lr / 25 / 1e4.
            "onecycle" => assert!((lr(1) - 0.05 / 25.0 / 1e4).abs() < 1e-9, "{}", lr(1)),
            "cosine" => assert!(lr(1) < lr(0) && lr(1) > 0.0005),
            _ => assert_eq!(lr(0), lr(1)),
        }
    }
}

#[test]
fn a_bad_recipe_is_one_line_with_file_line_and_key_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let seed = std::fs::read_to_string(repo().join("recipes/seed.toml")).unwrap();
    let cases = [
        (
            seed.replace("batch_size = 256", "batch_sise = 256"),
            "line 7: unknown key 'batch_sise'",
        ),
        (
            seed.replace("lr = 0.01", "lr = 0"),
            "optimizer.lr: must be a finite number > 0, got 0",
        ),
        (
            seed.replace("gamma = 0.9", "gamma = 0.9\nwarmup = 0.1"),
            "unknown key 'warmup'",
        ),
        (seed.replace("kind = \"sgd\"", "kind = \"rmsprop\""), "rmsprop"),
        ("epochs = [".to_string(), "line 1"),
    ];
    for (k, (text, words)) in cases.into_iter().enumerate() {
        let recipe = dir.path().join(format!("bad{k}.toml"));
        std::fs::write(&recipe, text).unwrap();
        let out = dir.path().join(format!("run{k}"));
        let result = nnlab()
            .args(["mnist", "train", "--recipe"])
            .arg(&recipe)
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap();
        let err = String::from_utf8(result.stderr).unwrap();
        assert_eq!(result.status.code(), Some(2), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(&format!("--recipe {}", recipe.display())), "{err}");
        assert!(err.contains(words), "{words}: {err}");
        assert!(!out.exists());
    }
    let err = nnlab()
        .args(["mnist", "train", "--recipe", "fastest"])
        .output()
        .unwrap();
    assert_eq!(err.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&err.stderr).contains("not a shipped recipe (seed, tuned"));
}

#[test]
fn validation_holds_out_training_images_and_leaves_the_test_set_alone() {
    let dir = tempfile::tempdir().unwrap();
    // The same small run, evaluated either on held-out training images or on the test set.
    let run = |evaluate_on: &[&str], out: &Path| {
        nnlab()
            .args([
                "mnist",
                "train",
                "--epochs",
                "1",
                "--train-limit",
                "1000",
                "--batch-size",
                "100",
            ])
            .args(evaluate_on)
            .arg("--out")
            .arg(out)
            .output()
            .unwrap()
    };
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let out = run(&["--validation", "2000"], &a);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("validation: the last 2000 training images are held out"),
        "{text}"
    );
    let config = common::config_json(&a);
    assert_eq!(config["validation"], 2000);
    // The same run evaluated on the test set instead gives other numbers.
    assert!(run(&["--test-limit", "2000"], &b).status.success());
    let (ra, _) = epoch_records(&a);
    let (rb, _) = epoch_records(&b);
    assert_eq!(ra[0]["train_loss"], rb[0]["train_loss"]);
    assert_ne!(ra[0]["test_loss"], rb[0]["test_loss"]);
    let bad = run(&["--validation", "0"], &dir.path().join("c"));
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--validation must hold out 1 to 59999"));
}
