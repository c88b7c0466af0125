//! The layers, each with `forward` and `backward` in one file, each implementing the one [`Layer`] trait.

mod avgpool;
mod batchnorm;
mod conv2d;
mod conv_block;
mod dropout;
mod global_avg_pool;
mod layer;
mod linear;
mod loss;
mod maxpool;
mod relu;

pub use avgpool::AvgPool2d;
pub use batchnorm::BatchNorm2d;
pub use conv_block::{BlockOrder, ConvBlock};
pub use conv2d::{Conv2d, ConvOptions};
pub use dropout::Dropout;
pub use global_avg_pool::GlobalAvgPool;
pub use layer::{Flatten, Layer, Named, Pass};
pub use linear::Linear;
pub use loss::{NllOutput, nll_loss, smoothed_nll_loss, softmax_rows};
pub use maxpool::MaxPool2d;
pub use relu::Relu;

/// Training uses batch statistics and dropout; evaluation uses running statistics and no dropout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Training.
    Train,
    /// Evaluation.
    Eval,
}

#[cfg(test)]
pub(crate) mod gradcheck;
