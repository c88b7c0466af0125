//! The command tree: `nnlab backprop …`, `nnlab mnist …` and `nnlab serve`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::backprop::BackpropCommand;
use crate::mnist::MnistCommand;

/// nnlab — see how neural networks learn: a 2-2-2 backpropagation lab worked exactly, and a small MNIST CNN.
#[derive(Debug, Parser)]
#[command(name = "nnlab", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The 2-2-2 sigmoid network worked by hand: table, sweep, explain, check, diagram, export-xlsx, audit.
    #[command(subcommand)]
    Backprop(BackpropCommand),
    /// MNIST CNNs: download, info, summary, train, bench, eval, predict, lr-find, report, compare, export-pytorch, search.
    #[command(subcommand)]
    Mnist(MnistCommand),
    /// A local web app: the backprop playground, draw a digit, and the training runs (live), with a JSON API.
    Serve(crate::serve::ServeArgs),
}

/// Runs the chosen command; `Ok` carries the exit code (audit uses 1 for "something is wrong").
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    apply_simd_cap()?;
    match cli.command {
        Command::Backprop(cmd) => crate::backprop::run(cmd),
        Command::Mnist(cmd) => crate::mnist::run(cmd),
        Command::Serve(args) => crate::serve::run(args).map(|()| ExitCode::SUCCESS),
    }
}

/// The environment variable that caps the engine's SIMD level (`baseline`, `avx2`, `avx512`), for
/// comparing the code paths on one machine.
pub const SIMD_ENV: &str = "NNLAB_SIMD";

/// Applies `NNLAB_SIMD` when set: an unknown level, or one above the CPU's, is an error (exit 2).
fn apply_simd_cap() -> anyhow::Result<()> {
    let Some(value) = std::env::var_os(SIMD_ENV) else {
        return Ok(());
    };
    let value = value.to_string_lossy();
    if value.trim().is_empty() {
        return Ok(());
    }
    let level: nnlab_nn::cpu::SimdLevel = value.parse().map_err(|e| anyhow::anyhow!("{SIMD_ENV}: {e}"))?;
    nnlab_nn::cpu::cap_level(level).map_err(|e| anyhow::anyhow!("{SIMD_ENV}={value}: {e}"))?;
    Ok(())
}
