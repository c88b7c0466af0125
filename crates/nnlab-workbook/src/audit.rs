//! Audits a hand-built 2-2-2 worksheet: every computed cell is recomputed from that row's own cells
//! (forward values from the row's weights, gradients from the row's forward values, each weight from the
//! previous row's weight and gradient cells), so one wrong formula is reported where it is, not as the
//! cascade of wrong numbers it causes further down.

use std::collections::HashMap;
use std::path::Path;

use calamine::{Data, Range, Reader, Xlsx, open_workbook};
use nnlab_backprop::sigmoid;
use nnlab_backprop::table::{BiasColumns, columns as columns_with};

use crate::error::WorkbookError;
use crate::export::column_letter;
use crate::headers::{canonical, is_learning_rate_label};
use crate::sweep_sheet::{SweepAudit, audit_sweep_sheet};

/// Where η came from.
#[derive(Debug, Clone, PartialEq)]
pub enum EtaSource {
    /// A labelled cell, e.g. `J31`.
    Cell(String),
    /// Inferred from the weight change between the first two rows.
    Inferred,
}

/// The first wrong cell of one column, and how many of its rows are wrong.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// Canonical column name (`dE_dw3`) or, in a sweep sheet, the rate's header.
    pub column: String,
    /// The header as written in the sheet.
    pub header: String,
    /// Address of the first wrong cell, e.g. `AA33`.
    pub cell: String,
    /// 1-based sheet row of the first wrong cell.
    pub sheet_row: u32,
    /// Iteration of that row (1 = the first data row).
    pub iteration: usize,
    /// The correct value recomputed from the row's own inputs.
    pub expected: f64,
    /// The value stored in the cell.
    pub found: f64,
    /// The cell's formula, if it has one.
    pub formula: Option<String>,
    /// Rows of this column that are wrong.
    pub wrong_rows: usize,
    /// Rows of this column that were checked.
    pub rows_checked: usize,
}

/// Everything the auditor found.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditReport {
    /// Sheet holding the worksheet.
    pub sheet: String,
    /// 1-based header row.
    pub header_row: u32,
    /// Number of iteration rows.
    pub iterations: usize,
    /// The learning rate used for the weight updates.
    pub eta: f64,
    /// Where η was found.
    pub eta_source: EtaSource,
    /// Computed columns checked (canonical names).
    pub columns_checked: Vec<String>,
    /// Cells compared.
    pub cells_checked: usize,
    /// One entry per wrong column, in sheet order.
    pub findings: Vec<Finding>,
    /// Learning-rate study sheets found beside the worksheet, each checked against a correct recomputation.
    pub sweeps: Vec<SweepAudit>,
}

impl AuditReport {
    /// True when no cell anywhere is wrong.
    pub fn is_clean(&self) -> bool {
        self.findings.is_empty() && self.sweeps.iter().all(|s| s.findings.is_empty())
    }
}

/// A cell's number, if it holds one.
pub(crate) fn number(range: &Range<Data>, row: u32, col: u32) -> Option<f64> {
    match range.get_value((row, col))? {
        Data::Float(x) => Some(*x),
        Data::Int(i) => Some(*i as f64),
        _ => None,
    }
}

/// A cell's text, if it holds a string.
pub(crate) fn text(range: &Range<Data>, row: u32, col: u32) -> Option<&str> {
    match range.get_value((row, col))? {
        Data::String(s) => Some(s.as_str()),
        _ => None,
    }
}

/// The formula of a cell as a spreadsheet shows it (with `=`).
pub(crate) fn formula_text(formulas: &Range<String>, row: u32, col: u32) -> Option<String> {
    let f = formulas.get_value((row, col))?.trim();
    (!f.is_empty()).then(|| {
        if f.starts_with('=') {
            f.to_string()
        } else {
            format!("={f}")
        }
    })
}

/// Whether `found` equals `expected` within a relative tolerance (absolute near zero).
pub(crate) fn agrees(expected: f64, found: f64, tolerance: f64) -> bool {
    (expected - found).abs() <= tolerance * expected.abs().max(found.abs()).max(1e-12)
}

