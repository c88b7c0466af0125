//! The exported workbook, recalculated from scratch by LibreOffice headless, gives the engine's numbers.
//!
//! The workbook is written *without* cached values, and LibreOffice runs with a throwaway profile whose
//! `OOXMLRecalcMode` is 0 ("always recalculate"), so every number read back was computed by LibreOffice
//! from the formulas, the first row and the η cell.

use std::path::Path;
use std::process::Command;

use calamine::{Data, Reader, Xlsx, open_workbook};
use nnlab_backprop::table::{BiasColumns, columns, value};
use nnlab_backprop::{Net222, descend, sweep};
use nnlab_workbook::{ExportOptions, audit_workbook, export_workbook};

const PROFILE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"#;

fn soffice() -> Option<&'static str> {
    ["soffice", "libreoffice"].into_iter().find(|b| {
        Command::new(b)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

/// Opens `input` in LibreOffice, recalculating every formula, and saves it as xlsx in `out_dir`.
fn recalculate(input: &Path, out_dir: &Path, profile: &Path) -> std::path::PathBuf {
    std::fs::create_dir_all(profile.join("user")).unwrap();
    std::fs::write(profile.join("user/registrymodifications.xcu"), PROFILE).unwrap();
    let binary = soffice().expect("LibreOffice (soffice) is needed: apt-get install -y libreoffice-calc-nogui");
    let status = Command::new(binary)
        .arg(format!("-env:UserInstallation=file://{}", profile.display()))
        .args(["--headless", "--convert-to", "xlsx", "--outdir"])
        .arg(out_dir)
        .arg(input)
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "soffice failed: {}",
        String::from_utf8_lossy(&status.stderr)
    );
    out_dir.join(input.file_name().unwrap())
}

fn number(d: Option<&Data>) -> f64 {
    match d {
        Some(Data::Float(x)) => *x,
        Some(Data::Int(i)) => *i as f64,
        other => panic!("expected a number, got {other:?}"),
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1e-300)
}

/// Exports `net` with `bias` columns without cached values, recalculates it in LibreOffice and compares
/// every cell of the main sheet and the sweep sheet with the engine.
fn recalculated_export_matches_the_engine(net: Net222, bias: BiasColumns) {
    let dir = tempfile::tempdir().unwrap();
    let learn = bias == BiasColumns::Learned;
    let options = ExportOptions {
        net,
        bias,
        lr: 0.7,
        iterations: 40,
        lrs: vec![0.1, 0.5, 2.0],
        cached_values: false,
    };
    let input = dir.path().join("fresh.xlsx");
    std::fs::write(&input, export_workbook(&options).unwrap()).unwrap();
    let output = recalculate(&input, &dir.path().join("out"), &dir.path().join("profile"));

    let mut wb: Xlsx<_> = open_workbook(&output).unwrap();
    let main = wb.worksheet_range("backprop").unwrap();
    let rows = descend(&net, 0.7, 40, learn).unwrap();
    let names = columns(bias);
    let mut compared = 0;
    for (k, row) in rows.iter().enumerate() {
        for (col, name) in names.iter().enumerate() {
            let expected = value(row, name);
            let found = number(main.get_value((5 + k as u32, col as u32)));
            assert!(
                close(expected, found),
                "{name} at iteration {}: engine {expected}, LibreOffice {found}",
                k + 1
            );
            compared += 1;
        }
    }
    assert_eq!(compared, 40 * names.len());

    let sweep_sheet = wb.worksheet_range("lr_sweep").unwrap();
    let curves = sweep(&net, &options.lrs, 40, learn).unwrap();
    for (r, curve) in curves.iter().enumerate() {
        for (i, expected) in curve.iter().enumerate() {
            let found = number(sweep_sheet.get_value((1 + i as u32, 1 + r as u32)));
            assert!(
                close(*expected, found),
                "lr={} iteration {}: engine {expected}, LibreOffice {found}",
                options.lrs[r],
                i + 1
            );
        }
    }

    let report = audit_workbook(&output, 1e-9).unwrap();
    assert!(report.is_clean(), "{report:?}");
}

fn test_net() -> Net222 {
    Net222::new([0.05, 0.1], [0.01, 0.99], [-0.4, 0.2, 0.25, 0.3, 0.4, -0.45, 0.5, 0.55]).unwrap()
}

#[test]
fn libreoffice_recalculation_matches_the_engine() {
    recalculated_export_matches_the_engine(test_net(), BiasColumns::None);
}

#[test]
fn libreoffice_recalculation_matches_the_engine_with_learned_biases() {
    let net = test_net().with_biases([0.35, -0.6]).unwrap();
    recalculated_export_matches_the_engine(net, BiasColumns::Learned);
}

/// A 2-3-1 TF Playground network (tanh hidden, batch 3 over 20 training points — so a partial batch carries
/// over into the second epoch — and L2) exported without cached values: LibreOffice's recalculation of every
/// cell of every row equals the engine's replay of the same points.
#[test]
fn libreoffice_recalculates_a_playground_network_to_the_engine() {
    use nnlab_backprop::playground::{Experiment, Feature, Regularization, Setup, Shape, generate};
    use nnlab_workbook::NetworkSheet;
    let setup = Setup {
        features: vec![Feature::X1, Feature::X2],
        hidden: vec![3],
        batch_size: 3,
        lr: 0.3,
        regularization: Regularization::L2,
        reg_rate: 0.01,
        ..Setup::default()
    };
    let e = Experiment::new(setup, generate(Shape::Circle, 40, 0.0, 5)).unwrap();
    let steps = 30;
    let sheet = NetworkSheet::build(&e, steps).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("network.xlsx");
    std::fs::write(&input, sheet.to_xlsx(false).unwrap()).unwrap();
    let output = recalculate(&input, &dir.path().join("out"), &dir.path().join("profile"));
    let mut wb: Xlsx<_> = open_workbook(&output).unwrap();
    let range = wb.worksheet_range("network").unwrap();
    let header = 4; // 0-based row of the header
    for (c, name) in sheet.columns.iter().enumerate() {
        match range.get((header, c)) {
            Some(Data::String(s)) => assert_eq!(s, name),
            other => panic!("header {c}: {other:?}"),
        }
    }
    // Weights move: the last row's parameters differ from the first's, so the update formulas ran.
    assert_ne!(sheet.values[0][4..10], sheet.values[steps - 1][4..10]);
    for (k, row) in sheet.values.iter().enumerate() {
        for (c, expected) in row.iter().enumerate() {
            let got = number(range.get((header + 1 + k, c)));
            assert!(
                (got - expected).abs() <= 1e-11 * expected.abs().max(1.0),
                "row {} column {}: LibreOffice {got}, engine {expected}",
                k + 1,
                sheet.columns[c]
            );
        }
    }
}
