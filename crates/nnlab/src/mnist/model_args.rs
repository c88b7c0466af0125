//! `--model NAME|FILE`: a shipped model by name or a model file by path, checked against MNIST.

use anyhow::Result;
use clap::Args;
use nnlab_mnist::ModelSpec;

/// The model flag of `summary`, `train`, `bench` and `export-pytorch`.
#[derive(Debug, Clone, Args)]
pub struct ModelArg {
    /// The model: a shipped name (seed, separable, small8k, small5k, small20; see models/) or a model file.
    #[arg(long, value_name = "NAME|FILE")]
    pub model: Option<String>,
}

impl ModelArg {
    /// The model asked for, or the seed model.
    pub fn load_or_seed(&self) -> Result<ModelSpec> {
        load(self.model.as_deref().unwrap_or("seed"))
    }
}

/// Resolves and checks a `--model` value; errors name the flag, the file and the line.
pub fn load(arg: &str) -> Result<ModelSpec> {
    Ok(nnlab_app::model::resolve_model(arg)?)
}
