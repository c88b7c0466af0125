//! `nnlab backprop table`: one row per gradient-descent iteration.

use anyhow::Result;
use clap::{Args, ValueEnum};
use nnlab_backprop::table::{BiasColumns, columns, csv_text, value};
use nnlab_backprop::{BIAS_NAMES, Example, Mlp, WEIGHT_NAMES, descend};

use super::net_args::{NetArgs, Network, Worksheet, parse_iterations, parse_lr};

/// How the table is printed.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    /// Aligned columns for the terminal (a selection; csv and markdown have every column).
    Pretty,
    /// Every column, shortest round-trip numbers, header `iter,t1,t2,…,dE_dw8`.
    Csv,
    /// Every column as a Markdown table.
    Markdown,
}

/// Arguments of `nnlab backprop table`.
#[derive(Debug, Args)]
pub struct TableArgs {
    #[command(flatten)]
    net: NetArgs,
    /// Learning rate η.
    #[arg(long, default_value = "1", allow_hyphen_values = true, value_parser = parse_lr)]
    lr: f64,
    /// Number of iterations (rows).
    #[arg(long, default_value = "68", allow_hyphen_values = true, value_parser = parse_iterations)]
    iterations: usize,
    /// Output format.
    #[arg(long, value_enum, default_value = "pretty")]
    format: Format,
}

/// Column names and rows of numbers, ready to print in any format.
pub struct Grid {
    /// Header.
    pub columns: Vec<String>,
    /// One row per iteration.
    pub rows: Vec<Vec<f64>>,
    /// Columns shown by the pretty format.
    pub pretty_columns: Vec<usize>,
}

fn worksheet_grid(args: &TableArgs, ws: &Worksheet) -> Result<Grid> {
    let rows = descend(&ws.net, args.lr, args.iterations, ws.learn_biases())?;
    let names = columns(ws.bias);
    let biases = if ws.bias == BiasColumns::None {
        &[][..]
    } else {
        &BIAS_NAMES[..]
    };
    let pick = ["iter", "E_total", "a_o1", "a_o2"]
        .into_iter()
        .chain(WEIGHT_NAMES)
        .chain(biases.iter().copied());
    Ok(Grid {
        columns: names.iter().map(|c| c.to_string()).collect(),
        rows: rows
            .iter()
            .map(|r| names.iter().map(|name| value(r, name)).collect())
            .collect(),
        pretty_columns: pick
            .map(|c| names.iter().position(|x| *x == c).expect("known column"))
            .collect(),
    })
}

/// Columns of a general network's table: iter, E_total, the outputs (per example when there are several:
/// `ex2_a_out1` is example 2's first output), weights, biases, then the gradients of both.
fn layers_grid(args: &TableArgs, mlp: &Mlp, examples: &[Example], learn_biases: bool) -> Result<Grid> {
    let rows = mlp.descend(examples, args.lr, args.iterations, learn_biases)?;
    let n_out = examples[0].targets.len();
    let n_w = mlp.weights().len();
    let bias_names = mlp.bias_names();
    let mut columns = vec!["iter".to_string(), "E_total".to_string()];
    if examples.len() == 1 {
        columns.extend((1..=n_out).map(|k| format!("a_out{k}")));
    } else {
        for e in 1..=examples.len() {
            columns.extend((1..=n_out).map(|k| format!("ex{e}_a_out{k}")));
        }
    }
    columns.extend((1..=n_w).map(|k| format!("w{k}")));
    columns.extend(bias_names.iter().cloned());
    let pretty_columns = (0..columns.len()).collect();
    columns.extend((1..=n_w).map(|k| format!("dE_dw{k}")));
    if learn_biases {
        columns.extend(bias_names.iter().map(|b| format!("dE_d{b}")));
    }
    let rows = rows
        .iter()
        .map(|r| {
            let mut v = vec![r.iter as f64, r.e_total];
            v.extend(r.outputs.iter().flatten());
            v.extend(&r.weights);
            v.extend(&r.biases);
            v.extend(&r.gradients);
            if learn_biases {
                v.extend(&r.bias_gradients);
            }
            v
        })
        .collect();
    Ok(Grid {
        columns,
        rows,
        pretty_columns,
    })
}

fn print_markdown(grid: &Grid) {
    println!("| {} |", grid.columns.join(" | "));
    println!("|{}", "---:|".repeat(grid.columns.len()));
    for row in &grid.rows {
        println!(
            "| {} |",
            row.iter().map(|x| x.to_string()).collect::<Vec<_>>().join(" | ")
        );
    }
}

fn print_pretty(grid: &Grid) {
    let cell = |c: usize, x: f64| {
        if c == 0 { format!("{x}") } else { format!("{x:.9}") }
    };
    let widths: Vec<usize> = grid
        .pretty_columns
        .iter()
        .map(|&c| {
            grid.rows
                .iter()
                .map(|r| cell(c, r[c]).len())
                .chain([grid.columns[c].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: Vec<String>| {
        cells
            .iter()
            .zip(&widths)
            .map(|(s, w)| format!("{s:>w$}"))
            .collect::<Vec<_>>()
            .join("  ")
    };
    println!(
        "{}",
        line(grid.pretty_columns.iter().map(|&c| grid.columns[c].clone()).collect())
    );
    for row in &grid.rows {
        println!(
            "{}",
            line(grid.pretty_columns.iter().map(|&c| cell(c, row[c])).collect())
        );
    }
    if grid.pretty_columns.len() < grid.columns.len() {
        println!(
            "({} of {} columns; --format csv or markdown prints all of them at full precision)",
            grid.pretty_columns.len(),
            grid.columns.len()
        );
    }
}

/// Runs `nnlab backprop table`.
pub fn run(args: TableArgs) -> Result<()> {
    let grid = match args.net.network()? {
        Network::Worksheet(ws) => worksheet_grid(&args, &ws)?,
        Network::Layers {
            mlp,
            examples,
            learn_biases,
        } => layers_grid(&args, &mlp, &examples, learn_biases)?,
    };
    match args.format {
        Format::Pretty => print_pretty(&grid),
        Format::Csv => print!("{}", csv_text(&grid.columns, &grid.rows)),
        Format::Markdown => print_markdown(&grid),
    }
    Ok(())
}
