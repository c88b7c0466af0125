//! Biases and several examples in `nnlab backprop …`, run as a user runs them; and the proof that without
//! the new flags every output is byte for byte what it was before they existed.

use std::path::PathBuf;

use assert_cmd::Command;
use nnlab_backprop::{Net222, descend};

fn nnlab() -> Command {
    Command::cargo_bin("nnlab").unwrap()
}

fn golden(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden/backprop")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn stdout(args: &[&str]) -> String {
    let out = nnlab().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The golden files were written by the binary of commit 05da787, before biases and datasets existed.
#[test]
fn without_the_new_flags_every_output_is_unchanged() {
    let cases: [(&[&str], &str); 6] = [
        (
            &["backprop", "table", "--format", "csv", "--iterations", "5"],
            "table-5.csv",
        ),
        (&["backprop", "sweep", "--iterations", "5"], "sweep-5.csv"),
        (
            &[
                "backprop",
                "table",
                "--layers",
                "2,3,2",
                "--format",
                "csv",
                "--iterations",
                "5",
            ],
            "layers-2-3-2-5.csv",
        ),
        (&["backprop", "explain"], "explain.txt"),
        (&["backprop", "check"], "check.txt"),
        (
            &[
                "backprop",
                "check",
                "--layers",
                "3,4,2",
                "--activation",
                "tanh",
                "--inputs",
                "1,2,3",
                "--targets",
                "0.1,0.2",
            ],
            "layers-check.txt",
        ),
    ];
    for (args, file) in cases {
        assert_eq!(stdout(args), golden(file), "{args:?} differs from {file}");
    }
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("d.svg");
    stdout(&["backprop", "diagram", "--out", svg.to_str().unwrap()]);
    assert_eq!(std::fs::read_to_string(&svg).unwrap(), golden("diagram.svg"));
}

fn csv(args: &[&str]) -> (Vec<String>, Vec<Vec<f64>>) {
    let text = stdout(&[&["backprop", "table", "--format", "csv"], args].concat());
    let mut lines = text.lines();
    let header = lines.next().unwrap().split(',').map(str::to_string).collect();
    let rows = lines
        .map(|l| l.split(',').map(|x| x.parse().unwrap()).collect())
        .collect();
    (header, rows)
}

fn column(header: &[String], name: &str) -> usize {
    header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name} in {header:?}"))
}

#[test]
fn biases_enter_the_table_and_are_learned_only_when_asked() {
    // The best-known worked example with biases: b1 = 0.35, b2 = 0.60, targets 0.01 and 0.99.
    let common = [
        "--targets",
        "0.01,0.99",
        "--biases",
        "0.35,0.6",
        "--lr",
        "0.5",
        "--iterations",
        "3",
    ];
    let (header, rows) = csv(&common);
    assert_eq!(header.len(), 34);
    assert!(!header.iter().any(|h| h.starts_with("dE_db")));
    let e = column(&header, "E_total");
    assert!((rows[0][e] - 0.298371109).abs() < 1e-9);
    let b1 = column(&header, "b1");
    assert!(rows.iter().all(|r| r[b1] == 0.35));
    // w5 after one step of η = 0.5 is the worked example's 0.35891648.
    assert!((rows[1][column(&header, "w5")] - 0.35891648).abs() < 1e-8);

    let (header, rows) = csv(&[&common[..], &["--learn-biases"]].concat());
    assert_eq!(header[header.len() - 2..], ["dE_db1", "dE_db2"]);
    let (b2, g2) = (column(&header, "b2"), column(&header, "dE_db2"));
    assert_eq!(rows[1][b2], rows[0][b2] - 0.5 * rows[0][g2]);
    let net = Net222::new([0.05, 0.1], [0.01, 0.99], [0.15, 0.2, 0.25, 0.3, 0.4, 0.45, 0.5, 0.55])
        .unwrap()
        .with_biases([0.35, 0.6])
        .unwrap();
    let engine = descend(&net, 0.5, 3, true).unwrap();
    assert_eq!(rows[2][column(&header, "E_total")], engine[2].forward.e_total);
}

