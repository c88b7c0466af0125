//! Models as files, run as a user runs them: the seed file trains bit-identically to the hard-coded model
//! it replaced, every command works on a model that uses every module kind, every kind of mistake in a
//! model file is one line naming the file, the line, the module and the problem, and a plain PyTorch
//! state_dict loads given its model.

mod common;
use common::{json_stdout, mnist_dir, nnlab};

use std::path::Path;

use predicates::prelude::*;
use sha2::{Digest, Sha256};

/// SHA-256 over every tensor of a safetensors file in name order: name, a NUL byte, the raw values.
fn digest(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut names = st.names();
    names.sort();
    let mut h = Sha256::new();
    for name in names {
        h.update(name.as_bytes());
        h.update([0]);
        h.update(st.tensor(name).unwrap().data());
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// `nnlab mnist train` of the seed model and recipe for 2 epochs on 2 threads into `out`, with the given
/// seed and image limits (on the pinned SIMD path unless the caller sets `NNLAB_SIMD`).
fn train_seed_model(out: &Path, seed: &str, train_limit: &str, test_limit: &str) -> assert_cmd::Command {
    let mut cmd = nnlab();
    cmd.args(["mnist", "train", "--model", "seed", "--recipe", "seed", "--seed", seed])
        .args(["--train-limit", train_limit, "--test-limit", test_limit])
        .args(["--epochs", "2", "--threads", "2", "--out"])
        .arg(out);
    cmd
}

fn epochs(out: &Path) -> Vec<serde_json::Value> {
    common::epoch_records(out).0
}

/// Recorded on the hard-coded `Cnn` (commit 7972244) before it was removed:
/// `nnlab mnist train --recipe seed --seed 1 --train-limit 5000 --test-limit 1000 --epochs 2`.
/// The seed model file must reproduce every number and every bit of every tensor.
#[test]
fn the_seed_file_trains_bit_identically_to_the_hard_coded_model() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    train_seed_model(&out, "1", "5000", "1000").assert().success();
    // metrics.csv holds every number in shortest round-trip form (all columns but the wall time).
    let csv = std::fs::read_to_string(out.join("metrics.csv")).unwrap();
    let rows: Vec<String> = csv.lines().map(|l| l.rsplit_once(',').unwrap().0.to_string()).collect();
    assert_eq!(
        rows,
        [
            "epoch,train_loss,train_accuracy,test_loss,test_accuracy,lr",
            "1,2.1714049921378726,0.241,2.837438191837726,0.126,0.009999999776482582",
            "2,1.6567386022930715,0.5124,1.4409155312652118,0.521,0.009999999776482582",
        ]
    );
    assert_eq!(
        digest(&out.join("last.safetensors")),
        "1d157ecbde27d19387a3d46e0009871e486c91dd267cb86787cd36fcedbf1f6d"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("model.model")).unwrap(),
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/seed.model")).unwrap()
    );
}

