//! `nnlab mnist export-pytorch`: a model as a PyTorch module file whose state_dict matches nnlab's
//! checkpoints, so a run moves to PyTorch (GPU, DDP) and back.

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::Args;
use nnlab_mnist::training::Checkpoint;
use nnlab_model::pytorch::export;

use super::model_args::ModelArg;
use crate::output::write_atomic;

/// Arguments of `nnlab mnist export-pytorch`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    model: ModelArg,
    /// Take the model from this checkpoint instead (the model it was trained with).
    #[arg(long, value_name = "FILE", conflicts_with = "model")]
    checkpoint: Option<PathBuf>,
    /// Write the module here (default: print it).
    #[arg(long, value_name = "FILE.py")]
    out: Option<PathBuf>,
}

/// Runs `nnlab mnist export-pytorch`.
pub fn run(args: ExportArgs) -> Result<()> {
    let spec = match &args.checkpoint {
        Some(path) => {
            if !path.is_file() {
                bail!("--checkpoint {}: no such file", path.display());
            }
            Checkpoint::load(path, None)?.model.spec().clone()
        }
        None => args.model.load_or_seed()?,
    };
    let code = export(&spec);
    match &args.out {
        Some(path) => {
            if path.extension().is_none_or(|e| e != "py") {
                bail!(
                    "--out {}: the file name must end in .py (Python imports it)",
                    path.display()
                );
            }
            write_atomic(path, code.as_bytes())?;
            eprintln!(
                "wrote {} (class Net, model '{}', {} parameters)",
                path.display(),
                spec.name,
                spec.params()
            );
        }
        None => print!("{code}"),
    }
    Ok(())
}
