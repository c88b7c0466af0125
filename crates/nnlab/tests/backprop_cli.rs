//! `nnlab backprop …` run as a user runs it: the real binary, real files, exit codes and messages.

use std::path::PathBuf;

use assert_cmd::Command;
use nnlab_backprop::{Example, Mlp, Net222, descend};
use predicates::prelude::*;

fn nnlab() -> Command {
    Command::cargo_bin("nnlab").unwrap()
}

fn seed_workbook() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/seed/Class BP File_HG.xlsx")
}

const HEADER: &str = "iter,t1,t2,i1,i2,w1,w2,w3,w4,h1,a_h1,h2,a_h2,w5,w6,w7,w8,o1,a_o1,o2,a_o2,E1,E2,E_total,dE_dw1,dE_dw2,dE_dw3,dE_dw4,dE_dw5,dE_dw6,dE_dw7,dE_dw8";

fn csv_rows(args: &[&str]) -> Vec<Vec<f64>> {
    let out = nnlab()
        .args(["backprop", "table", "--format", "csv"])
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next().unwrap(), HEADER);
    lines
        .map(|l| l.split(',').map(|x| x.parse().unwrap()).collect())
        .collect()
}

#[test]
fn table_csv_has_the_contract_header_and_the_recipes_first_row() {
    let rows = csv_rows(&[]);
    assert_eq!(rows.len(), 68);
    let first = &rows[0];
    assert_eq!(first[0], 1.0);
    assert_eq!(first[10], 0.5068745667645342); // a_h1
    assert_eq!(first[18], 0.606477732206728); // a_o1
    assert_eq!(first[20], 0.6304808354506348); // a_o2
    assert_eq!(first[23], 0.014181377937891659); // E_total
    assert_eq!(first[28], 0.01288081863162825); // dE_dw5
    assert_eq!(first[24], 0.0003169933959102902); // dE_dw1
}

#[test]
fn table_agrees_with_autograd_to_1e_12_on_several_configurations() {
    for (args, lr) in [
        (vec![], 1.0),
        (
            vec![
                "--weights",
                "-0.4,0.25,0.6,-1.1,0.8,-0.3,0.05,1.7",
                "--inputs",
                "0.3,-0.7",
                "--targets",
                "0.9,0.1",
                "--lr",
                "0.3",
            ],
            0.3,
        ),
        (vec!["--lr", "2", "--iterations", "20"], 2.0),
    ] {
        let rows = csv_rows(&args);
        for row in &rows {
            let net = Net222::new(
                [row[3], row[4]],
                [row[1], row[2]],
                std::array::from_fn(|k| row[[5, 6, 7, 8, 13, 14, 15, 16][k]]),
            )
            .unwrap();
            let example = [Example {
                inputs: net.inputs.to_vec(),
                targets: net.targets.to_vec(),
            }];
            let (loss, grads) = Mlp::from_net222(&net, false).autograd_gradients(&example);
            assert!((loss - row[23]).abs() <= 1e-12 * loss.abs());
            for k in 0..8 {
                assert!(
                    (grads[k] - row[24 + k]).abs() <= 1e-12 * grads[k].abs().max(1e-300),
                    "{args:?} iter {} w{}",
                    row[0],
                    k + 1
                );
            }
        }
        let engine = descend(
            &Net222::new(
                [rows[0][3], rows[0][4]],
                [rows[0][1], rows[0][2]],
                std::array::from_fn(|k| rows[0][[5, 6, 7, 8, 13, 14, 15, 16][k]]),
            )
            .unwrap(),
            lr,
            rows.len(),
            false,
        )
        .unwrap();
        assert_eq!(engine.last().unwrap().forward.e_total, rows.last().unwrap()[23]);
    }
}

#[test]
fn other_formats_and_layers_work() {
    nnlab()
        .args(["backprop", "table", "--iterations", "2"])
        .assert()
        .success()
        .stdout(predicate::str::contains("E_total"));
    nnlab()
        .args(["backprop", "table", "--format", "markdown", "--iterations", "1"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("| iter | t1 |"));
    nnlab()
        .args([
            "backprop",
            "table",
            "--layers",
            "2,3,2",
            "--format",
            "csv",
            "--iterations",
            "3",
        ])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("iter,E_total,a_out1,a_out2,w1,"));
    nnlab()
        .args(["backprop", "check", "--layers", "2,3,2", "--activation", "tanh"])
        .assert()
        .success()
        .stdout(predicate::str::contains("all three agree"));
    nnlab()
        .args([
            "backprop",
            "sweep",
            "--layers",
            "3,4,1",
            "--inputs",
            "1,2,3",
            "--targets",
            "0.2",
            "--iterations",
            "3",
        ])
        .assert()
        .success();
}

