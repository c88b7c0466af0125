//! Any TF Playground network (`nnlab backprop boundary`) as a workbook with live formulas, like the
//! worksheet: one row per training point processed, in training order — the point, its features, every
//! weight and bias as they stand, each unit's net input and output, the loss, each unit's δ, every
//! parameter's gradient and its running sum over the batch — and each row's parameters computed from the
//! row above by the update rule (on the last point of a batch: p − η·Σgrad/count, then for weights the L2
//! step). Change η, the batch size, the L2 rate or a starting weight and the sheet follows. The engine's
//! values come from replaying the same points through the engine ([`NetworkSheet::build`]).

use nnlab_backprop::Activation;
use nnlab_backprop::playground::{Experiment, Regularization};
use rust_xlsxwriter::{Format, Formula, Workbook};

use crate::error::WorkbookError;
use crate::export::column_letter;

/// The sheet's name.
pub const NETWORK_SHEET: &str = "network";
/// Most weights a network may have to be exported.
pub const MAX_EXPORT_WEIGHTS: usize = 100;
/// 1-based row of the header; the first point is the row below.
pub const NET_HEADER_ROW: u32 = 5;
/// The settings cells: η, batch size, L2 rate, training points.
const ETA: &str = "$B$3";
const BATCH: &str = "$D$3";
const L2: &str = "$F$3";
const POINTS: &str = "$H$3";

/// The columns, each with its engine value per row and formula per row (None: a constant).
pub struct NetworkSheet {
    /// Column names, left to right.
    pub columns: Vec<String>,
    /// The engine's value of every cell, row by row.
    pub values: Vec<Vec<f64>>,
    formulas: Vec<Vec<Option<String>>>,
    settings: [f64; 4],
}

/// The Excel formula of f(net) for the hidden or output activation.
fn activation_formula(act: Activation, net: &str) -> String {
    match act {
        Activation::Tanh => format!("TANH({net})"),
        Activation::Sigmoid => format!("1/(1+EXP(-{net}))"),
        Activation::Relu => format!("MAX(0,{net})"),
        Activation::Linear => net.to_string(),
    }
}

/// The Excel formula of f'(net) through the output a.
fn derivative_formula(act: Activation, net: &str, a: &str) -> String {
    match act {
        Activation::Tanh => format!("(1-{a}^2)"),
        Activation::Sigmoid => format!("{a}*(1-{a})"),
        Activation::Relu => format!("IF({net}>0,1,0)"),
        Activation::Linear => "1".into(),
    }
}

/// The Excel formula of a feature from the x1, x2 cells.
fn feature_formula(name: &str, x: &str, y: &str) -> String {
    match name {
        "x1" => format!("={x}"),
        "x2" => format!("={y}"),
        "x1sq" => format!("={x}^2"),
        "x2sq" => format!("={y}^2"),
        "x1x2" => format!("={x}*{y}"),
        "sinx1" => format!("=SIN({x})"),
        _ => format!("=SIN({y})"),
    }
}

