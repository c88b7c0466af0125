//! `--model NAME|FILE`: a shipped model by name or a model file by path, checked against MNIST's
//! 1×28×28 input and ten classes; errors name the flag, the file and the line.

use nnlab_mnist::{ModelSpec, check_for_mnist};

use crate::{AppError, Result};

/// Resolves and checks a `--model` value.
pub fn resolve_model(arg: &str) -> Result<ModelSpec> {
    let spec = nnlab_model::resolve(arg).map_err(|e| AppError::invalid(format!("--model {e}")))?;
    check_for_mnist(&spec).map_err(|e| AppError::invalid(format!("--model {arg}: {e}")))?;
    Ok(spec)
}

/// The model a recipe names: a config.json's own model text, or the recipe's `model` (a shipped name or
/// a file); errors name `--recipe`.
pub fn recipe_model(recipe: &str) -> Result<ModelSpec> {
    let config = nnlab_mnist::training::load_recipe(recipe).map_err(|e| AppError::invalid(format!("--recipe {e}")))?;
    let spec = match &config.model_text {
        Some(text) => ModelSpec::parse(&config.model, &format!("{recipe} (model_text)"), text)
            .map_err(|e| AppError::invalid(format!("--recipe {e}")))?,
        None => nnlab_model::resolve(&config.model)
            .map_err(|e| AppError::invalid(format!("--recipe {recipe}: model {e}")))?,
    };
    check_for_mnist(&spec).map_err(|e| AppError::invalid(format!("--recipe {recipe}: {e}")))?;
    Ok(spec)
}