#[test]
fn summary_shows_any_model_as_a_table_and_as_json() {
    let v = json_stdout(nnlab().args(["mnist", "summary", "--json"]));
    assert_eq!(v["params"], 18934);
    assert_eq!(v["layers"].as_array().unwrap().len(), 12);
    assert_eq!(
        v["layers"][0],
        serde_json::json!({"name": "convblock1", "line": 4, "module": "Sequential(Conv2d(1, 12, 3, bias=False), ReLU(), BatchNorm2d(12), Dropout(0.1))",
            "output": [12, 26, 26], "params": 132, "rf": 3, "jump": 1, "macs": 73008})
    );
    assert_eq!(v["layers"][11]["rf"], 32);
    nnlab()
        .args(["mnist", "summary", "--model", "separable"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("depthwise")
                .and(predicate::str::contains(
                    "Conv2d(24, 24, 3, padding=1, groups=24, bias=False)",
                ))
                .and(predicate::str::contains("runs fused as Conv→BN→ReLU: stem, depthwise"))
                .and(predicate::str::contains("runs fused as Conv→ReLU→BN: dilated")),
        );
}

#[test]
fn bad_model_files_are_one_line_naming_file_line_module_and_problem() {
    let dir = tempfile::tempdir().unwrap();
    let head = "# a model\ninput 1x28x28\n";
    let cases = [
        (
            "Conv2d(1, 8, 3)\nb = Conv3d(8, 8, 3)",
            4,
            "b: unknown module 'Conv3d' (known: Conv2d, BatchNorm2d, ReLU, Dropout, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, Flatten, Linear, Sequential)",
        ),
        (
            "Conv2d(1, 8, 3, padd=1)",
            3,
            "a (Conv2d): unknown keyword 'padd' (known: in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode)",
        ),
        (
            "Conv2d(1, 8, 3)\nb = Sequential(Conv2d(12, 24, 3), ReLU())",
            4,
            "b.0 (Conv2d): expects 12 input channels, but the layer before gives 8 (8×26×26)",
        ),
        (
            "Conv2d(1, 8, 7, stride=2)\nb = Conv2d(8, 8, 7, stride=2)\nc = Conv2d(8, 8, 5)",
            5,
            "c (Conv2d): the spatial size reaches 0: a 5×5 kernel (dilation 1, padding 0) does not fit the 3×3 input",
        ),
        (
            "Conv2d(1, 8, 3)\ng = AdaptiveAvgPool2d(1)\nfc = Linear(16, 10)",
            5,
            "fc (Linear): in_features is 16, but 8 feature(s) reach it (8×1×1 flattened)",
        ),
        (
            "Conv2d(1, 8, 3)\nb = Conv2d(8, 12, 3, groups=3)",
            4,
            "b (Conv2d): groups=3 must divide both in_channels (8) and out_channels (12)",
        ),
        (
            "Sequential(Conv2d(1, 8, 3),\n    ReLU()\nfc = Linear(8, 10)",
            3,
            "unbalanced parentheses: 1 '(' never closed",
        ),
        (
            "Conv2d(1, 8, 3)\na = ReLU()",
            4,
            "duplicate name 'a' (first defined at line 3)",
        ),
        (
            "MaxPool2d(2)\nb = MaxPool2d(2)\nc = MaxPool2d(2)\nd = MaxPool2d(2)\ne = MaxPool2d(2)",
            7,
            "e (MaxPool2d): the spatial size reaches 0: a 2×2 window does not fit the 1×1 input",
        ),
        ("Dropout(1.5)", 3, "a (Dropout): 'p' is 1.5, must be in [0, 1)"),
    ];
    for (i, (body, line, message)) in cases.iter().enumerate() {
        let file = dir.path().join(format!("bad{i}.model"));
        std::fs::write(&file, format!("{head}a = {body}\n")).unwrap();
        let out = nnlab()
            .args(["mnist", "summary", "--model"])
            .arg(&file)
            .assert()
            .code(2)
            .get_output()
            .clone();
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(
            stderr,
            format!("error: --model {}:{line}: {message}\n", file.display()),
            "case {i}"
        );
    }
    let no_input = dir.path().join("no-input.model");
    std::fs::write(&no_input, "fc = Linear(784, 10)\n").unwrap();
    nnlab()
        .args(["mnist", "summary", "--model"])
        .arg(&no_input)
        .assert()
        .code(2)
        .stderr(format!(
            "error: --model {}:1: missing 'input CxHxW' line before the first module (e.g. input 1x28x28)\n",
            no_input.display()
        ));
    let nine = dir.path().join("nine.model");
    std::fs::write(&nine, "input 1x28x28\nfc = Linear(784, 9)\n").unwrap();
    nnlab()
        .args(["mnist", "train", "--model"])
        .arg(&nine)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "its last layer gives 9 (9 values), MNIST needs 10 (one per digit)",
        ));
    nnlab()
        .args(["mnist", "bench", "--model", "nosuch"])
        .assert()
        .code(2)
        .stderr(
            "error: --model nosuch: no such model file, and no shipped model of that name (shipped: seed, separable, small8k, small5k, small20)\n",
        );
}

