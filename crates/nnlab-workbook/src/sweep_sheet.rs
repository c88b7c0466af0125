//! The learning-rate study in the exported workbook: one live formula sheet per rate, a summary sheet
//! of E_total per iteration referring to them, and a native line chart.

use nnlab_backprop::descend;
use nnlab_backprop::table::{BiasColumns, columns};
use rust_xlsxwriter::{Chart, ChartType, Format, Formula, Workbook};

use crate::error::WorkbookError;
use crate::export::{ExportOptions, HEADER_ROW, MAIN_SHEET, column_letter, write_iteration_sheet};

/// Name of the summary sheet.
pub const SWEEP_SHEET: &str = "lr_sweep";

/// Name of the formula sheet for one rate.
pub fn rate_sheet_name(lr: f64) -> String {
    format!("lr={lr}")
}

pub(crate) fn write_sweep_sheet(workbook: &mut Workbook, options: &ExportOptions) -> Result<(), WorkbookError> {
    let mut curves = Vec::with_capacity(options.lrs.len());
    for &lr in &options.lrs {
        let rows = descend(
            &options.net,
            lr,
            options.iterations,
            options.bias == BiasColumns::Learned,
        )?;
        curves.push(rows.iter().map(|r| r.forward.e_total).collect::<Vec<_>>());
        let sheet = workbook.add_worksheet();
        sheet.set_name(rate_sheet_name(lr))?;
        write_iteration_sheet(sheet, &rows, lr, options.cached_values, Some(MAIN_SHEET), options.bias)?;
    }
    let bold = Format::new().set_bold();
    let e_col = column_letter(
        columns(options.bias)
            .iter()
            .position(|c| *c == "E_total")
            .expect("known column"),
    );
    let sheet = workbook.add_worksheet();
    sheet.set_name(SWEEP_SHEET)?;
    sheet.write_string_with_format(0, 0, "iter", &bold)?;
    for (k, &lr) in options.lrs.iter().enumerate() {
        sheet.write_string_with_format(0, k as u16 + 1, format!("lr={lr}"), &bold)?;
    }
    for i in 0..options.iterations {
        sheet.write_number(i as u32 + 1, 0, (i + 1) as f64)?;
    }
    for (k, (&lr, curve)) in options.lrs.iter().zip(&curves).enumerate() {
        for (i, e_total) in curve.iter().enumerate() {
            let source_row = HEADER_ROW + 1 + i as u32;
            let f = Formula::new(format!("='{}'!{e_col}{source_row}", rate_sheet_name(lr)));
            let f = if options.cached_values {
                f.set_result(e_total.to_string())
            } else {
                f
            };
            sheet.write_formula(i as u32 + 1, k as u16 + 1, f)?;
        }
    }
    let mut chart = Chart::new(ChartType::Line);
    let last = options.iterations as u32;
    for k in 0..options.lrs.len() {
        let col = k as u16 + 1;
        chart
            .add_series()
            .set_categories((SWEEP_SHEET, 1, 0, last, 0))
            .set_values((SWEEP_SHEET, 1, col, last, col))
            .set_name((SWEEP_SHEET, 0, col));
    }
    chart.title().set_name("E_total per iteration for each learning rate η");
    chart.x_axis().set_name("iteration");
    chart.y_axis().set_name("E_total");
    chart.set_width(720).set_height(420);
    sheet.insert_chart(1, options.lrs.len() as u16 + 2, &chart)?;
    Ok(())
}

/// What the auditor found in one learning-rate study sheet (E_total per iteration for several rates).
#[derive(Debug, Clone, PartialEq)]
pub struct SweepAudit {
    /// Sheet name.
    pub sheet: String,
    /// The rates found, in sheet order.
    pub rates: Vec<f64>,
    /// Cells compared.
    pub cells_checked: usize,
    /// One entry per wrong rate column.
    pub findings: Vec<crate::Finding>,
}

