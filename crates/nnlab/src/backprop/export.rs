//! `nnlab backprop export-xlsx`: the worksheet as a live-formula workbook.

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::Args;
use nnlab_workbook::{ExportOptions, export_workbook};

use super::net_args::{NetArgs, Numbers, parse_iterations, parse_lr, parse_lrs};
use crate::output::write_atomic;

/// Arguments of `nnlab backprop export-xlsx`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The workbook to write (.xlsx).
    file: PathBuf,
    #[command(flatten)]
    net: NetArgs,
    /// Learning rate η of the main sheet (one cell every update refers to).
    #[arg(long, default_value = "1", allow_hyphen_values = true, value_parser = parse_lr)]
    lr: f64,
    /// Iterations (rows) per sheet.
    #[arg(long, default_value = "68", allow_hyphen_values = true, value_parser = parse_iterations)]
    iterations: usize,
    /// Learning rates of the sweep sheet and its chart.
    #[arg(long, default_value = "0.1,0.2,0.5,0.8,1,2", allow_hyphen_values = true, value_parser = parse_lrs)]
    lrs: Numbers,
}

/// Runs `nnlab backprop export-xlsx`.
pub fn run(args: ExportArgs) -> Result<()> {
    if !args.file.extension().is_some_and(|e| e.eq_ignore_ascii_case("xlsx")) {
        bail!("{}: the workbook's name must end in .xlsx", args.file.display());
    }
    let ws = args.net.worksheet()?;
    let options = ExportOptions {
        net: ws.net,
        bias: ws.bias,
        lr: args.lr,
        iterations: args.iterations,
        lrs: args.lrs.0.clone(),
        cached_values: true,
    };
    let bytes = export_workbook(&options)?;
    write_atomic(&args.file, &bytes)?;
    println!(
        "wrote {}: sheet 'backprop' ({} iterations at η = {}, every computed cell a formula), {} sweep sheets and 'lr_sweep' with its chart",
        args.file.display(),
        args.iterations,
        args.lr,
        options.lrs.len()
    );
    Ok(())
}