impl NetworkSheet {
    /// The first `steps` points of `e`'s training (from its initial network), as columns, engine values
    /// and formulas. Refused: more than [`MAX_EXPORT_WEIGHTS`] weights, or L1 regularisation (its dead
    /// weights have no formula here).
    pub fn build(e: &Experiment, steps: usize) -> Result<Self, WorkbookError> {
        let net0 = &e.net;
        if net0.weight_count() > MAX_EXPORT_WEIGHTS {
            return Err(WorkbookError::Invalid(format!(
                "the network has {} weights; the workbook holds at most {MAX_EXPORT_WEIGHTS}",
                net0.weight_count()
            )));
        }
        if e.setup.regularization == Regularization::L1 {
            return Err(WorkbookError::Invalid(
                "regularization l1 cannot be exported (use none or l2)".into(),
            ));
        }
        let layers = net0.layers.clone();
        let names: Vec<&str> = e.setup.features.iter().map(|f| f.name()).collect();
        // Column names.
        let mut cols: Vec<String> = ["step", "x1", "x2", "label"].map(String::from).to_vec();
        cols.extend(names.iter().map(|n| format!("in_{n}")));
        let mut params = Vec::new();
        for l in 1..layers.len() {
            for j in 1..=layers[l] {
                for i in 1..=layers[l - 1] {
                    params.push(format!("w{l}_{j}_{i}"));
                }
            }
            for j in 1..=layers[l] {
                params.push(format!("b{l}_{j}"));
            }
        }
        cols.extend(params.iter().cloned());
        for (l, &units) in layers.iter().enumerate().skip(1) {
            for j in 1..=units {
                cols.push(format!("net{l}_{j}"));
                cols.push(format!("a{l}_{j}"));
            }
        }
        cols.push("loss".into());
        for (l, &units) in layers.iter().enumerate().skip(1) {
            cols.extend((1..=units).map(|j| format!("d{l}_{j}")));
        }
        cols.extend(params.iter().map(|p| format!("g_{p}")));
        cols.extend(params.iter().map(|p| format!("acc_{p}")));
        cols.push("count".into());
        cols.push("update".into());
        let mut sheet = Self {
            columns: cols,
            values: Vec::new(),
            formulas: Vec::new(),
            settings: [e.setup.lr, e.setup.batch_size as f64, 0.0, e.train.len() as f64],
        };
        if e.setup.regularization == Regularization::L2 {
            sheet.settings[2] = e.setup.reg_rate;
        }
        sheet.fill_values(e, steps);
        sheet.fill_formulas(e, steps, &names);
        Ok(sheet)
    }

    fn col(&self, name: &str) -> String {
        column_letter(self.columns.iter().position(|c| c == name).expect("a known column"))
    }

    /// Replays the points through the engine, recording every cell.
    fn fill_values(&mut self, e: &Experiment, steps: usize) {
        let mut net = e.net.clone();
        let n = e.train.len();
        let (reg, rate) = (e.setup.regularization, e.setup.reg_rate);
        for k in 0..steps {
            let p = e.train[k % n];
            let inputs = e.setup.inputs(p.x, p.y);
            let mut row = vec![(k + 1) as f64, p.x, p.y, p.label];
            row.extend(&inputs);
            for l in 0..net.weights.len() {
                row.extend(&net.weights[l]);
                row.extend(&net.biases[l]);
            }
            let trace = net.trace(&inputs);
            for (nets, outs) in &trace[1..] {
                for (x, a) in nets.iter().zip(outs) {
                    row.push(*x);
                    row.push(*a);
                }
            }
            row.push(0.5 * (trace.last().expect("an output").1[0] - p.label).powi(2));
            let (gw, gb) = net.gradients(&inputs, p.label);
            row.extend(gb.iter().flatten()); // δ of a unit is its bias's gradient
            for l in 0..gw.len() {
                row.extend(&gw[l]);
                row.extend(&gb[l]);
            }
            net.accumulate(&inputs, p.label);
            let (aw, ab, count) = net.accumulated();
            for l in 0..aw.len() {
                row.extend(&aw[l]);
                row.extend(&ab[l]);
            }
            row.push(count as f64);
            let update = ((k % n) + 1).is_multiple_of(e.setup.batch_size);
            row.push(update as u8 as f64);
            if update {
                net.update(e.setup.lr, reg, rate);
            }
            self.values.push(row);
        }
    }

