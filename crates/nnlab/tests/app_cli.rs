//! What the application crate (`nnlab-app`) does for the CLI, run as a user runs it: a recipe judged by its
//! own brief, a resumed run refusing every setting that would change it (`--validation` too), `report`
//! finding the data its run recorded, every image format `predict` names, and help texts that name every
//! shipped model and every MNIST command.

mod common;

use common::{config_json, epoch_records, mnist_dir, nnlab, tiny_run};
use image::GrayImage;
use nnlab_mnist::Mnist;
use serde_json::Value;

fn metrics(run: &std::path::Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(run.join("metrics.json")).unwrap()).unwrap()
}

#[test]
fn a_recipe_is_judged_by_its_own_brief_unless_one_is_given() {
    let dir = tempfile::tempdir().unwrap();
    let quick = ["--epochs", "1", "--train-limit", "2000", "--test-limit", "500"];
    let own = dir.path().join("own");
    nnlab()
        .args(["mnist", "train", "--recipe", "small8k"])
        .args(quick)
        .arg("--out")
        .arg(&own)
        .assert()
        .success()
        .stdout(predicates::str::contains(
            "brief '8k' (acc>=99.4,params<8000,epochs<=15,last=3)",
        ));
    assert_eq!(
        metrics(&own)["brief"]["brief"],
        "acc>=99.4,params<8000,epochs<=15,last=3"
    );
    assert_eq!(config_json(&own)["brief"], "8k");
    let given = dir.path().join("given");
    nnlab()
        .args(["mnist", "train", "--recipe", "small8k", "--brief", "acc>=90"])
        .args(quick)
        .arg("--out")
        .arg(&given)
        .assert()
        .success();
    assert_eq!(metrics(&given)["brief"]["brief"], "acc>=90");
    // The run's config.json re-creates it with the same brief.
    let again = dir.path().join("again");
    nnlab()
        .args(["mnist", "train", "--recipe"])
        .arg(given.join("config.json"))
        .arg("--out")
        .arg(&again)
        .assert()
        .success();
    assert_eq!(metrics(&again)["brief"]["brief"], "acc>=90");
    assert_eq!(epoch_records(&again), epoch_records(&given));
}

#[test]
fn a_resumed_run_refuses_a_validation_split_it_did_not_have() {
    let dir = tempfile::tempdir().unwrap();
    let run = tiny_run(dir.path(), "run");
    let out = dir.path().join("resumed");
    let result = nnlab()
        .args(["mnist", "train", "--epochs", "3", "--validation", "5000", "--resume"])
        .arg(run.join("last.safetensors"))
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let err = String::from_utf8(result.stderr).unwrap();
    assert_eq!(result.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("--validation 5000 (the run has none (evaluated on the test set))"),
        "{err}"
    );
    assert!(!out.exists());
}

#[test]
fn report_reads_the_data_folder_its_run_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let run = tiny_run(dir.path(), "run");
    let recorded = config_json(&run)["data_dir"].as_str().unwrap().to_string();
    assert_eq!(std::path::Path::new(&recorded), mnist_dir().canonicalize().unwrap());
    // No --data-dir, and $MNIST_DIR pointing nowhere: the run's own folder is used.
    nnlab()
        .env("MNIST_DIR", dir.path().join("no-data-here"))
        .args(["mnist", "report", "--offline", "--threads", "1"])
        .arg(&run)
        .arg("--out")
        .arg(dir.path().join("report"))
        .assert()
        .success();
    assert!(dir.path().join("report/report.md").is_file());
}

#[test]
fn predict_reads_every_image_format_it_names() {
    let dir = tempfile::tempdir().unwrap();
    let run = tiny_run(dir.path(), "run");
    let mnist = Mnist::load(&mnist_dir()).unwrap();
    let digit = GrayImage::from_raw(28, 28, mnist.test.image(0).to_vec()).unwrap();
    let mut answers = Vec::new();
    for (ext, format) in [
        ("png", image::ImageFormat::Png),
        ("jpg", image::ImageFormat::Jpeg),
        ("bmp", image::ImageFormat::Bmp),
        ("gif", image::ImageFormat::Gif),
        ("webp", image::ImageFormat::WebP),
    ] {
        let file = dir.path().join(format!("seven.{ext}"));
        let rgb = image::DynamicImage::ImageLuma8(digit.clone()).to_rgb8();
        rgb.save_with_format(&file, format).unwrap();
        let out = nnlab()
            .args(["mnist", "predict", "--json", "--checkpoint"])
            .arg(run.join("best.safetensors"))
            .arg(&file)
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        let answer: Value = serde_json::from_slice(&out).unwrap();
        answers.push(answer["digit"].clone());
    }
    assert!(answers.iter().all(|a| *a == answers[0]), "{answers:?}");
}

#[test]
fn help_names_every_shipped_model_and_every_mnist_command() {
    let help =
        |args: &[&str]| String::from_utf8(nnlab().args(args).assert().success().get_output().stdout.clone()).unwrap();
    let train = help(&["mnist", "train", "--help"]);
    for name in nnlab_model::shipped::shipped_names() {
        assert!(train.contains(name), "--model's help lacks {name}");
    }
    for setting in &nnlab_app::overrides::SETTINGS {
        let flag = setting.flag;
        assert!(
            train.contains(&format!("{flag} ")) || train.contains(&format!("{flag}\n")),
            "train has no {flag}"
        );
    }
    let top = help(&["--help"]);
    for command in [
        "download",
        "info",
        "summary",
        "train",
        "bench",
        "eval",
        "predict",
        "lr-find",
        "report",
        "compare",
        "export-pytorch",
    ] {
        assert!(top.contains(command), "nnlab --help lacks {command}");
        assert!(help(&["mnist", "--help"]).contains(command));
    }
}
