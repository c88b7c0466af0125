//! `nnlab backprop …`: the 2-2-2 worksheet as commands.

mod audit;
mod boundary;
mod boundary_figures;
mod check;
mod diagram;
mod explain;
mod export;
pub mod net_args;
mod sweep;
pub mod table;

use std::process::ExitCode;

use clap::Subcommand;

/// The backprop lab's commands.
#[derive(Debug, Subcommand)]
pub enum BackpropCommand {
    /// One row per gradient-descent iteration: weights, forward values, loss and all gradients.
    Table(table::TableArgs),
    /// E_total per iteration for several learning rates, as CSV and a plot.
    Sweep(sweep::SweepArgs),
    /// Iteration 1 derived step by step: forward formulas, loss, chain-rule products, the update.
    Explain(explain::ExplainArgs),
    /// Gradients three ways (closed form, autograd, finite differences) side by side.
    Check(check::CheckArgs),
    /// Draws the network with its weights labelled (.svg or .png).
    Diagram(diagram::DiagramArgs),
    /// Writes the worksheet as an .xlsx workbook with live formulas and a learning-rate sweep chart.
    #[command(name = "export-xlsx")]
    ExportXlsx(export::ExportArgs),
    /// Any small network on TF Playground's data sets (circle, xor, gauss, spiral, or a CSV): decision
    /// boundary, every neuron's picture, loss per epoch, metrics.json.
    Boundary(Box<boundary::BoundaryArgs>),
    /// Finds the wrong cells in a hand-built 2-2-2 workbook (exit 0 all right, 1 wrong cells, 2 unreadable).
    Audit(audit::AuditArgs),
}

/// Runs one backprop command.
pub fn run(cmd: BackpropCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        BackpropCommand::Table(a) => table::run(a),
        BackpropCommand::Sweep(a) => sweep::run(a),
        BackpropCommand::Explain(a) => explain::run(a),
        BackpropCommand::Check(a) => check::run(a),
        BackpropCommand::Diagram(a) => diagram::run(a),
        BackpropCommand::ExportXlsx(a) => export::run(a),
        BackpropCommand::Boundary(a) => boundary::run(*a),
        BackpropCommand::Audit(a) => return audit::run(a),
    }?;
    Ok(ExitCode::SUCCESS)
}