#[test]
fn explain_check_diagram_and_the_workbook_carry_the_biases() {
    let explain = stdout(&["backprop", "explain", "--biases", "0.35,0.6", "--learn-biases"]);
    assert!(explain.contains("h1   = w1·i1 + w2·i2 + b1"), "{explain}");
    assert!(explain.contains("= δh1·∂h1/∂b1 + δh2·∂h2/∂b1 = δh1 + δh2"), "{explain}");
    assert!(explain.contains("  b2 = 0.6 − 1·"), "{explain}");

    let check = stdout(&["backprop", "check", "--biases", "0.35,0.6"]);
    assert!(check.lines().any(|l| l.starts_with("b2 ")), "{check}");
    assert!(check.contains("all three agree"));

    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("d.svg");
    stdout(&[
        "backprop",
        "diagram",
        "--biases",
        "0.35,0.6",
        "--out",
        svg.to_str().unwrap(),
    ]);
    let drawn = std::fs::read_to_string(&svg).unwrap();
    assert!(drawn.contains("b1 = 0.35") && drawn.contains("b2 = 0.6"));

    let book = dir.path().join("biases.xlsx");
    let book = book.to_str().unwrap();
    stdout(&[
        "backprop",
        "export-xlsx",
        book,
        "--biases",
        "0.35,0.6",
        "--learn-biases",
        "--iterations",
        "20",
    ]);
    let audit = stdout(&["backprop", "audit", book]);
    assert!(
        audit.contains("biases: learned") && audit.contains("result: all cells agree"),
        "{audit}"
    );
}

#[test]
fn a_2_2_1_network_with_learned_biases_learns_xor() {
    let (header, rows) = csv(&["--data", "xor", "--learn-biases", "--iterations", "1000"]);
    assert_eq!(
        header[..6],
        [
            "iter",
            "E_total",
            "ex1_a_out1",
            "ex2_a_out1",
            "ex3_a_out1",
            "ex4_a_out1"
        ]
    );
    let last = rows.last().unwrap();
    for (k, target) in [0.0, 1.0, 1.0, 0.0].into_iter().enumerate() {
        assert!((last[2 + k] - target).abs() < 0.1, "example {}: {}", k + 1, last[2 + k]);
    }
    assert!(last[1] < rows[0][1] / 10.0);
    // The same from a file, with the header and a comment.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("xor.csv");
    std::fs::write(&file, "# XOR\nx1,x2,t1\n0,0,0\n0,1,1\n1,0,1\n1,1,0\n").unwrap();
    let (_, from_file) = csv(&[
        "--data",
        file.to_str().unwrap(),
        "--learn-biases",
        "--iterations",
        "1000",
    ]);
    assert_eq!(&from_file, &rows);

    let explain = stdout(&["backprop", "explain", "--data", "xor", "--learn-biases"]);
    assert!(explain.contains("E_total = E(1) + E(2) + E(3) + E(4)"), "{explain}");
    assert!(explain.contains("sum = ∂E_total/∂p"), "{explain}");
    let check = stdout(&["backprop", "check", "--data", "xor", "--learn-biases"]);
    assert!(
        check.contains("E_total summed over 4 examples") && check.contains("all three agree"),
        "{check}"
    );
}

#[test]
fn bad_biases_and_bad_data_give_one_line_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_string()
    };
    let short = write("short.csv", "x1,x2,t1\n0,0,0\n0,1\n");
    let word = write("word.csv", "x1,x2,t1\n0,zero,0\n");
    let empty = write("empty.csv", "");
    let far = write("far.csv", "x1,x2,t1\n0,0,0\n0,1,1.5\n");
    let cases: Vec<(Vec<&str>, String)> = vec![
        (
            vec!["table", "--biases", "1,2,3"],
            "--biases: the worksheet network has one bias per layer".into(),
        ),
        (
            vec!["table", "--layers", "2,3,1", "--biases", "1,2,3"],
            "--biases: the network has 2 layers and 4 units after the input".into(),
        ),
        (vec!["table", "--biases", "1,x"], "'x' is not a number".into()),
        (
            vec!["table", "--data", &short],
            format!("--data {short}: line 3: 2 values, but the header has 3 columns"),
        ),
        (
            vec!["check", "--data", &word],
            format!("--data {word}: line 2: x2 = 'zero' is not a finite number"),
        ),
        (
            vec!["explain", "--data", &empty],
            format!("--data {empty}: the file is empty"),
        ),
        (
            vec!["table", "--data", &far],
            format!("--data {far}: line 3: t1 = 1.5 cannot be reached"),
        ),
        (
            vec!["table", "--data", "nand"],
            "not a built-in dataset (xor, and, or)".into(),
        ),
        (
            vec!["table", "--data", "xor", "--layers", "3,2,1"],
            "the data has 2 inputs and 1 targets".into(),
        ),
        (
            vec!["table", "--data", "xor", "--inputs", "1,2"],
            "drop --inputs and --targets".into(),
        ),
        (
            vec!["export-xlsx", "x.xlsx", "--data", "xor"],
            "--data: this command works on the 2-2-2".into(),
        ),
    ];
    for (args, message) in cases {
        let out = nnlab().arg("backprop").args(&args).output().unwrap();
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        // One line says it all (clap adds its usual "For more information, try '--help'." below it).
        assert!(err.lines().next().unwrap().contains(&message), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    assert!(!PathBuf::from("x.xlsx").exists());
}
