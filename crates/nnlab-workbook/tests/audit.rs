//! The auditor on the real hand-built seed workbook, on nnlab's own export, and on planted mistakes.

use std::path::PathBuf;

use nnlab_backprop::table::{BiasColumns, COLUMNS, columns, row_values, value};
use nnlab_backprop::{Iteration, Net222, descend};
use nnlab_workbook::{EtaSource, ExportOptions, WorkbookError, audit_workbook, export_workbook};
use rust_xlsxwriter::Workbook;

fn seed_workbook() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/seed/Class BP File_HG.xlsx")
}

#[test]
fn finds_the_seed_sheets_wrong_hidden_unit_two_gradients_and_nothing_else() {
    let report = audit_workbook(&seed_workbook(), 1e-9).unwrap();
    assert_eq!(report.sheet, "sheet_main");
    assert_eq!(report.header_row, 32);
    assert_eq!(report.iterations, 68);
    assert_eq!(
        (report.eta, report.eta_source.clone()),
        (1.0, EtaSource::Cell("J31".into()))
    );
    let wrong: Vec<(&str, &str, usize)> = report
        .findings
        .iter()
        .map(|f| (f.column.as_str(), f.cell.as_str(), f.wrong_rows))
        .collect();
    assert_eq!(wrong, [("dE_dw3", "AA33", 68), ("dE_dw4", "AB33", 68)]);
    let f = &report.findings[0];
    assert_eq!(f.header, "∂E/∂w3");
    assert_eq!(f.expected, 0.00035177632159073217);
    assert_eq!(f.found, 0.0003518686651353938);
    assert!(f.formula.as_deref().unwrap().contains("K33*(1-K33)"), "{:?}", f.formula);
    // The learning-rate study was computed with those gradients: right at iteration 1, wrong from 2 on.
    let sweep = &report.sweeps[0];
    assert_eq!(sweep.sheet, "sheet_LRtrend");
    assert_eq!(sweep.rates, [0.1, 0.2, 0.5, 0.8, 1.0, 2.0]);
    assert_eq!(sweep.findings.len(), 6);
    assert!(sweep.findings.iter().all(|f| f.iteration == 2));
    assert!(!report.is_clean());
}

#[test]
fn nnlabs_own_export_passes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("export.xlsx");
    for (net, bias, computed) in [
        (Net222::default(), BiasColumns::None, 27),
        (
            Net222::default().with_biases([0.35, 0.6]).unwrap(),
            BiasColumns::Fixed,
            29,
        ),
        (
            Net222::default().with_biases([0.35, 0.6]).unwrap(),
            BiasColumns::Learned,
            31,
        ),
    ] {
        let options = ExportOptions {
            net,
            bias,
            lr: 0.5,
            iterations: 30,
            lrs: vec![0.2, 1.0],
            cached_values: true,
        };
        std::fs::write(&path, export_workbook(&options).unwrap()).unwrap();
        let report = audit_workbook(&path, 1e-12).unwrap();
        assert!(report.is_clean(), "{bias:?}: {report:?}");
        assert_eq!(
            (report.sheet.as_str(), report.eta, report.iterations),
            ("backprop", 0.5, 30)
        );
        assert_eq!(
            report.columns_checked.len(),
            computed,
            "{bias:?}: {:?}",
            report.columns_checked
        );
        assert_eq!(report.sweeps.len(), 1);
        assert_eq!(report.sweeps[0].cells_checked, 60);
        assert!(report.sweeps[0].findings.is_empty(), "{bias:?}");
    }
}

