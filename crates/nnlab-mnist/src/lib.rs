//! Part two of nnlab: MNIST — reading and fetching the data, the recipe's augmentation and batching.
//!
//! Pure library code: nothing here prints or exits; long operations report progress through callbacks.

pub mod data;

pub use data::{DataError, Mnist, Split};
