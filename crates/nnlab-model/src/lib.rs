//! Models as files: a small PyTorch-like text file (`input 1x28x28`, then `name = Module(…)` statements)
//! read into a checked specification, built into a trainable network on nnlab's engine, summarised,
//! and written back out as a PyTorch module. Knows nothing of any dataset.

pub mod error;
pub mod frozen;
pub mod modules;
pub mod network;
pub mod pytorch;
pub mod shipped;
pub mod spec;
pub mod summary;
pub mod syntax;

pub use error::ModelError;
pub use frozen::frozen;
pub use network::Network;
pub use shipped::{resolve, shipped};
pub use spec::{Layer, ModelSpec, Shape};
pub use summary::{StatementSummary, summarize};
