//! Writes the worksheet as a workbook whose every computed cell is an Excel formula: each row refers to
//! the row above and to one η cell, so changing η or a starting weight makes the whole sheet follow.

use nnlab_backprop::table::{BiasColumns, columns, value};
use nnlab_backprop::{Iteration, Net222, descend};
use rust_xlsxwriter::{Format, Formula, Workbook, Worksheet};

use crate::error::WorkbookError;
use crate::sweep_sheet::write_sweep_sheet;

/// Name of the main sheet.
pub const MAIN_SHEET: &str = "backprop";
/// The η cell every weight update refers to.
pub const ETA_CELL: &str = "$B$3";
/// 1-based row of the header; iteration 1 is the row below.
pub const HEADER_ROW: u32 = 5;

/// What to export.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportOptions {
    /// Inputs, targets, starting weights and biases.
    pub net: Net222,
    /// Which bias columns the sheets have (none: the worksheet exactly; fixed; learned with their
    /// gradients and updates).
    pub bias: BiasColumns,
    /// η of the main sheet.
    pub lr: f64,
    /// Rows per sheet.
    pub iterations: usize,
    /// Learning rates of the sweep sheet (one formula sheet each).
    pub lrs: Vec<f64>,
    /// Write the engine's values as each formula's cached result (readers that do not recalculate show them).
    pub cached_values: bool,
}

/// Excel column letters of a 0-based column index.
pub fn column_letter(mut col: usize) -> String {
    let mut s = String::new();
    loop {
        s.insert(0, (b'A' + (col % 26) as u8) as char);
        if col < 26 {
            return s;
        }
        col = col / 26 - 1;
    }
}

/// The formula of a computed column at 1-based sheet row `r` of a sheet with columns `cols`, or `None`
/// for a first-row constant.
fn formula_for(cols: &[&str], name: &str, r: u32, first_row: u32) -> Option<String> {
    let letter = |n: &str| column_letter(cols.iter().position(|c| *c == n).expect("known column"));
    let c = |n: &str| format!("{}{r}", letter(n));
    let p = |n: &str| format!("{}{}", letter(n), r - 1);
    let has = |n: &str| cols.contains(&n);
    let delta = |o: &str, t: &str| format!("({a}-{t})*{a}*(1-{a})", a = c(o), t = c(t));
    let bias = |b: &str| if has(b) { format!("+{}", c(b)) } else { String::new() };
    // δ of a hidden unit: (δo1·w_a + δo2·w_b)·a_h(1 − a_h).
    let hidden_delta = |w_a: &str, w_b: &str, hidden: &str| {
        format!(
            "({}*{}+{}*{})*{h}*(1-{h})",
            delta("a_o1", "t1"),
            c(w_a),
            delta("a_o2", "t2"),
            c(w_b),
            h = c(hidden)
        )
    };
    let carried = matches!(name, "iter" | "t1" | "t2" | "i1" | "i2") || name.starts_with('w') || name.starts_with('b');
    if carried && r == first_row {
        return None;
    }
    Some(match name {
        "iter" => format!("={}+1", p("iter")),
        "t1" | "t2" | "i1" | "i2" => format!("={}", p(name)),
        w if w.starts_with('w') => format!("={}-{ETA_CELL}*{}", p(w), p(&format!("dE_d{w}"))),
        b if b.starts_with('b') && has(&format!("dE_d{b}")) => {
            format!("={}-{ETA_CELL}*{}", p(b), p(&format!("dE_d{b}")))
        }
        b if b.starts_with('b') => format!("={}", p(b)),
        "h1" => format!("={}*{}+{}*{}{}", c("i1"), c("w1"), c("i2"), c("w2"), bias("b1")),
        "h2" => format!("={}*{}+{}*{}{}", c("i1"), c("w3"), c("i2"), c("w4"), bias("b1")),
        "o1" => format!("={}*{}+{}*{}{}", c("a_h1"), c("w5"), c("a_h2"), c("w6"), bias("b2")),
        "o2" => format!("={}*{}+{}*{}{}", c("a_h1"), c("w7"), c("a_h2"), c("w8"), bias("b2")),
        "a_h1" | "a_h2" | "a_o1" | "a_o2" => format!("=1/(1+EXP(-{}))", c(&name[2..])),
        "E1" => format!("=0.5*({}-{})^2", c("t1"), c("a_o1")),
        "E2" => format!("=0.5*({}-{})^2", c("t2"), c("a_o2")),
        "E_total" => format!("={}+{}", c("E1"), c("E2")),
        "dE_dw5" => format!("={}*{}", delta("a_o1", "t1"), c("a_h1")),
        "dE_dw6" => format!("={}*{}", delta("a_o1", "t1"), c("a_h2")),
        "dE_dw7" => format!("={}*{}", delta("a_o2", "t2"), c("a_h1")),
        "dE_dw8" => format!("={}*{}", delta("a_o2", "t2"), c("a_h2")),
        "dE_dw1" | "dE_dw2" | "dE_dw3" | "dE_dw4" => {
            let (w_a, w_b, hidden) = if matches!(name, "dE_dw1" | "dE_dw2") {
                ("w5", "w7", "a_h1")
            } else {
                ("w6", "w8", "a_h2")
            };
            let input = if matches!(name, "dE_dw1" | "dE_dw3") {
                "i1"
            } else {
                "i2"
            };
            format!("={}*{}", hidden_delta(w_a, w_b, hidden), c(input))
        }
        "dE_db1" => format!(
            "={}+{}",
            hidden_delta("w5", "w7", "a_h1"),
            hidden_delta("w6", "w8", "a_h2")
        ),
        "dE_db2" => format!("={}+{}", delta("a_o1", "t1"), delta("a_o2", "t2")),
        other => unreachable!("no formula for column {other}"),
    })
}

