//! The backpropagation lab's engine: the 2-2-2 sigmoid network of the classic worksheet, worked exactly
//! in f64 (with optional biases), plus a tiny reverse-mode autograd engine, general fully connected
//! networks built on it, and small datasets (XOR and friends) for full-batch gradient descent.
//!
//! Nothing here prints or exits; the `nnlab` binary formats what these functions return.

pub mod autograd;
pub mod check;
pub mod dataset;
pub mod descent;
pub mod error;
pub mod explain;
pub mod mlp;
pub mod network;
pub mod playground;
pub mod table;

pub use check::{GradientComparison, compare_gradients};
pub use dataset::{DataError, Dataset};
pub use descent::{Iteration, descend, sweep};
pub use error::BackpropError;
pub use mlp::{Activation, BiasLayout, Example, Mlp, MlpIteration};
pub use network::{BIAS_NAMES, Forward, Net222, WEIGHT_NAMES, sigmoid};