/// A quick real run of the model that uses every module kind.
fn quick(out: &Path, epochs: &str, extra: &[&str]) {
    nnlab()
        .args([
            "mnist",
            "train",
            "--model",
            "separable",
            "--train-limit",
            "1500",
            "--test-limit",
            "500",
        ])
        .args([
            "--batch-size",
            "50",
            "--lr",
            "0.05",
            "--seed",
            "4",
            "--epochs",
            epochs,
            "--out",
        ])
        .arg(out)
        .args(extra)
        .assert()
        .success();
}

#[test]
fn every_command_works_on_a_model_with_every_module_kind() {
    let dir = tempfile::tempdir().unwrap();
    let (full, half, resumed) = (
        dir.path().join("full"),
        dir.path().join("half"),
        dir.path().join("resumed"),
    );
    quick(&full, "2", &[]);
    let records = epochs(&full);
    let acc = records[1]["test_accuracy"].as_f64().unwrap();
    assert!(
        acc > 0.3,
        "2 epochs on 1,500 images should be well above chance (0.1), got {acc}"
    );
    // Resume needs no --model: the checkpoint carries it.
    quick(&half, "1", &[]);
    nnlab()
        .args(["mnist", "train", "--epochs", "2", "--out"])
        .arg(&resumed)
        .arg("--resume")
        .arg(half.join("last.safetensors"))
        .assert()
        .success()
        .stdout(predicate::str::contains("training model 'separable'"));
    assert_eq!(
        epochs(&resumed),
        records,
        "resumed run must equal the uninterrupted one"
    );
    nnlab()
        .args(["mnist", "train", "--model", "seed", "--epochs", "3", "--out"])
        .arg(dir.path().join("x"))
        .arg("--resume")
        .arg(half.join("last.safetensors"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "--resume continues the checkpoint's own model 'separable'",
        ));
    // eval needs no --model either, and agrees with the run's own last evaluation.
    let checkpoint = full.join("last.safetensors");
    let eval = json_stdout(
        nnlab()
            .args(["mnist", "eval", "--json", "--checkpoint"])
            .arg(&checkpoint),
    );
    assert_eq!(eval["model"], "separable");
    assert!(eval["test_accuracy"].as_f64().unwrap() > 0.3, "{eval}");
    // predict on a test digit written as a PNG.
    let mnist = nnlab_mnist::Mnist::load(&mnist_dir()).unwrap();
    let png = dir.path().join("digit.png");
    image::GrayImage::from_raw(28, 28, mnist.test.image(0).to_vec())
        .unwrap()
        .save(&png)
        .unwrap();
    nnlab()
        .args(["mnist", "predict", "--json", "--checkpoint"])
        .arg(&checkpoint)
        .arg(&png)
        .assert()
        .success()
        .stdout(predicate::str::contains("\"digit\""));
    nnlab()
        .args([
            "mnist",
            "bench",
            "--model",
            "separable",
            "--batch-size",
            "8",
            "--steps",
            "1",
            "--json",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("train_images_per_sec"));
    let py = dir.path().join("net.py");
    nnlab()
        .args(["mnist", "export-pytorch", "--checkpoint"])
        .arg(&checkpoint)
        .arg("--out")
        .arg(&py)
        .assert()
        .success();
    let code = std::fs::read_to_string(&py).unwrap();
    assert!(
        code.contains("class Net(nn.Module):")
            && code.contains("self.head = nn.Sequential(nn.Linear(32, 32, bias=True)")
    );

    // A plain state_dict: the same tensors without nnlab's metadata and optimizer buffers.
    let bytes = std::fs::read(&checkpoint).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let plain: Vec<(String, safetensors::tensor::TensorView)> = st
        .tensors()
        .into_iter()
        .filter(|(name, _)| !name.starts_with("optimizer."))
        .collect();
    let plain_path = dir.path().join("plain.safetensors");
    std::fs::write(&plain_path, safetensors::serialize(plain, None).unwrap()).unwrap();
    nnlab()
        .args(["mnist", "eval", "--checkpoint"])
        .arg(&plain_path)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("holds no model description"));
    let plain_eval = json_stdout(
        nnlab()
            .args(["mnist", "eval", "--json", "--model", "separable", "--checkpoint"])
            .arg(&plain_path),
    );
    assert_eq!(plain_eval["test_accuracy"], eval["test_accuracy"]);
    nnlab()
        .args(["mnist", "eval", "--model", "seed", "--checkpoint"])
        .arg(&plain_path)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "does not fit the model 'seed': missing convblock1.0.weight",
        ));
}

