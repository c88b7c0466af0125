//! The one interface every layer has, so a network is a list of layers, not a match over kinds: a
//! forward pass that keeps what its backward needs, a backward pass that takes ∂loss/∂output by value
//! and gives ∂loss/∂input, the trainable tensors (visited immutably or mutably) under their PyTorch
//! state_dict names, and the BatchNorm whose running statistics are buffers.

use std::fmt::Debug;

use crate::{BatchNorm2d, Mode, Param, Tensor};

/// What a forward pass needs besides its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    /// Training (batch statistics, dropout, keep what backward needs) or evaluation.
    pub mode: Mode,
    /// The seed of this layer's dropout masks at this step (unused by layers without dropout).
    pub seed: u64,
}

impl Pass {
    /// An evaluation pass.
    pub const EVAL: Pass = Pass {
        mode: Mode::Eval,
        seed: 0,
    };

    /// Whether the layer keeps what its backward needs.
    pub fn keeps(self) -> bool {
        self.mode == Mode::Train
    }
}

/// One trainable tensor of a layer: `part` numbers the PyTorch module it belongs to within the layer (0 for
/// a plain layer; a fused block's convolution is 0 and its BatchNorm 1), `name` its state_dict suffix.
#[derive(Debug)]
pub struct Named<T> {
    /// The module within the layer.
    pub part: usize,
    /// `weight` or `bias`.
    pub name: &'static str,
    /// The tensor.
    pub param: T,
}

/// A layer of a network.
pub trait Layer: Debug + Send + Sync {
    /// What runs, for execution plans: `Conv2d`, `fused Conv→ReLU→BN→Dropout`, ….
    fn describe(&self) -> String;

    /// x → y; in a training pass the layer keeps what [`Layer::backward`] needs.
    fn forward(&mut self, x: Tensor, pass: Pass) -> Tensor;

    /// ∂loss/∂y → ∂loss/∂x, accumulating the parameters' gradients. With `need_input_grad` false (the
    /// network's first layer) a layer may skip ∂x and return `None`.
    fn backward(&mut self, dy: Tensor, need_input_grad: bool) -> Option<Tensor>;

    /// The trainable tensors, in PyTorch's state_dict order.
    fn params(&self) -> Vec<Named<&Param>> {
        Vec::new()
    }

    /// The trainable tensors, mutably (for the optimizer and for loading), in the same order.
    fn params_mut(&mut self) -> Vec<Named<&mut Param>> {
        Vec::new()
    }

    /// The BatchNorm whose running statistics the checkpoint keeps, with its part.
    fn batch_norm_mut(&mut self) -> Option<(usize, &mut BatchNorm2d)> {
        None
    }

    /// Whether the layer draws dropout masks (the network gives it a seed of its own).
    fn uses_dropout(&self) -> bool {
        false
    }

    /// A boxed copy (networks are cloned for weight averages and finite differences).
    fn boxed_clone(&self) -> Box<dyn Layer>;
}

impl Clone for Box<dyn Layer> {
    fn clone(&self) -> Self {
        self.boxed_clone()
    }
}

/// A weight and an optional bias of part 0, the parameters of a convolution, a linear layer or a BatchNorm
/// (γ and β); `T` is `&Param` or `&mut Param`.
pub(crate) fn weight_and_bias<T>(weight: T, bias: Option<T>) -> Vec<Named<T>> {
    let mut out = vec![Named {
        part: 0,
        name: "weight",
        param: weight,
    }];
    out.extend(bias.map(|param| Named {
        part: 0,
        name: "bias",
        param,
    }));
    out
}

/// [N, C, H, W] → [N, C·H·W, 1, 1], the same values: PyTorch's `Flatten()`, and the implied flatten before
/// a `Linear` reached by a feature map.
#[derive(Debug, Clone, Default)]
pub struct Flatten {
    shape: Option<[usize; 4]>,
}

impl Layer for Flatten {
    fn describe(&self) -> String {
        "Flatten".into()
    }

    fn forward(&mut self, mut x: Tensor, _: Pass) -> Tensor {
        self.shape = Some(x.shape);
        let [n, c, h, w] = x.shape;
        if h == 1 && w == 1 {
            return x;
        }
        Tensor::from_vec([n, c * h * w, 1, 1], std::mem::take(&mut x.data))
    }

    fn backward(&mut self, mut dy: Tensor, _: bool) -> Option<Tensor> {
        let shape = self.shape.take().expect("backward before forward");
        Some(Tensor::from_vec(shape, std::mem::take(&mut dy.data)))
    }

    fn boxed_clone(&self) -> Box<dyn Layer> {
        Box::new(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flatten_keeps_the_values_and_restores_the_shape() {
        let x = Tensor::from_vec([2, 3, 2, 1], (0..12).map(|v| v as f32).collect());
        let mut f = Flatten::default();
        let y = f.forward(x.clone(), Pass::EVAL);
        assert_eq!((y.shape, &y.data), ([2, 6, 1, 1], &x.data));
        let dx = f.backward(y, true).unwrap();
        assert_eq!(dx.shape, x.shape);
        assert_eq!(f.params().len(), 0);
    }
}
