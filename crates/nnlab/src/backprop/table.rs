//! `nnlab backprop table`: one row per gradient-descent iteration.

use anyhow::Result;
use clap::{Args, ValueEnum};
use nnlab_backprop::table::{COLUMNS, row_values};
use nnlab_backprop::{WEIGHT_NAMES, descend};

use super::net_args::{NetArgs, Network, parse_iterations, parse_lr};

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

fn worksheet_grid(args: &TableArgs, net: &nnlab_backprop::Net222) -> Result<Grid> {
    let rows = descend(net, args.lr, args.iterations)?;
    let pick = ["iter", "E_total", "a_o1", "a_o2"].into_iter().chain(WEIGHT_NAMES);
    Ok(Grid {
        columns: COLUMNS.iter().map(|c| c.to_string()).collect(),
        rows: rows.iter().map(|r| row_values(r).to_vec()).collect(),
        pretty_columns: pick
            .map(|c| COLUMNS.iter().position(|x| *x == c).expect("known column"))
            .collect(),
    })
}

fn layers_grid(args: &TableArgs, mlp: &nnlab_backprop::Mlp, inputs: &[f64], targets: &[f64]) -> Result<Grid> {
    let rows = mlp.descend(inputs, targets, args.lr, args.iterations)?;
    let n_out = targets.len();
    let n_w = mlp.weights().len();
    let mut columns = vec!["iter".to_string(), "E_total".to_string()];
    columns.extend((1..=n_out).map(|k| format!("a_out{k}")));
    columns.extend((1..=n_w).map(|k| format!("w{k}")));
    columns.extend((1..=n_w).map(|k| format!("dE_dw{k}")));
    let pretty_columns = (0..2 + n_out + n_w).collect();
    let rows = rows
        .iter()
        .map(|r| {
            let mut v = vec![r.iter as f64, r.e_total];
            v.extend(&r.outputs);
            v.extend(&r.weights);
            v.extend(&r.gradients);
            v
        })
        .collect();
    Ok(Grid {
        columns,
        rows,
        pretty_columns,
    })
}

/// Prints `grid` as CSV with shortest round-trip numbers.
pub fn print_csv(grid: &Grid) {
    println!("{}", grid.columns.join(","));
    for row in &grid.rows {
        println!("{}", row.iter().map(|x| x.to_string()).collect::<Vec<_>>().join(","));
    }
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
        Network::Worksheet(net) => worksheet_grid(&args, &net)?,
        Network::Layers { mlp, inputs, targets } => layers_grid(&args, &mlp, &inputs, &targets)?,
    };
    match args.format {
        Format::Pretty => print_pretty(&grid),
        Format::Csv => print_csv(&grid),
        Format::Markdown => print_markdown(&grid),
    }
    Ok(())
}