/// A rate written in a header cell as `lr=0.5`, `η=0.5` or `eta = 0.5`.
fn rate_in_header(text: &str) -> Option<f64> {
    let (label, value) = text.split_once('=')?;
    crate::headers::is_learning_rate_label(label)
        .then(|| value.trim().parse().ok())
        .flatten()
}

/// (row, iteration column, (column, rate) of each rate) of a sweep sheet, all 0-based.
type RateLayout = (u32, u32, Vec<(u32, f64)>);

/// Finds the rate columns of a sweep sheet: either a row `η | 0.1 | 0.2 …` (iterations in the label's
/// column below it) or a header `iter | lr=0.1 | lr=0.2 …`. Returns (row, iteration column, rate columns).
fn find_rate_row(range: &calamine::Range<calamine::Data>) -> Option<RateLayout> {
    use crate::audit::{number, text};
    let (start, end) = (range.start()?, range.end()?);
    for row in start.0..=end.0 {
        for col in start.1..=end.1 {
            let Some(label) = text(range, row, col) else {
                continue;
            };
            if crate::headers::is_learning_rate_label(label) {
                let rates: Vec<_> = (col + 1..=end.1)
                    .map_while(|c| number(range, row, c).map(|x| (c, x)))
                    .collect();
                if rates.len() >= 2 {
                    return Some((row, col, rates));
                }
            }
            if rate_in_header(label).is_some() {
                let rates: Vec<_> = (start.1..=end.1)
                    .filter_map(|c| text(range, row, c).and_then(rate_in_header).map(|x| (c, x)))
                    .collect();
                let iter_col = (start.1..=end.1)
                    .find(|&c| text(range, row, c).and_then(crate::headers::canonical) == Some("iter"))
                    .unwrap_or(start.1);
                return Some((row, iter_col, rates));
            }
        }
    }
    None
}

/// Checks every E_total of a learning-rate study sheet against gradient descent from the worksheet's
/// first row; `None` when the sheet is not such a study.
pub(crate) fn audit_sweep_sheet(
    name: &str,
    range: &calamine::Range<calamine::Data>,
    formulas: &calamine::Range<String>,
    start: &nnlab_backprop::Net222,
    learn_biases: bool,
    tolerance: f64,
) -> Option<SweepAudit> {
    use crate::audit::{address, agrees, formula_text, number};
    let (rate_row, iter_col, rates) = find_rate_row(range)?;
    let end = range.end()?;
    let data_rows: Vec<(u32, usize)> = (rate_row + 1..=end.0)
        .filter_map(|r| {
            number(range, r, iter_col)
                .filter(|n| *n >= 1.0 && n.fract() == 0.0)
                .map(|n| (r, n as usize))
        })
        .collect();
    let max_iter = data_rows.iter().map(|(_, n)| *n).max()?;
    let mut audit = SweepAudit {
        sheet: name.to_string(),
        rates: rates.iter().map(|(_, lr)| *lr).collect(),
        cells_checked: 0,
        findings: Vec::new(),
    };
    for (col, lr) in rates {
        let Ok(curve) = descend(start, lr, max_iter, learn_biases) else {
            continue;
        };
        let mut finding: Option<crate::Finding> = None;
        let mut checked = 0;
        for &(row, iteration) in &data_rows {
            let Some(found) = number(range, row, col) else {
                continue;
            };
            checked += 1;
            let expected = curve[iteration - 1].forward.e_total;
            if agrees(expected, found, tolerance) {
                continue;
            }
            finding
                .get_or_insert_with(|| crate::Finding {
                    column: format!("lr={lr}"),
                    header: format!("lr={lr}"),
                    cell: address(row, col),
                    sheet_row: row + 1,
                    iteration,
                    expected,
                    found,
                    formula: formula_text(formulas, row, col),
                    wrong_rows: 0,
                    rows_checked: 0,
                })
                .wrong_rows += 1;
        }
        audit.cells_checked += checked;
        if let Some(mut f) = finding {
            f.rows_checked = checked;
            audit.findings.push(f);
        }
    }
    Some(audit)
}