/// A short run's numbers: metrics.csv rows without the wall time, and the model's f32 tensors by name.
type RunNumbers = (Vec<Vec<f64>>, Vec<(String, Vec<f32>)>);

/// Trains the seed model briefly on one SIMD path.
fn train_on_path(level: &str) -> RunNumbers {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    train_seed_model(&out, "3", "1000", "500")
        .env("NNLAB_SIMD", level)
        .assert()
        .success();
    let csv = std::fs::read_to_string(out.join("metrics.csv")).unwrap();
    let rows = csv
        .lines()
        .skip(1)
        .map(|l| {
            let cols: Vec<f64> = l.split(',').map(|v| v.parse().unwrap()).collect();
            cols[..cols.len() - 1].to_vec()
        })
        .collect();
    let bytes = std::fs::read(out.join("last.safetensors")).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut names = st.names();
    names.sort();
    let tensors = names
        .into_iter()
        .filter(|name| !name.starts_with("optimizer.") && st.tensor(name).unwrap().dtype() == safetensors::Dtype::F32)
        .map(|name| {
            let data = st.tensor(name).unwrap().data();
            let values = data
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
                .collect();
            (name.to_string(), values)
        })
        .collect();
    (rows, tensors)
}

/// Every SIMD path this CPU has (`NNLAB_SIMD`: plain x86-64 with gemm's scalar kernels, AVX2 + FMA,
/// AVX-512) trains to the same numbers as the pinned AVX2 path within float tolerance (the weights and BN
/// statistics within 1 % of each tensor's scale after 16 steps; a broken path is off by the scale itself;
/// the momentum buffers, i.e. the last gradients, are left out): the kernels sum in other orders, nothing
/// else differs. `bench` names the path it runs.
#[test]
fn every_simd_path_trains_like_the_pinned_one() {
    let detected = nnlab_nn::cpu::detected_level();
    let reference_level = common::pinned_simd().unwrap_or("baseline");
    let (ref_rows, ref_tensors) = train_on_path(reference_level);
    for level in nnlab_nn::cpu::SimdLevel::ALL.into_iter().filter(|&l| l <= detected) {
        let (rows, tensors) = train_on_path(level.name());
        for (row, expected) in rows.iter().zip(&ref_rows) {
            for (col, (a, b)) in row.iter().zip(expected).enumerate() {
                assert!(
                    (a - b).abs() <= 1e-2 * b.abs().max(1.0),
                    "{level}: metrics column {col}: {a} vs {b}"
                );
            }
        }
        for ((name, values), (_, expected)) in tensors.iter().zip(&ref_tensors) {
            let scale = expected.iter().fold(0.1f32, |m, v| m.max(v.abs()));
            let worst = values
                .iter()
                .zip(expected)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f32::max);
            assert!(
                worst <= 1e-2 * scale,
                "{level}: {name} differs by {worst} (scale {scale})"
            );
        }
        let v = json_stdout(nnlab().env("NNLAB_SIMD", level.name()).args([
            "mnist",
            "bench",
            "--steps",
            "1",
            "--batch-size",
            "8",
            "--json",
        ]));
        assert_eq!(v["simd_level"], level.name());
        assert_eq!(v["gemm_kernel"], level.gemm_kernel());
    }
}

#[test]
fn a_bad_simd_level_is_one_line_and_exit_2() {
    let out = nnlab()
        .env("NNLAB_SIMD", "sse9")
        .args(["mnist", "summary"])
        .assert()
        .code(2)
        .get_output()
        .clone();
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: NNLAB_SIMD: unknown SIMD level 'sse9' (expected baseline, avx2 or avx512)\n"
    );
    if nnlab_nn::cpu::detected_level() < nnlab_nn::cpu::SimdLevel::Avx512 {
        nnlab()
            .env("NNLAB_SIMD", "avx512")
            .args(["mnist", "summary"])
            .assert()
            .code(2)
            .stderr(predicate::str::contains("this CPU cannot run the avx512 path"));
    }
}
