//! The backpropagation lab's engine: the 2-2-2 sigmoid network of the classic worksheet, worked exactly
//! in f64, plus a tiny reverse-mode autograd engine and general fully connected networks built on it.
//!
//! Nothing here prints or exits; the `nnlab` binary formats what these functions return.

pub mod autograd;
pub mod check;
pub mod descent;
pub mod error;
pub mod explain;
pub mod mlp;
pub mod network;
pub mod table;

pub use check::{GradientComparison, compare_gradients};
pub use descent::{Iteration, descend, sweep};
pub use error::BackpropError;
pub use mlp::{Activation, Mlp};
pub use network::{Forward, Net222, WEIGHT_NAMES, sigmoid};