    fn fill_formulas(&mut self, e: &Experiment, steps: usize, names: &[&str]) {
        let layers = e.net.layers.clone();
        let first = NET_HEADER_ROW + 1;
        for k in 0..steps {
            let r = first + k as u32;
            let c = |s: &Self, n: &str| format!("{}{r}", s.col(n));
            let p = |s: &Self, n: &str| format!("{}{}", s.col(n), r - 1);
            let mut row: Vec<Option<String>> = vec![None; self.columns.len()];
            let set = |row: &mut Vec<Option<String>>, s: &Self, n: &str, f: String| {
                row[s.columns.iter().position(|c| c == n).expect("a known column")] = Some(f);
            };
            if k > 0 {
                set(&mut row, self, "step", format!("={}+1", p(self, "step")));
            }
            for name in names {
                let f = feature_formula(name, &c(self, "x1"), &c(self, "x2"));
                set(&mut row, self, &format!("in_{name}"), f);
            }
            // The units' outputs below layer l: the features, then each layer's a.
            let below = |s: &Self, l: usize, i: usize| -> String {
                if l == 1 {
                    c(s, &format!("in_{}", names[i - 1]))
                } else {
                    c(s, &format!("a{}_{i}", l - 1))
                }
            };
            for l in 1..layers.len() {
                let act = if l + 1 == layers.len() {
                    Activation::Tanh
                } else {
                    e.setup.activation
                };
                for j in 1..=layers[l] {
                    let terms: Vec<String> = (1..=layers[l - 1])
                        .map(|i| format!("{}*{}", c(self, &format!("w{l}_{j}_{i}")), below(self, l, i)))
                        .collect();
                    let net = format!("={}+{}", c(self, &format!("b{l}_{j}")), terms.join("+"));
                    set(&mut row, self, &format!("net{l}_{j}"), net);
                    let a = format!("={}", activation_formula(act, &c(self, &format!("net{l}_{j}"))));
                    set(&mut row, self, &format!("a{l}_{j}"), a);
                }
            }
            let out = c(self, &format!("a{}_1", layers.len() - 1));
            set(&mut row, self, "loss", format!("=0.5*({out}-{})^2", c(self, "label")));
            for l in (1..layers.len()).rev() {
                let act = if l + 1 == layers.len() {
                    Activation::Tanh
                } else {
                    e.setup.activation
                };
                for j in 1..=layers[l] {
                    let (net, a) = (c(self, &format!("net{l}_{j}")), c(self, &format!("a{l}_{j}")));
                    let upstream = if l + 1 == layers.len() {
                        format!("({a}-{})", c(self, "label"))
                    } else {
                        let terms: Vec<String> = (1..=layers[l + 1])
                            .map(|k2| {
                                format!(
                                    "{}*{}",
                                    c(self, &format!("w{}_{k2}_{j}", l + 1)),
                                    c(self, &format!("d{}_{k2}", l + 1))
                                )
                            })
                            .collect();
                        format!("({})", terms.join("+"))
                    };
                    let d = format!("={upstream}*{}", derivative_formula(act, &net, &a));
                    set(&mut row, self, &format!("d{l}_{j}"), d);
                }
            }
            let params: Vec<String> = self
                .columns
                .iter()
                .filter(|n| n.starts_with('w') || n.starts_with('b'))
                .cloned()
                .collect();
            for name in &params {
                let (kind, rest) = name.split_at(1);
                let parts: Vec<&str> = rest.split('_').collect();
                let delta = c(self, &format!("d{}_{}", parts[0], parts[1]));
                let g = if kind == "w" {
                    let (l, i): (usize, usize) = (parts[0].parse().unwrap_or(1), parts[2].parse().unwrap_or(1));
                    format!("={delta}*{}", below(self, l, i))
                } else {
                    format!("={delta}")
                };
                set(&mut row, self, &format!("g_{name}"), g);
                let acc = if k == 0 {
                    format!("={}", c(self, &format!("g_{name}")))
                } else {
                    format!(
                        "=IF({}=1,0,{})+{}",
                        p(self, "update"),
                        p(self, &format!("acc_{name}")),
                        c(self, &format!("g_{name}"))
                    )
                };
                set(&mut row, self, &format!("acc_{name}"), acc);
                if k > 0 {
                    let stepped = format!(
                        "({}-{ETA}*{}/{})",
                        p(self, name),
                        p(self, &format!("acc_{name}")),
                        p(self, "count")
                    );
                    let updated = if kind == "w" {
                        format!("{stepped}*(1-{ETA}*{L2})")
                    } else {
                        stepped
                    };
                    set(
                        &mut row,
                        self,
                        name,
                        format!("=IF({}=1,{updated},{})", p(self, "update"), p(self, name)),
                    );
                }
            }
            let count = if k == 0 {
                "=1".to_string()
            } else {
                format!("=IF({}=1,1,{}+1)", p(self, "update"), p(self, "count"))
            };
            set(&mut row, self, "count", count);
            let update = format!("=IF(MOD(MOD({}-1,{POINTS})+1,{BATCH})=0,1,0)", c(self, "step"));
            set(&mut row, self, "update", update);
            self.formulas.push(row);
        }
    }