/// Writes one iteration sheet: title, η cell, header, one formula row per iteration.
/// `first_row_source` names a sheet whose first row this sheet's first-row constants refer to.
pub(crate) fn write_iteration_sheet(
    sheet: &mut Worksheet,
    rows: &[Iteration],
    lr: f64,
    cached: bool,
    first_row_source: Option<&str>,
    bias: BiasColumns,
) -> Result<(), WorkbookError> {
    let bold = Format::new().set_bold();
    let title = match bias {
        BiasColumns::None => {
            "2-2-2 sigmoid network: E = ½Σ(t − a)², w ← w − η·∂E/∂w (every computed cell is a formula)"
        }
        BiasColumns::Fixed => {
            "2-2-2 sigmoid network with fixed biases b1 (hidden) and b2 (output): E = ½Σ(t − a)², w ← w − η·∂E/∂w (every computed cell is a formula)"
        }
        BiasColumns::Learned => {
            "2-2-2 sigmoid network with learned biases b1 (hidden) and b2 (output): E = ½Σ(t − a)², w ← w − η·∂E/∂w, b ← b − η·∂E/∂b (every computed cell is a formula)"
        }
    };
    sheet.write_string_with_format(0, 0, title, &bold)?;
    sheet.write_string_with_format(2, 0, "η", &bold)?;
    sheet.write_number(2, 1, lr)?;
    let header = HEADER_ROW - 1;
    let cols = columns(bias);
    for (col, name) in cols.iter().enumerate() {
        sheet.write_string_with_format(header, col as u16, *name, &bold)?;
    }
    let first_row = HEADER_ROW + 1;
    for (k, row) in rows.iter().enumerate() {
        let r = first_row + k as u32;
        for (col, name) in cols.iter().enumerate() {
            let value = value(row, name);
            let (xr, xc) = (r - 1, col as u16);
            match (formula_for(&cols, name, r, first_row), first_row_source) {
                (Some(f), _) => {
                    let formula = if cached {
                        Formula::new(f).set_result(value.to_string())
                    } else {
                        Formula::new(f)
                    };
                    sheet.write_formula(xr, xc, formula)?;
                }
                (None, Some(source)) if *name != "iter" => {
                    let f = Formula::new(format!("='{source}'!{}{r}", column_letter(col)));
                    sheet.write_formula(xr, xc, if cached { f.set_result(value.to_string()) } else { f })?;
                }
                (None, _) => {
                    sheet.write_number(xr, xc, value)?;
                }
            }
        }
    }
    sheet.set_column_width(0, 6)?;
    sheet.set_column_range_width(1, (cols.len() - 1) as u16, 12)?;
    sheet.set_freeze_panes(HEADER_ROW, 1)?;
    Ok(())
}

/// Builds the workbook: the main sheet at η = `lr`, one formula sheet per swept rate, and a sweep sheet
/// with E_total per iteration for every rate and a line chart of it. Returns the .xlsx bytes.
pub fn export_workbook(options: &ExportOptions) -> Result<Vec<u8>, WorkbookError> {
    let learn = options.bias == BiasColumns::Learned;
    let rows = descend(&options.net, options.lr, options.iterations, learn)?;
    let mut workbook = Workbook::new();
    let main = workbook.add_worksheet();
    main.set_name(MAIN_SHEET)?;
    write_iteration_sheet(main, &rows, options.lr, options.cached_values, None, options.bias)?;
    write_sweep_sheet(&mut workbook, options)?;
    Ok(workbook.save_to_buffer()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_letters_follow_excel() {
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
        assert_eq!(column_letter(31), "AF");
        assert_eq!(column_letter(701), "ZZ");
        assert_eq!(column_letter(702), "AAA");
    }

    #[test]
    fn hidden_unit_two_gradients_use_a_h2() {
        let cols = columns(BiasColumns::None);
        let f = formula_for(&cols, "dE_dw3", 7, 6).unwrap();
        assert_eq!(f, "=((S7-B7)*S7*(1-S7)*O7+(U7-C7)*U7*(1-U7)*Q7)*M7*(1-M7)*D7");
        assert_eq!(formula_for(&cols, "w1", 7, 6).unwrap(), "=F6-$B$3*Y6");
        assert_eq!(formula_for(&cols, "w1", 6, 6), None);
    }

    #[test]
    fn bias_cells_enter_the_net_inputs_and_learn_like_weights() {
        let cols = columns(BiasColumns::Learned);
        // b1 sits in J, right before h1 in K.
        assert_eq!(formula_for(&cols, "h1", 7, 6).unwrap(), "=D7*F7+E7*G7+J7");
        assert_eq!(formula_for(&cols, "b1", 7, 6).unwrap(), "=J6-$B$3*AI6");
        assert_eq!(formula_for(&cols, "b1", 6, 6), None);
        let fixed = columns(BiasColumns::Fixed);
        assert_eq!(formula_for(&fixed, "b2", 7, 6).unwrap(), "=S6");
        assert!(
            formula_for(&cols, "dE_db2", 7, 6)
                .unwrap()
                .starts_with("=(U7-B7)*U7*(1-U7)+")
        );
    }
}
