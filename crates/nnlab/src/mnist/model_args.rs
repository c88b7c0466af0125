//! `--model NAME|FILE`: a shipped model by name or a model file by path, checked against MNIST.

use anyhow::{Result, anyhow};
use clap::Args;
use nnlab_mnist::{ModelSpec, check_for_mnist};

/// The model flag of `summary`, `train`, `bench` and `export-pytorch`.
#[derive(Debug, Clone, Args)]
pub struct ModelArg {
    /// The model: a shipped name (seed = RECIPE.md's CNN, separable) or a model file (see models/).
    #[arg(long, value_name = "NAME|FILE")]
    pub model: Option<String>,
}

impl ModelArg {
    /// The model asked for, or the seed model.
    pub fn load_or_seed(&self) -> Result<ModelSpec> {
        load(self.model.as_deref().unwrap_or("seed"))
    }

    /// The model asked for, if any.
    pub fn load_if_given(&self) -> Result<Option<ModelSpec>> {
        self.model.as_deref().map(load).transpose()
    }
}

/// Resolves and checks a `--model` value; errors name the flag, the file and the line.
pub fn load(arg: &str) -> Result<ModelSpec> {
    let spec = nnlab_model::resolve(arg).map_err(|e| anyhow!("--model {e}"))?;
    check_for_mnist(&spec).map_err(|e| anyhow!("--model {arg}: {e}"))?;
    Ok(spec)
}
