//! Part two of nnlab: MNIST — reading and fetching the data, the recipe's augmentation and batching.
//!
//! Pure library code: nothing here prints or exits; long operations report progress through callbacks.

pub mod atomic;
pub mod data;

pub use data::{DataError, Mnist, Split};
pub mod model;
pub mod preprocess;

pub use model::{check_for_mnist, seed_model};
pub use nnlab_model::{ModelSpec, Network};
pub mod training;