/// A workbook with learned biases whose ∂E/∂b1 column forgets hidden unit 2's δ (the sheet's own numbers
/// follow from that wrong formula, as a spreadsheet's would).
#[test]
fn a_wrong_bias_gradient_formula_is_found_where_it_is() {
    let mut net = Net222::default().with_biases([0.35, 0.6]).unwrap();
    let eta = 0.5;
    let mut rows = Vec::new();
    for iter in 1..=6 {
        let forward = net.forward();
        let gradients = net.gradients(&forward);
        let [d_h1, _, d_o1, d_o2] = net.deltas(&forward);
        let bias_gradients = [d_h1, d_o1 + d_o2];
        rows.push(Iteration {
            iter,
            net,
            forward,
            gradients,
            bias_gradients,
        });
        for (w, g) in net.weights.iter_mut().zip(gradients) {
            *w -= eta * g;
        }
        for (b, g) in net.biases.iter_mut().zip(bias_gradients) {
            *b -= eta * g;
        }
    }
    let names = columns(BiasColumns::Learned);
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_string(0, 0, "η").unwrap();
    ws.write_number(0, 1, eta).unwrap();
    for (c, name) in names.iter().enumerate() {
        let header = if *name == "dE_db1" { "∂E/∂b1" } else { name };
        ws.write_string(2, c as u16, header).unwrap();
    }
    for (k, row) in rows.iter().enumerate() {
        for (c, name) in names.iter().enumerate() {
            ws.write_number(3 + k as u32, c as u16, value(row, name)).unwrap();
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken-bias.xlsx");
    wb.save(&path).unwrap();

    let report = audit_workbook(&path, 1e-9).unwrap();
    let wrong: Vec<(&str, &str, usize, usize)> = report
        .findings
        .iter()
        .map(|f| (f.column.as_str(), f.cell.as_str(), f.iteration, f.wrong_rows))
        .collect();
    assert_eq!(wrong, [("dE_db1", "AI4", 1, 6)]);
    let f = &report.findings[0];
    assert_eq!(f.header, "∂E/∂b1");
    let right = rows[0].net.bias_gradients(&rows[0].forward)[0];
    assert_eq!(f.expected, right);
    assert_eq!(f.found, rows[0].bias_gradients[0]);
}

/// What a spreadsheet holds when the cell (column, iteration) was typed over with `value`: every later
/// cell computed from it, as spreadsheet formulas would. Rows of the 32 columns, η = 0.5.
fn spreadsheet_with_override(wrong: Option<(&str, usize, f64)>) -> Vec<[f64; 32]> {
    let sig = nnlab_backprop::sigmoid;
    let net = Net222::default();
    let mut w = net.weights;
    let ([i1, i2], [t1, t2]) = (net.inputs, net.targets);
    let mut out = Vec::new();
    for iter in 1..=5 {
        let fix = |name: &str, v: f64| match wrong {
            Some((col, it, value)) if col == name && it == iter => value,
            _ => v,
        };
        let h1 = fix("h1", w[0] * i1 + w[1] * i2);
        let a_h1 = fix("a_h1", sig(h1));
        let h2 = fix("h2", w[2] * i1 + w[3] * i2);
        let a_h2 = fix("a_h2", sig(h2));
        let o1 = fix("o1", w[4] * a_h1 + w[5] * a_h2);
        let a_o1 = fix("a_o1", sig(o1));
        let o2 = fix("o2", w[6] * a_h1 + w[7] * a_h2);
        let a_o2 = fix("a_o2", sig(o2));
        let (e1, e2) = (0.5 * (t1 - a_o1).powi(2), 0.5 * (t2 - a_o2).powi(2));
        let (d1, d2) = ((a_o1 - t1) * a_o1 * (1.0 - a_o1), (a_o2 - t2) * a_o2 * (1.0 - a_o2));
        let b1 = (d1 * w[4] + d2 * w[6]) * a_h1 * (1.0 - a_h1);
        let b2 = (d1 * w[5] + d2 * w[7]) * a_h2 * (1.0 - a_h2);
        let g = [
            b1 * i1,
            b1 * i2,
            b2 * i1,
            b2 * i2,
            d1 * a_h1,
            d1 * a_h2,
            d2 * a_h1,
            d2 * a_h2,
        ];
        out.push([
            iter as f64,
            t1,
            t2,
            i1,
            i2,
            w[0],
            w[1],
            w[2],
            w[3],
            h1,
            a_h1,
            h2,
            a_h2,
            w[4],
            w[5],
            w[6],
            w[7],
            o1,
            a_o1,
            o2,
            a_o2,
            e1,
            e2,
            e1 + e2,
            g[0],
            g[1],
            g[2],
            g[3],
            g[4],
            g[5],
            g[6],
            g[7],
        ]);
        for k in 0..8 {
            w[k] -= 0.5 * g[k];
        }
    }
    out
}

/// A hand-built sheet in the spellings students use, η labelled or not.
fn planted(dir: &std::path::Path, wrong: Option<(&str, usize, f64)>, eta_label: bool) -> PathBuf {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    if eta_label {
        ws.write_string(0, 3, "learning rate").unwrap();
        ws.write_number(0, 4, 0.5).unwrap();
    }
    let headers = COLUMNS.map(|c| match c {
        "E_total" => "E_tot".to_string(),
        "a_h1" => "out_h1".to_string(),
        g if g.starts_with("dE_dw") => format!("∂E/∂w{}", &g[5..]),
        other => other.to_string(),
    });
    for (c, h) in headers.iter().enumerate() {
        ws.write_string(2, c as u16, h).unwrap();
    }
    for (k, row) in spreadsheet_with_override(wrong).iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            ws.write_number(3 + k as u32, c as u16, *v).unwrap();
        }
    }
    let path = dir.join("planted.xlsx");
    wb.save(&path).unwrap();
    path
}

#[test]
fn the_simulated_spreadsheet_equals_the_engine_when_nothing_is_wrong() {
    let rows = descend(&Net222::default(), 0.5, 5, false).unwrap();
    for (sim, row) in spreadsheet_with_override(None).iter().zip(&rows) {
        assert_eq!(sim, &row_values(row));
    }
}

#[test]
fn a_planted_wrong_cell_is_reported_where_it_is_not_as_a_cascade() {
    let dir = tempfile::tempdir().unwrap();
    let report = audit_workbook(&planted(dir.path(), Some(("a_h2", 3, 0.6)), true), 1e-9).unwrap();
    assert_eq!(report.eta_source, EtaSource::Cell("E1".into()));
    assert_eq!(report.findings.len(), 1, "{:?}", report.findings);
    let f = &report.findings[0];
    assert_eq!(
        (f.column.as_str(), f.cell.as_str(), f.iteration, f.wrong_rows, f.found),
        ("a_h2", "M6", 3, 1, 0.6)
    );
    assert_eq!(f.formula, None);
}

#[test]
fn eta_is_inferred_when_no_cell_names_it_and_a_clean_sheet_passes() {
    let dir = tempfile::tempdir().unwrap();
    let report = audit_workbook(&planted(dir.path(), None, false), 1e-9).unwrap();
    assert_eq!(report.eta_source, EtaSource::Inferred);
    assert!((report.eta - 0.5).abs() < 1e-9);
    assert!(report.is_clean(), "{:?}", report.findings);
}

#[test]
fn a_file_that_is_not_a_workbook_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.xlsx");
    std::fs::write(&path, "just text").unwrap();
    assert!(matches!(audit_workbook(&path, 1e-9), Err(WorkbookError::Unreadable(_))));
    let mut wb = Workbook::new();
    wb.add_worksheet().write_string(0, 0, "hello").unwrap();
    let empty = dir.path().join("empty.xlsx");
    wb.save(&empty).unwrap();
    assert!(matches!(audit_workbook(&empty, 1e-9), Err(WorkbookError::NoHeader)));
}