#[test]
fn sweep_writes_csv_and_a_png() {
    let dir = tempfile::tempdir().unwrap();
    let (csv, png) = (dir.path().join("s.csv"), dir.path().join("s.png"));
    nnlab()
        .args(["backprop", "sweep", "--lrs", "0.5,2,0.1", "--csv"])
        .arg(&csv)
        .arg("--plot")
        .arg(&png)
        .assert()
        .success();
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(text.starts_with("iter,lr=0.5,lr=2,lr=0.1\n1,0.014181377937891659,"));
    assert_eq!(text.lines().count(), 69);
    assert_eq!(&std::fs::read(&png).unwrap()[1..4], b"PNG");
}

#[test]
fn explain_check_and_diagram() {
    nnlab().args(["backprop", "explain"]).assert().success().stdout(
        predicate::str::contains("∂E/∂w5")
            .and(predicate::str::contains("0.01288081863162825"))
            .and(predicate::str::contains("0.0003169933959102902")),
    );
    nnlab()
        .args(["backprop", "check"])
        .assert()
        .success()
        .stdout(predicate::str::contains("max |closed form − autograd|"));
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("net.svg");
    nnlab()
        .args(["backprop", "diagram", "--out"])
        .arg(&svg)
        .assert()
        .success();
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.contains("<svg") && text.contains("w8 = 0.55"));
}

#[test]
fn export_then_audit_passes_and_the_seed_fails() {
    let dir = tempfile::tempdir().unwrap();
    let xlsx = dir.path().join("bp.xlsx");
    nnlab()
        .args(["backprop", "export-xlsx"])
        .arg(&xlsx)
        .args(["--lr", "0.8", "--iterations", "25"])
        .assert()
        .success();
    nnlab()
        .args(["backprop", "audit"])
        .arg(&xlsx)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("all cells agree"));
    nnlab()
        .args(["backprop", "audit"])
        .arg(seed_workbook())
        .assert()
        .code(1)
        .stdout(
            predicate::str::contains("dE_dw3 (header '∂E/∂w3'): first wrong at AA33")
                .and(predicate::str::contains("dE_dw4")),
        );
    let json = nnlab()
        .args(["backprop", "audit", "--json"])
        .arg(seed_workbook())
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["findings"].as_array().unwrap().len(), 2);
    assert_eq!(v["clean"], false);
}

#[test]
fn bad_input_gives_one_clear_line_and_exit_2() {
    let cases: [(&[&str], &str); 7] = [
        (
            &["table", "--weights", "0.1,0.2"],
            "--weights: expected 8 comma-separated numbers, got 2",
        ),
        (&["table", "--inputs", "0.1,abc"], "'abc' is not a number"),
        (&["table", "--targets", "NaN,0.5"], "not a finite number"),
        (&["table", "--lr", "0"], "must be a finite number > 0"),
        (&["table", "--lr", "-1"], "must be a finite number > 0"),
        (&["table", "--iterations", "0"], "must be at least 1"),
        (
            &["export-xlsx", "x.xlsx", "--layers", "2,3,2"],
            "--layers: this command works on the 2-2-2 worksheet network only",
        ),
    ];
    for (args, message) in cases {
        nnlab()
            .arg("backprop")
            .args(args)
            .assert()
            .code(2)
            .stdout("")
            .stderr(predicate::str::contains(message));
    }
}

#[test]
fn negative_weights_are_ordinary_values() {
    nnlab()
        .args([
            "backprop",
            "table",
            "--weights",
            "-0.4,0.25,0.6,-1.1,0.8,-0.3,0.05,1.7",
            "--iterations",
            "1",
        ])
        .assert()
        .success();
}

#[test]
fn unwritable_and_unreadable_files_leave_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-dir").join("bp.xlsx");
    nnlab()
        .args(["backprop", "export-xlsx"])
        .arg(&missing)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot write"));
    nnlab()
        .args(["backprop", "sweep", "--plot"])
        .arg(dir.path().join("x.gif"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--plot"));
    let text = dir.path().join("notes.xlsx");
    std::fs::write(&text, "hello").unwrap();
    nnlab()
        .args(["backprop", "audit"])
        .arg(&text)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not a readable .xlsx workbook"));
    nnlab()
        .args(["backprop", "audit"])
        .arg(dir.path().join("absent.xlsx"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no such file"));
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "only notes.xlsx remains"
    );
}