/// Cell address from 0-based coordinates.
pub(crate) fn address(row: u32, col: u32) -> String {
    format!("{}{}", column_letter(col as usize), row + 1)
}

const REQUIRED: [&str; 12] = ["t1", "t2", "i1", "i2", "w1", "w2", "w3", "w4", "w5", "w6", "w7", "w8"];

/// Canonical column name → (0-based column, header text as written).
type HeaderColumns = HashMap<&'static str, (u32, String)>;

/// The header row of a sheet: its 0-based row and its columns.
fn find_header(range: &Range<Data>) -> Option<(u32, HeaderColumns)> {
    let (start, end) = (range.start()?, range.end()?);
    let mut best: Option<(u32, HeaderColumns)> = None;
    for row in start.0..=end.0 {
        let mut columns = HashMap::new();
        for col in start.1..=end.1 {
            if let Some(name) = text(range, row, col).and_then(canonical) {
                columns
                    .entry(name)
                    .or_insert((col, text(range, row, col).unwrap_or_default().to_string()));
            }
        }
        if REQUIRED.iter().all(|r| columns.contains_key(r))
            && best.as_ref().is_none_or(|(_, b)| columns.len() > b.len())
        {
            best = Some((row, columns));
        }
    }
    best
}

/// A cell labelled η/eta/lr and the number beside (or below) it.
fn find_eta(range: &Range<Data>, header_row: u32) -> Option<(f64, String)> {
    let (start, end) = (range.start()?, range.end()?);
    for row in start.0..=end.0 {
        if row == header_row {
            continue;
        }
        for col in start.1..=end.1 {
            if text(range, row, col).is_some_and(is_learning_rate_label) {
                for (r, c) in [(row, col + 1), (row, col + 2), (row + 1, col)] {
                    if let Some(x) = number(range, r, c) {
                        return Some((x, address(r, c)));
                    }
                }
            }
        }
    }
    None
}

/// The value of every canonical column in one sheet row.
type RowValues = HashMap<&'static str, f64>;

