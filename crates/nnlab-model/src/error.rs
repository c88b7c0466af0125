//! Errors of reading, checking and loading a model, each naming the file and (where there is one) the line.

use thiserror::Error;

/// A model file that cannot be used, or state that does not fit the model.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ModelError {
    /// A problem at a line of the model file.
    #[error("{origin}:{line}: {message}")]
    Line {
        /// The file (or `model 'NAME'` for a shipped one).
        origin: String,
        /// Line, from 1.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A problem with the file as a whole (no line to point at).
    #[error("{origin}: {message}")]
    File {
        /// The file.
        origin: String,
        /// What is wrong.
        message: String,
    },
    /// Tensors that do not fit the model (missing, mis-shaped): all of them, named.
    #[error("{origin}: {message}")]
    State {
        /// The state's file.
        origin: String,
        /// Every tensor that is missing or has another shape.
        message: String,
    },
}

impl ModelError {
    /// An error at `line` of `origin`.
    pub fn at(origin: &str, line: usize, message: impl Into<String>) -> Self {
        Self::Line {
            origin: origin.to_string(),
            line,
            message: message.into(),
        }
    }

    /// An error about the whole of `origin`.
    pub fn file(origin: &str, message: impl Into<String>) -> Self {
        Self::File {
            origin: origin.to_string(),
            message: message.into(),
        }
    }
}
