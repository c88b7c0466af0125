//! `nnlab backprop audit`: finds the wrong cells of a hand-built worksheet.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use nnlab_workbook::{AuditReport, EtaSource, Finding, audit_workbook};

/// Arguments of `nnlab backprop audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// The workbook to audit (.xlsx).
    file: PathBuf,
    /// Relative tolerance for a cell to count as right.
    #[arg(long, default_value_t = 1e-9)]
    tolerance: f64,
    /// Print the report as JSON instead of text.
    #[arg(long)]
    json: bool,
}

fn finding_line(f: &Finding) -> String {
    format!(
        "  ✗ {} (header '{}'): first wrong at {} (sheet row {}, iteration {}): expected {}, found {}; formula {}; wrong in {} of {} rows",
        f.column,
        f.header,
        f.cell,
        f.sheet_row,
        f.iteration,
        f.expected,
        f.found,
        f.formula.as_deref().unwrap_or("(a typed number)"),
        f.wrong_rows,
        f.rows_checked
    )
}

fn finding_json(f: &Finding) -> serde_json::Value {
    serde_json::json!({
        "column": f.column, "header": f.header, "cell": f.cell, "sheet_row": f.sheet_row,
        "iteration": f.iteration, "expected": f.expected, "found": f.found, "formula": f.formula,
        "wrong_rows": f.wrong_rows, "rows_checked": f.rows_checked,
    })
}

fn print_text(file: &std::path::Path, r: &AuditReport) {
    let eta_from = match &r.eta_source {
        EtaSource::Cell(c) => format!("cell {c}"),
        EtaSource::Inferred => "inferred from the first two rows".into(),
    };
    println!(
        "{}: sheet '{}', header row {}, {} iterations (rows {}–{}), η = {} ({eta_from})",
        file.display(),
        r.sheet,
        r.header_row,
        r.iterations,
        r.header_row + 1,
        r.header_row as usize + r.iterations,
        r.eta
    );
    println!(
        "checked {} cells in {} computed columns, each against a recomputation from its own row",
        r.cells_checked,
        r.columns_checked.len()
    );
    let has = |c: &str| r.columns_checked.iter().any(|x| x == c);
    match (has("b1") || has("b2"), has("dE_db1") || has("dE_db2")) {
        (true, true) => println!("  biases: learned (b ← b − η·∂E/∂b; ∂E/∂b1, ∂E/∂b2 checked as δh1 + δh2, δo1 + δo2)"),
        (true, false) => println!("  biases: fixed (each net input includes its layer's bias)"),
        _ => {}
    }
    if r.findings.is_empty() {
        println!("  ✓ every computed cell is right");
    }
    for f in &r.findings {
        println!("{}", finding_line(f));
    }
    for s in &r.sweeps {
        let rates: Vec<String> = s.rates.iter().map(|x| x.to_string()).collect();
        println!(
            "sheet '{}': learning-rate study (η = {}), {} cells checked against gradient descent from the worksheet's first row",
            s.sheet,
            rates.join(", "),
            s.cells_checked
        );
        if s.findings.is_empty() {
            println!("  ✓ every E_total is right");
        }
        for f in &s.findings {
            println!("{}", finding_line(f));
        }
    }
    let wrong = r.findings.len() + r.sweeps.iter().map(|s| s.findings.len()).sum::<usize>();
    println!(
        "{}",
        if wrong == 0 {
            "result: all cells agree".to_string()
        } else {
            format!("result: {wrong} wrong column(s)")
        }
    );
}

/// Runs `nnlab backprop audit`; exit 1 when a cell is wrong.
pub fn run(args: AuditArgs) -> Result<ExitCode> {
    if !args.file.is_file() {
        anyhow::bail!("{}: no such file", args.file.display());
    }
    let report = audit_workbook(&args.file, args.tolerance).with_context(|| format!("{}", args.file.display()))?;
    if args.json {
        let json = serde_json::json!({
            "file": args.file.display().to_string(), "sheet": report.sheet, "header_row": report.header_row,
            "iterations": report.iterations, "eta": report.eta,
            "eta_cell": match &report.eta_source { EtaSource::Cell(c) => Some(c.clone()), EtaSource::Inferred => None },
            "cells_checked": report.cells_checked, "clean": report.is_clean(),
            "findings": report.findings.iter().map(finding_json).collect::<Vec<_>>(),
            "sweeps": report.sweeps.iter().map(|s| serde_json::json!({
                "sheet": s.sheet, "rates": s.rates, "cells_checked": s.cells_checked,
                "findings": s.findings.iter().map(finding_json).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&json)?);
    } else {
        print_text(&args.file, &report);
    }
    Ok(if report.is_clean() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