/// Correct values of the computed columns of a row, each from that row's own cells (or, where a column
/// is missing, from the recomputed value).
fn recompute(found: &RowValues, previous: Option<&RowValues>, eta: f64) -> Vec<(&'static str, f64)> {
    let mut expected: Vec<(&'static str, f64)> = Vec::new();
    let mut known = found.clone();
    let put = |name: &'static str, value: f64, expected: &mut Vec<(&'static str, f64)>, known: &mut RowValues| {
        expected.push((name, value));
        known.entry(name).or_insert(value);
    };
    if let Some(prev) = previous {
        for k in 1..=8 {
            let (w, g) = (nnlab_backprop::WEIGHT_NAMES[k - 1], format!("dE_dw{k}"));
            if let (Some(pw), Some(pg)) = (prev.get(w), prev.get(g.as_str())) {
                put(w, pw - eta * pg, &mut expected, &mut known);
            }
        }
        // A bias with a gradient column is learned like a weight; one without stays as it was.
        for (b, g) in [("b1", "dE_db1"), ("b2", "dE_db2")] {
            match (prev.get(b), prev.get(g)) {
                (Some(pb), Some(pg)) => put(b, pb - eta * pg, &mut expected, &mut known),
                (Some(pb), None) => put(b, *pb, &mut expected, &mut known),
                _ => {}
            }
        }
    }
    let v = |known: &RowValues, n: &str| known.get(n).copied().unwrap_or(f64::NAN);
    // A sheet without bias columns has no biases; one with them adds them to each net input.
    let bias = |known: &RowValues, b: &str| known.get(b).copied().unwrap_or(0.0);
    let dot = |known: &RowValues, a: [&str; 4]| v(known, a[0]) * v(known, a[1]) + v(known, a[2]) * v(known, a[3]);
    let h1 = dot(&known, ["i1", "w1", "i2", "w2"]) + bias(&known, "b1");
    put("h1", h1, &mut expected, &mut known);
    put("a_h1", sigmoid(v(&known, "h1")), &mut expected, &mut known);
    let h2 = dot(&known, ["i1", "w3", "i2", "w4"]) + bias(&known, "b1");
    put("h2", h2, &mut expected, &mut known);
    put("a_h2", sigmoid(v(&known, "h2")), &mut expected, &mut known);
    let o1 = dot(&known, ["a_h1", "w5", "a_h2", "w6"]) + bias(&known, "b2");
    put("o1", o1, &mut expected, &mut known);
    put("a_o1", sigmoid(v(&known, "o1")), &mut expected, &mut known);
    let o2 = dot(&known, ["a_h1", "w7", "a_h2", "w8"]) + bias(&known, "b2");
    put("o2", o2, &mut expected, &mut known);
    put("a_o2", sigmoid(v(&known, "o2")), &mut expected, &mut known);
    put(
        "E1",
        0.5 * (v(&known, "t1") - v(&known, "a_o1")).powi(2),
        &mut expected,
        &mut known,
    );
    put(
        "E2",
        0.5 * (v(&known, "t2") - v(&known, "a_o2")).powi(2),
        &mut expected,
        &mut known,
    );
    put("E_total", v(&known, "E1") + v(&known, "E2"), &mut expected, &mut known);
    let delta = |known: &RowValues, o: &str, t: &str| (v(known, o) - v(known, t)) * v(known, o) * (1.0 - v(known, o));
    let (d1, d2) = (delta(&known, "a_o1", "t1"), delta(&known, "a_o2", "t2"));
    let (a1, a2) = (v(&known, "a_h1"), v(&known, "a_h2"));
    let back1 = (d1 * v(&known, "w5") + d2 * v(&known, "w7")) * a1 * (1.0 - a1);
    let back2 = (d1 * v(&known, "w6") + d2 * v(&known, "w8")) * a2 * (1.0 - a2);
    let (i1, i2) = (v(&known, "i1"), v(&known, "i2"));
    for (name, value) in [
        ("dE_dw1", back1 * i1),
        ("dE_dw2", back1 * i2),
        ("dE_dw3", back2 * i1),
        ("dE_dw4", back2 * i2),
        ("dE_dw5", d1 * a1),
        ("dE_dw6", d1 * a2),
        ("dE_dw7", d2 * a1),
        ("dE_dw8", d2 * a2),
        ("dE_db1", back1 + back2),
        ("dE_db2", d1 + d2),
    ] {
        put(name, value, &mut expected, &mut known);
    }
    expected
}

