//! The recipe's "block": Conv → ReLU → BatchNorm2d → Dropout, in that order.

use rand_chacha::ChaCha8Rng;

use crate::Tensor;
use crate::layers::{BatchNorm2d, Conv2d, Dropout, Mode, Relu};

/// Conv (no bias) → ReLU → BatchNorm2d → Dropout.
#[derive(Debug, Clone)]
pub struct ConvBlock {
    /// The convolution.
    pub conv: Conv2d,
    /// The ReLU.
    pub relu: Relu,
    /// The batch normalisation.
    pub bn: BatchNorm2d,
    /// The dropout.
    pub dropout: Dropout,
}

impl ConvBlock {
    /// A block with a k×k convolution, BN momentum `bn_momentum` and dropout `p`.
    pub fn new(cin: usize, cout: usize, k: usize, pad: usize, bn_momentum: f32, p: f32, rng: &mut ChaCha8Rng) -> Self {
        Self {
            conv: Conv2d::new(cin, cout, k, pad, rng),
            relu: Relu::default(),
            bn: BatchNorm2d::new(cout, bn_momentum),
            dropout: Dropout::new(p),
        }
    }

    /// Runs the four layers; `seed` picks the dropout mask.
    pub fn forward(&mut self, x: Tensor, mode: Mode, seed: u64) -> Tensor {
        let train = mode == Mode::Train;
        let x = self.conv.forward(x, train);
        let x = self.relu.forward(x, train);
        let x = self.bn.forward(x, mode);
        self.dropout.forward(x, mode, seed)
    }

    /// Backward through the four layers in reverse; the input gradient is skipped for the first layer.
    pub fn backward(&mut self, dy: Tensor, need_input_grad: bool) -> Option<Tensor> {
        let d = self.dropout.backward(dy);
        let d = self.bn.backward(d);
        let d = self.relu.backward(d);
        self.conv.backward(&d, need_input_grad)
    }
}
