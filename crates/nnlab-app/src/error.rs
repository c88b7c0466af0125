//! The application's one error type: every variant's message is a whole sentence for the user, naming
//! the flag, file (and line) or field at fault, so a front end prints it as it is (the CLI exits 2, the
//! web server answers 4xx).

use std::path::Path;

use nnlab_mnist::DataError;
use nnlab_mnist::training::{CheckpointError, RecipeError};
use thiserror::Error;

use crate::brief::BriefError;

/// Why an application step failed.
#[derive(Debug, Error)]
pub enum AppError {
    /// A value the user gave is wrong or contradicts another; the message names the flag or field.
    #[error("{0}")]
    Invalid(String),
    /// A file or folder cannot be read, written or understood; the message names it.
    #[error("{0}")]
    File(String),
    /// A brief that does not parse.
    #[error(transparent)]
    Brief(#[from] BriefError),
    /// A recipe that cannot be used.
    #[error(transparent)]
    Recipe(#[from] RecipeError),
    /// A checkpoint that cannot be read or does not fit its model.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// The MNIST files cannot be read.
    #[error(transparent)]
    Data(#[from] DataError),
}

impl AppError {
    /// A user-given value is wrong: `message` names the flag or field.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::Invalid(message.into())
    }

    /// `path` cannot be used: `what` says why ("cannot read it: …").
    pub fn file(path: &Path, what: impl std::fmt::Display) -> Self {
        Self::File(format!("{}: {what}", path.display()))
    }
}
