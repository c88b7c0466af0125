//! `nnlab mnist inspect` on a real trained run: the figures and JSON it writes, the saliency and Grad-CAM
//! maps pointing at the digit on real test images, and its refusals.

mod common;

use std::path::Path;

use common::{json_stdout, nnlab, tiny_run};
use serde_json::Value;

/// A 28×28 JSON array, flattened.
fn flat(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .flat_map(|row| row.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()))
        .collect()
}

/// The share of a map's mass inside the bounding box of the input's ink (any pixel above 0), and the
/// box's share of the image (what a uniform map would score).
fn mass_in_ink_box(map: &[f64], input: &[f64]) -> (f64, f64) {
    let ink: Vec<usize> = (0..784).filter(|&k| input[k] > 0.0).collect();
    let (r0, r1) = (
        ink.iter().map(|k| k / 28).min().unwrap(),
        ink.iter().map(|k| k / 28).max().unwrap(),
    );
    let (c0, c1) = (
        ink.iter().map(|k| k % 28).min().unwrap(),
        ink.iter().map(|k| k % 28).max().unwrap(),
    );
    let inside = |k: usize| (r0..=r1).contains(&(k / 28)) && (c0..=c1).contains(&(k % 28));
    let total: f64 = map.iter().sum();
    let within: f64 = (0..784).filter(|&k| inside(k)).map(|k| map[k]).sum();
    let area = ((r1 - r0 + 1) * (c1 - c0 + 1)) as f64 / 784.0;
    (within / total, area)
}

fn inspect(checkpoint: &Path, index: usize, out: &Path) -> Value {
    json_stdout(
        nnlab()
            .args(["mnist", "inspect", "--checkpoint"])
            .arg(checkpoint)
            .args(["--test-index", &index.to_string(), "--json", "--out"])
            .arg(out),
    )
}

#[test]
fn inspect_writes_figures_and_its_maps_point_at_the_digit() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tiny_run(tmp.path(), "tiny");
    let checkpoint = run.join("best.safetensors");
    let out = tmp.path().join("inside");
    let doc = inspect(&checkpoint, 0, &out);
    // The statements are the model's, as `summary --json` lists them, with their shapes.
    let summary = json_stdout(nnlab().args(["mnist", "summary", "--model", "seed", "--json"]));
    let statements = summary["layers"].as_array().expect("summary --json has layers");
    let layers = doc["layers"].as_array().unwrap();
    assert_eq!(layers.len(), statements.len());
    for (l, s) in layers.iter().zip(statements) {
        assert_eq!(l["name"], s["name"]);
        assert!(l["min"].as_f64().unwrap() <= l["max"].as_f64().unwrap());
    }
    let p: Vec<f64> = doc["probabilities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-4);
    assert_eq!(doc["label"], 7, "test image 0 is a 7");
    for file in ["overview.png", "filters.png", "maps-01-convblock1.png", "inspect.json"] {
        assert!(out.join(file).is_file(), "{file} missing");
    }
    // On real test images, most of each map's mass lies in the ink's bounding box — more than a map
    // spread evenly would put there.
    let (mut saliency, mut gradcam, mut area) = (0.0, 0.0, 0.0);
    let n = 40;
    for i in 0..n {
        let doc = inspect(&checkpoint, i, &out);
        let input = flat(&doc["input"]);
        let (s, a) = mass_in_ink_box(&flat(&doc["saliency"]), &input);
        let (g, _) = mass_in_ink_box(&flat(&doc["gradcam"]), &input);
        saliency += s / n as f64;
        gradcam += g / n as f64;
        area += a / n as f64;
    }
    eprintln!(
        "mass inside the ink box over {n} test images: saliency {saliency:.3}, Grad-CAM {gradcam:.3}, box area {area:.3}"
    );
    assert!(saliency > 0.5, "saliency {saliency:.3}");
    assert!(
        gradcam > area + 0.05,
        "Grad-CAM {gradcam:.3} vs the box's area {area:.3}"
    );
}

#[test]
fn inspect_refuses_bad_input_naming_it() {
    let tmp = tempfile::tempdir().unwrap();
    let ck = tmp.path().join("none.safetensors");
    let out = tmp.path().join("o");
    nnlab()
        .args(["mnist", "inspect", "--checkpoint"])
        .arg(&ck)
        .args(["--test-index", "0", "--out"])
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--checkpoint").and(predicates::str::contains("no such file")));
    nnlab()
        .args(["mnist", "inspect", "--checkpoint"])
        .arg(&ck)
        .args(["--out"])
        .arg(&out)
        .assert()
        .code(2);
    assert!(!out.exists(), "nothing is written on bad input");
}

use predicates::prelude::PredicateBooleanExt;
