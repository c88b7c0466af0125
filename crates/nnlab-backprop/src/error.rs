//! Typed errors for invalid network configurations.

use thiserror::Error;

/// Why a network or a run of gradient descent cannot be set up.
#[derive(Debug, Error, PartialEq)]
pub enum BackpropError {
    /// A numeric parameter is NaN or infinite.
    #[error("{what} must be a finite number, got {value}")]
    NotFinite {
        /// Which parameter.
        what: String,
        /// The offending value.
        value: f64,
    },
    /// The learning rate must be strictly positive.
    #[error("learning rate must be > 0, got {0}")]
    NonPositiveLearningRate(f64),
    /// Gradient descent needs at least one iteration.
    #[error("iterations must be at least 1")]
    ZeroIterations,
    /// A list of values has the wrong length for the network.
    #[error("{what}: expected {expected} values, got {got}")]
    WrongCount {
        /// Which list.
        what: String,
        /// How many the network needs.
        expected: usize,
        /// How many were given.
        got: usize,
    },
    /// The number of biases fits neither one per layer nor one per unit.
    #[error(
        "biases: the network has {layers} layers and {units} units after the input; give {layers} values (one per layer) or {units} (one per unit), got {got}"
    )]
    BadBiasCount {
        /// Layers after the input.
        layers: usize,
        /// Units after the input.
        units: usize,
        /// Values given.
        got: usize,
    },
    /// Gradient descent over a dataset needs at least one example.
    #[error("the dataset has no examples")]
    NoExamples,
    /// Layer sizes describe no usable network.
    #[error("layers: {0}")]
    BadLayers(String),
    /// A data file or setting that cannot be used (the message names the file and line, or the setting).
    #[error("{0}")]
    BadData(String),
}

/// Checks that `value` is finite, naming it in the error otherwise.
pub fn ensure_finite(what: &str, value: f64) -> Result<f64, BackpropError> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(BackpropError::NotFinite {
            what: what.to_string(),
            value,
        })
    }
}