    /// The workbook's bytes; with `cached`, each formula carries the engine's value as its cached result.
    pub fn to_xlsx(&self, cached: bool) -> Result<Vec<u8>, WorkbookError> {
        let mut workbook = Workbook::new();
        let sheet = workbook.add_worksheet();
        sheet.set_name(NETWORK_SHEET)?;
        let bold = Format::new().set_bold();
        sheet.write_string_with_format(
            0,
            0,
            "TF Playground network: tanh output, loss ½(a − label)², per batch p ← p − η·Σgrad/count, weights then × (1 − η·L2) (every computed cell is a formula)",
            &bold,
        )?;
        for (k, (label, value)) in ["η", "batch", "L2 rate", "training points"]
            .iter()
            .zip(self.settings)
            .enumerate()
        {
            let col = (2 * k) as u16;
            sheet.write_string_with_format(2, col, *label, &bold)?;
            sheet.write_number(2, col + 1, value)?;
        }
        for (col, name) in self.columns.iter().enumerate() {
            sheet.write_string_with_format(NET_HEADER_ROW - 1, col as u16, name, &bold)?;
        }
        for (k, (values, formulas)) in self.values.iter().zip(&self.formulas).enumerate() {
            let r = NET_HEADER_ROW + k as u32;
            for (col, (value, formula)) in values.iter().zip(formulas).enumerate() {
                match formula {
                    Some(f) if cached => {
                        sheet.write_formula(r, col as u16, Formula::new(f).set_result(value.to_string()))?
                    }
                    Some(f) => sheet.write_formula(r, col as u16, Formula::new(f))?,
                    None => sheet.write_number(r, col as u16, *value)?,
                };
            }
        }
        sheet.set_freeze_panes(NET_HEADER_ROW, 1)?;
        Ok(workbook.save_to_buffer()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nnlab_backprop::playground::{Feature, Setup, Shape, generate};

    fn experiment(hidden: Vec<usize>, batch_size: usize) -> Experiment {
        let setup = Setup {
            features: vec![Feature::X1, Feature::X1X2, Feature::SinX2],
            hidden,
            batch_size,
            ..Setup::default()
        };
        Experiment::new(setup, generate(Shape::Xor, 30, 0.1, 2)).unwrap()
    }

    /// The replay is training: after two epochs of rows, the next row's parameters are those of the
    /// engine's own two epochs (batch 4 over 15 points: partial batches carry over).
    #[test]
    fn the_rows_replay_the_engines_training() {
        let mut e = experiment(vec![3, 2], 4);
        let n = e.train.len();
        let sheet = NetworkSheet::build(&e, 2 * n + 1).unwrap();
        e.run(2);
        let last = &sheet.values[2 * n];
        let first_param = sheet.columns.iter().position(|c| c == "w1_1_1").unwrap();
        let engine: Vec<f64> = (0..e.net.weights.len())
            .flat_map(|l| {
                e.net.weights[l]
                    .iter()
                    .chain(&e.net.biases[l])
                    .copied()
                    .collect::<Vec<_>>()
            })
            .collect();
        assert_eq!(&last[first_param..first_param + engine.len()], &engine[..]);
    }

    #[test]
    fn too_many_weights_and_l1_are_refused() {
        let big = experiment(vec![8, 8, 2], 10);
        let e = NetworkSheet::build(&big, 5).err().unwrap().to_string();
        assert!(e.contains("106 weights") && e.contains("at most 100"), "{e}");
        let mut l1 = experiment(vec![2], 10);
        l1.setup.regularization = Regularization::L1;
        assert!(NetworkSheet::build(&l1, 5).err().unwrap().to_string().contains("l1"));
    }
}