/// Reads the workbook at `path` and checks every computed cell of its 2-2-2 worksheet, and any
/// learning-rate study sheet beside it, within relative `tolerance`.
pub fn audit_workbook(path: &Path, tolerance: f64) -> Result<AuditReport, WorkbookError> {
    let mut workbook: Xlsx<_> =
        open_workbook(path).map_err(|e: calamine::XlsxError| WorkbookError::Unreadable(e.to_string()))?;
    let mut sheets = Vec::new();
    for name in workbook.sheet_names() {
        let range = workbook
            .worksheet_range(&name)
            .map_err(|e| WorkbookError::Unreadable(e.to_string()))?;
        let formulas = workbook
            .worksheet_formula(&name)
            .map_err(|e| WorkbookError::Unreadable(e.to_string()))?;
        sheets.push((name, range, formulas));
    }
    let (main_index, header_row, columns) = sheets
        .iter()
        .enumerate()
        .filter_map(|(k, (_, range, _))| find_header(range).map(|(row, cols)| (k, row, cols)))
        .min_by_key(|(k, _, cols)| (std::cmp::Reverse(cols.len()), *k))
        .ok_or(WorkbookError::NoHeader)?;
    let (sheet, range, formulas) = &sheets[main_index];

    let mut rows: Vec<(u32, RowValues)> = Vec::new();
    let w1_col = columns["w1"].0;
    for row in header_row + 1.. {
        if number(range, row, w1_col).is_none() {
            break;
        }
        let values = columns
            .iter()
            .filter_map(|(name, (col, _))| number(range, row, *col).map(|x| (*name, x)))
            .collect();
        rows.push((row, values));
    }
    if rows.is_empty() {
        return Err(WorkbookError::NoData {
            sheet: sheet.clone(),
            row: header_row + 2,
            cell: address(header_row + 1, w1_col),
        });
    }
    let computed: Vec<&'static str> = columns_with(BiasColumns::Learned)
        .into_iter()
        .filter(|c| columns.contains_key(c) && !matches!(*c, "iter" | "t1" | "t2" | "i1" | "i2"))
        .collect();
    if let Some(missing) = computed
        .iter()
        .find(|c| !c.starts_with('w') && !c.starts_with('b') && !rows[0].1.contains_key(*c))
    {
        let (col, _) = columns[missing];
        return Err(WorkbookError::NoData {
            sheet: sheet.clone(),
            row: header_row + 2,
            cell: address(header_row + 1, col),
        });
    }

    let (eta, eta_source) = match find_eta(range, header_row) {
        Some((eta, cell)) => (eta, EtaSource::Cell(cell)),
        None => (
            infer_eta(&rows).ok_or_else(|| WorkbookError::NoLearningRate(sheet.clone()))?,
            EtaSource::Inferred,
        ),
    };

    let mut findings: HashMap<&'static str, Finding> = HashMap::new();
    let mut checked: HashMap<&'static str, usize> = HashMap::new();
    let mut cells_checked = 0;
    for (k, (row, values)) in rows.iter().enumerate() {
        let previous = k.checked_sub(1).map(|p| &rows[p].1);
        for (name, expected) in recompute(values, previous, eta) {
            let Some(found) = values.get(name).copied() else {
                continue;
            };
            if !columns.contains_key(name) {
                continue;
            }
            cells_checked += 1;
            *checked.entry(name).or_default() += 1;
            if agrees(expected, found, tolerance) {
                continue;
            }
            let (col, header) = &columns[name];
            findings
                .entry(name)
                .or_insert_with(|| Finding {
                    column: name.to_string(),
                    header: header.clone(),
                    cell: address(*row, *col),
                    sheet_row: row + 1,
                    iteration: k + 1,
                    expected,
                    found,
                    formula: formula_text(formulas, *row, *col),
                    wrong_rows: 0,
                    rows_checked: 0,
                })
                .wrong_rows += 1;
        }
    }
    let mut findings: Vec<Finding> = findings
        .into_values()
        .map(|mut f| {
            f.rows_checked = checked[f.column.as_str()];
            f
        })
        .collect();
    findings.sort_by_key(|f| columns[f.column.as_str()].0);

    let first = &rows[0].1;
    let start = nnlab_backprop::Net222 {
        inputs: [first["i1"], first["i2"]],
        targets: [first["t1"], first["t2"]],
        weights: std::array::from_fn(|k| first[nnlab_backprop::WEIGHT_NAMES[k]]),
        biases: [0, 1].map(|k| first.get(nnlab_backprop::BIAS_NAMES[k]).copied().unwrap_or(0.0)),
    };
    let learn_biases = columns.contains_key("dE_db1") || columns.contains_key("dE_db2");
    let sweeps = sheets
        .iter()
        .enumerate()
        .filter(|(k, (_, range, _))| *k != main_index && find_header(range).is_none())
        .filter_map(|(_, (name, range, formulas))| {
            audit_sweep_sheet(name, range, formulas, &start, learn_biases, tolerance)
        })
        .collect();

    Ok(AuditReport {
        sheet: sheet.clone(),
        header_row: header_row + 1,
        iterations: rows.len(),
        eta,
        eta_source,
        columns_checked: computed.iter().map(|c| c.to_string()).collect(),
        cells_checked,
        findings,
        sweeps,
    })
}

/// η from the first two rows: (w_prev − w_next) / g_prev for the weight with the largest gradient.
fn infer_eta(rows: &[(u32, RowValues)]) -> Option<f64> {
    let (first, second) = (&rows.first()?.1, &rows.get(1)?.1);
    (1..=8)
        .filter_map(|k| {
            let w = nnlab_backprop::WEIGHT_NAMES[k - 1];
            let g = *first.get(format!("dE_dw{k}").as_str())?;
            Some((g.abs(), (first.get(w)? - second.get(w)?) / g))
        })
        .filter(|(g, eta)| *g > 0.0 && eta.is_finite())
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, eta)| eta)
}
