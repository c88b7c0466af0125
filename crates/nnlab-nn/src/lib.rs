//! nnlab's CPU training engine: f32 batched tensors (NCHW) and the layers of a small CNN, each with its
//! `forward` and `backward` side by side, plus SGD with momentum and a step learning-rate schedule.
//!
//! Layout: NCHW, one image's channels contiguous. Work is split over images with rayon in fixed-size
//! chunks and partial results are reduced in chunk order, so results are bitwise reproducible. Each
//! convolution is a matrix product per image on an im2col layout (1×1 convolutions need none) through
//! the `gemm` crate's SGEMM. The Conv → ReLU → BatchNorm → Dropout block is fused (`ConvBlock`) and
//! checked against the four layers run one by one; scratch space lives in per-thread workspaces, and
//! dropped tensors' memory is pooled, so a warm training step allocates no tensor memory.
//! `profile` times each layer of a step, which is where every optimisation here started.

pub mod cpu;
pub mod gemm;
pub mod init;
pub mod layers;
pub mod optim;
pub mod param;
pub mod peak;
pub mod profile;
mod simd;
pub mod tensor;
mod vector;
mod workspace;

pub use layers::{
    AvgPool2d, BatchNorm2d, BlockOrder, Conv2d, ConvBlock, ConvOptions, Dropout, Flatten, GlobalAvgPool, Layer, Linear,
    MaxPool2d, Mode, Named, Pass, Relu, nll_loss, smoothed_nll_loss, softmax_rows,
};
pub use optim::{Adam, Optimizer, Sgd, StepLr};
pub use param::Param;
pub use profile::{NoProbe, Phase, Probe, Profile};
pub use tensor::Tensor;

/// Images per parallel work item: the unit of splitting and of ordered reduction.
pub const CHUNK: usize = 4;
