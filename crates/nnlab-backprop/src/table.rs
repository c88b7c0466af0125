//! The worksheet's columns: one canonical name per quantity, shared by the CSV table, the exported
//! workbook and the auditor.

use crate::descent::Iteration;

/// Column names in worksheet order, exactly the CSV header of `nnlab backprop table --format csv`.
pub const COLUMNS: [&str; 32] = [
    "iter", "t1", "t2", "i1", "i2", "w1", "w2", "w3", "w4", "h1", "a_h1", "h2", "a_h2", "w5", "w6", "w7", "w8", "o1",
    "a_o1", "o2", "a_o2", "E1", "E2", "E_total", "dE_dw1", "dE_dw2", "dE_dw3", "dE_dw4", "dE_dw5", "dE_dw6", "dE_dw7",
    "dE_dw8",
];

/// The value of every column of [`COLUMNS`] for one iteration.
pub fn row_values(row: &Iteration) -> [f64; 32] {
    let n = &row.net;
    let f = &row.forward;
    let w = n.weights;
    let g = row.gradients;
    [
        row.iter as f64,
        n.targets[0],
        n.targets[1],
        n.inputs[0],
        n.inputs[1],
        w[0],
        w[1],
        w[2],
        w[3],
        f.h1,
        f.a_h1,
        f.h2,
        f.a_h2,
        w[4],
        w[5],
        w[6],
        w[7],
        f.o1,
        f.a_o1,
        f.o2,
        f.a_o2,
        f.e1,
        f.e2,
        f.e_total,
        g[0],
        g[1],
        g[2],
        g[3],
        g[4],
        g[5],
        g[6],
        g[7],
    ]
}

/// Index of a column in [`COLUMNS`].
pub fn column_index(name: &str) -> Option<usize> {
    COLUMNS.iter().position(|c| *c == name)
}
