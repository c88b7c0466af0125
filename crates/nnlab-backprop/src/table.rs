//! The worksheet's columns: one canonical name per quantity, shared by the CSV table, the exported
//! workbook and the auditor.

use crate::descent::Iteration;

/// Column names in worksheet order, exactly the CSV header of `nnlab backprop table --format csv`.
pub const COLUMNS: [&str; 32] = [
    "iter", "t1", "t2", "i1", "i2", "w1", "w2", "w3", "w4", "h1", "a_h1", "h2", "a_h2", "w5", "w6", "w7", "w8", "o1",
    "a_o1", "o2", "a_o2", "E1", "E2", "E_total", "dE_dw1", "dE_dw2", "dE_dw3", "dE_dw4", "dE_dw5", "dE_dw6", "dE_dw7",
    "dE_dw8",
];

/// Which bias columns a worksheet has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BiasColumns {
    /// No biases: the worksheet as it is, exactly [`COLUMNS`].
    None,
    /// `b1` before `h1` and `b2` before `o1`, constant down the sheet.
    Fixed,
    /// As `Fixed`, plus `dE_db1`, `dE_db2` at the end; each bias is updated like a weight.
    Learned,
}

impl BiasColumns {
    /// The bias columns a run with these settings shows.
    pub fn for_run(has_biases: bool, learn_biases: bool) -> Self {
        match (has_biases || learn_biases, learn_biases) {
            (false, _) => Self::None,
            (true, false) => Self::Fixed,
            (true, true) => Self::Learned,
        }
    }
}

/// Column names in worksheet order for a sheet with these bias columns.
pub fn columns(bias: BiasColumns) -> Vec<&'static str> {
    let mut out = Vec::with_capacity(COLUMNS.len() + 4);
    for name in COLUMNS {
        if bias != BiasColumns::None {
            match name {
                "h1" => out.push("b1"),
                "o1" => out.push("b2"),
                _ => {}
            }
        }
        out.push(name);
    }
    if bias == BiasColumns::Learned {
        out.extend(["dE_db1", "dE_db2"]);
    }
    out
}

/// The value of one named column (any name of [`columns`]) in one iteration.
pub fn value(row: &Iteration, name: &str) -> f64 {
    let n = &row.net;
    let f = &row.forward;
    let indexed = |prefix: &str| name.strip_prefix(prefix).and_then(|k| k.parse::<usize>().ok());
    if let Some(k) = indexed("dE_dw") {
        return row.gradients[k - 1];
    }
    if let Some(k) = indexed("dE_db") {
        return row.bias_gradients[k - 1];
    }
    if let Some(k) = indexed("w") {
        return n.weights[k - 1];
    }
    if let Some(k) = indexed("b") {
        return n.biases[k - 1];
    }
    match name {
        "iter" => row.iter as f64,
        "t1" => n.targets[0],
        "t2" => n.targets[1],
        "i1" => n.inputs[0],
        "i2" => n.inputs[1],
        "h1" => f.h1,
        "a_h1" => f.a_h1,
        "h2" => f.h2,
        "a_h2" => f.a_h2,
        "o1" => f.o1,
        "a_o1" => f.a_o1,
        "o2" => f.o2,
        "a_o2" => f.a_o2,
        "E1" => f.e1,
        "E2" => f.e2,
        "E_total" => f.e_total,
        other => panic!("no worksheet column named {other}"),
    }
}

/// The value of every column of [`COLUMNS`] for one iteration.
pub fn row_values(row: &Iteration) -> [f64; 32] {
    std::array::from_fn(|k| value(row, COLUMNS[k]))
}

/// A table as CSV with shortest round-trip numbers: the format of `--format csv` and of the web API's
/// download.
pub fn csv_text(columns: &[impl AsRef<str>], rows: &[Vec<f64>]) -> String {
    let header: Vec<&str> = columns.iter().map(AsRef::as_ref).collect();
    let mut text = header.join(",");
    text.push('\n');
    for row in rows {
        text.push_str(&row.iter().map(|x| x.to_string()).collect::<Vec<_>>().join(","));
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Net222, descend};

    #[test]
    fn bias_columns_sit_where_the_biases_enter() {
        assert_eq!(columns(BiasColumns::None), COLUMNS.to_vec());
        let fixed = columns(BiasColumns::Fixed);
        let at = |c: &[&str], n: &str| c.iter().position(|x| *x == n).unwrap();
        assert_eq!(at(&fixed, "b1") + 1, at(&fixed, "h1"));
        assert_eq!(at(&fixed, "b2") + 1, at(&fixed, "o1"));
        let learned = columns(BiasColumns::Learned);
        assert_eq!(learned[learned.len() - 2..], ["dE_db1", "dE_db2"]);
        let net = Net222::default().with_biases([0.35, 0.6]).unwrap();
        let row = &descend(&net, 0.5, 1, true).unwrap()[0];
        assert_eq!(value(row, "b2"), 0.6);
        assert_eq!(value(row, "dE_db1"), row.bias_gradients[0]);
        assert_eq!(value(row, "w8"), 0.55);
    }
}
