//! `nnlab mnist eval` and `nnlab mnist predict` on a quickly trained checkpoint, with digits rendered
//! from the test set at other sizes, inverted, and in colour.

mod common;
use common::{json_stdout, mnist_dir, nnlab};

use std::path::{Path, PathBuf};

use image::{GrayImage, Rgb, RgbImage, imageops};
use nnlab_mnist::Mnist;
use predicates::prelude::*;

/// Test digit `i` rendered three ways: enlarged grey, enlarged and inverted (JPEG), blue ink on yellow.
fn render(mnist: &Mnist, i: usize, dir: &Path) -> [PathBuf; 3] {
    let small = GrayImage::from_raw(28, 28, mnist.test.image(i).to_vec()).unwrap();
    let big = imageops::resize(&small, 100, 100, imageops::FilterType::Triangle);
    let grey = dir.join(format!("grey-{i}.png"));
    big.save(&grey).unwrap();
    let mut inverted = imageops::resize(&small, 140, 140, imageops::FilterType::CatmullRom);
    imageops::invert(&mut inverted);
    let jpeg = dir.join(format!("inverted-{i}.jpg"));
    inverted.save(&jpeg).unwrap();
    let tall = imageops::resize(&small, 70, 70, imageops::FilterType::Triangle);
    let mut colour = RgbImage::from_pixel(90, 120, Rgb([250, 230, 120]));
    for (x, y, p) in tall.enumerate_pixels() {
        let a = p.0[0] as f32 / 255.0;
        let mix = |paper: f32, ink: f32| (paper * (1.0 - a) + ink * a) as u8;
        colour.put_pixel(
            x + 12,
            y + 30,
            Rgb([mix(250.0, 20.0), mix(230.0, 40.0), mix(120.0, 160.0)]),
        );
    }
    let png = dir.join(format!("colour-{i}.png"));
    colour.save(&png).unwrap();
    [grey, jpeg, png]
}

#[test]
fn eval_and_predict_on_rendered_test_digits() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let quick = "--train-limit 6000 --test-limit 1000 --threads 2 --batch-size 64 --lr 0.05 --epochs 3 --seed 2";
    nnlab()
        .args(["mnist", "train"])
        .args(quick.split(' '))
        .arg("--out")
        .arg(&run)
        .assert()
        .success();
    let checkpoint = run.join("last.safetensors");

    let v = json_stdout(
        nnlab()
            .args(["mnist", "eval", "--json", "--checkpoint"])
            .arg(&checkpoint),
    );
    let accuracy = v["test_accuracy"].as_f64().unwrap();
    assert!(accuracy > 0.9, "{accuracy}");
    let confusion_total: u64 = v["confusion"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r.as_array().unwrap())
        .map(|n| n.as_u64().unwrap())
        .sum();
    assert_eq!(confusion_total, 10_000);

    let mnist = Mnist::load(&mnist_dir()).unwrap();
    let images = dir.path().join("images");
    std::fs::create_dir(&images).unwrap();
    let picks: Vec<usize> = (0..20).collect();
    for &i in &picks {
        render(&mnist, i, &images);
    }
    let out = nnlab()
        .args(["mnist", "predict", "--json", "--checkpoint"])
        .arg(&checkpoint)
        .arg(&images)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 60);
    let mut right = 0;
    for line in &lines {
        let file = line["file"].as_str().unwrap();
        let i: usize = file
            .rsplit('-')
            .next()
            .unwrap()
            .split('.')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        if line["digit"].as_u64().unwrap() == mnist.test.labels[i] as u64 {
            right += 1;
        }
        assert_eq!(line["top3"].as_array().unwrap().len(), 3);
    }
    assert!(right >= 54, "only {right} of 60 rendered digits predicted right");

    // Glob patterns, and a batch where one file is broken: the others still get predictions.
    std::fs::write(images.join("broken.png"), b"not an image").unwrap();
    nnlab()
        .args(["mnist", "predict", "--checkpoint"])
        .arg(&checkpoint)
        .arg(images.join("grey-1*.png").to_str().unwrap())
        .arg(images.join("broken.png"))
        .assert()
        .code(2)
        .stdout(predicate::str::contains("grey-10.png: ").and(predicate::str::contains("grey-19.png: ")))
        .stderr(
            predicate::str::contains("broken.png: cannot read the image")
                .and(predicate::str::contains("1 of 12 images could not be read")),
        );
}

#[test]
fn missing_or_damaged_checkpoints_and_empty_directories_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    nnlab()
        .args(["mnist", "predict", "--checkpoint"])
        .arg(dir.path().join("none.safetensors"))
        .arg("x.png")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--checkpoint").and(predicate::str::contains("no such file")));
    let damaged = dir.path().join("damaged.safetensors");
    std::fs::write(&damaged, vec![7u8; 100]).unwrap();
    nnlab()
        .args(["mnist", "eval", "--checkpoint"])
        .arg(&damaged)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not a readable safetensors checkpoint"));
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    // A valid checkpoint is needed to get as far as the directory: make one with a 1-epoch micro run.
    let run = dir.path().join("run");
    nnlab()
        .args([
            "mnist",
            "train",
            "--train-limit",
            "256",
            "--test-limit",
            "100",
            "--epochs",
            "1",
            "--out",
        ])
        .arg(&run)
        .assert()
        .success();
    nnlab()
        .args(["mnist", "predict", "--checkpoint"])
        .arg(run.join("last.safetensors"))
        .arg(&empty)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("the directory has no image files"));
}
