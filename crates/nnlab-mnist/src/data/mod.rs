//! The MNIST data: IDX files, where they come from, statistics, augmentation and batches.

pub mod augment;
pub mod batches;
pub mod dataset;
pub mod download;
pub mod error;
pub mod idx;
pub mod source;

pub use dataset::{Mnist, Split};
pub use error::DataError;

/// Side length of an MNIST image.
pub const SIDE: usize = 28;
/// Pixels per image.
pub const PIXELS: usize = SIDE * SIDE;
/// Number of classes.
pub const CLASSES: usize = 10;
/// Mean of the training pixels on the [0, 1] scale (the normalisation constant of the recipe).
pub const MEAN: f32 = 0.1307;
/// Standard deviation of the training pixels on the [0, 1] scale.
pub const STD: f32 = 0.3081;
