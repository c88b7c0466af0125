//! Fully connected layer: y = x·Wᵀ + b (the bias is optional).

use rand_chacha::ChaCha8Rng;

use super::layer::{Layer, Named, Pass, weight_and_bias};
use crate::gemm::{Mat, matmul};
use crate::init::uniform_fan_in;
use crate::{Param, Tensor};

/// `inputs` → `outputs` features.
#[derive(Debug, Clone)]
pub struct Linear {
    /// Weight [outputs, inputs].
    pub weight: Param,
    /// Bias, one per output (`None` for a layer without bias, as for `Conv2d`).
    pub bias: Option<Param>,
    input: Option<Tensor>,
}

impl Linear {
    /// PyTorch's default initialisation for weight and bias.
    pub fn new(inputs: usize, outputs: usize, rng: &mut ChaCha8Rng) -> Self {
        Self::with_bias(inputs, outputs, true, rng)
    }

    /// A layer with or without bias, PyTorch's default initialisation (weight, then bias).
    pub fn with_bias(inputs: usize, outputs: usize, bias: bool, rng: &mut ChaCha8Rng) -> Self {
        let weight = Param::new(vec![outputs, inputs], uniform_fan_in(rng, outputs * inputs, inputs));
        let bias = bias.then(|| Param::new(vec![outputs], uniform_fan_in(rng, outputs, inputs)));
        Self {
            weight,
            bias,
            input: None,
        }
    }

    /// [N, in, 1, 1] (or any N×in) → [N, out, 1, 1].
    pub fn forward(&mut self, x: Tensor) -> Tensor {
        let (n, inputs, outputs) = (x.n(), self.weight.shape[1], self.weight.shape[0]);
        assert_eq!(x.per_image(), inputs);
        let mut y = Tensor::zeros([n, outputs, 1, 1]);
        if let Some(bias) = &self.bias {
            for row in y.data.chunks_exact_mut(outputs) {
                row.copy_from_slice(&bias.value);
            }
        }
        matmul(
            Mat::new(&x.data, n, inputs),
            Mat::transposed(&self.weight.value, outputs, inputs),
            &mut y.data,
            true,
        );
        self.input = Some(x);
        y
    }

    /// Accumulates ∂L/∂W = dyᵀ·x and ∂L/∂b = Σdy; returns ∂L/∂x = dy·W.
    pub fn backward(&mut self, dy: &Tensor) -> Tensor {
        let x = self.input.take().expect("backward before forward");
        let (n, inputs, outputs) = (x.n(), self.weight.shape[1], self.weight.shape[0]);
        matmul(
            Mat::transposed(&dy.data, n, outputs),
            Mat::new(&x.data, n, inputs),
            &mut self.weight.grad,
            true,
        );
        if let Some(bias) = &mut self.bias {
            for row in dy.data.chunks_exact(outputs) {
                bias.grad.iter_mut().zip(row).for_each(|(g, d)| *g += d);
            }
        }
        let mut dx = Tensor::zeros(x.shape);
        matmul(
            Mat::new(&dy.data, n, outputs),
            Mat::new(&self.weight.value, outputs, inputs),
            &mut dx.data,
            false,
        );
        dx
    }
}

impl Layer for Linear {
    fn describe(&self) -> String {
        "Linear".into()
    }

    fn forward(&mut self, x: Tensor, _: Pass) -> Tensor {
        Linear::forward(self, x)
    }

    fn backward(&mut self, dy: Tensor, _: bool) -> Option<Tensor> {
        Some(Linear::backward(self, &dy))
    }

    fn params(&self) -> Vec<Named<&Param>> {
        weight_and_bias(&self.weight, self.bias.as_ref())
    }

    fn params_mut(&mut self) -> Vec<Named<&mut Param>> {
        weight_and_bias(&mut self.weight, self.bias.as_mut())
    }

    fn boxed_clone(&self) -> Box<dyn Layer> {
        Box::new(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::gradcheck::{check_input_gradient, check_param_gradient, random_tensor};
    use rand::SeedableRng;

    #[test]
    fn without_bias_is_x_times_w_transposed() {
        let mut l = Linear::with_bias(2, 1, false, &mut ChaCha8Rng::seed_from_u64(2));
        l.weight.value = vec![2.0, -1.0];
        let y = l.forward(Tensor::from_vec([1, 2, 1, 1], vec![3.0, 4.0]));
        assert_eq!(y.data, [2.0]);
        let dx = l.backward(&Tensor::from_vec([1, 1, 1, 1], vec![1.0]));
        assert_eq!(
            (dx.data.clone(), l.weight.grad.clone()),
            (vec![2.0, -1.0], vec![3.0, 4.0])
        );
    }

    #[test]
    fn gradients_match_finite_differences() {
        let layer = Linear::new(6, 4, &mut ChaCha8Rng::seed_from_u64(2));
        let x = random_tensor([3, 6, 1, 1], 7);
        check_input_gradient(
            &x,
            |x| layer.clone().forward(x),
            |x, dy| {
                let mut l = layer.clone();
                l.forward(x);
                l.backward(dy)
            },
        );
        let theta = [layer.weight.value.clone(), layer.bias.as_ref().unwrap().value.clone()].concat();
        check_param_gradient(
            &theta,
            |t| {
                let mut l = layer.clone();
                l.weight.value = t[..24].to_vec();
                l.bias.as_mut().unwrap().value = t[24..].to_vec();
                l.forward(x.clone())
            },
            |dy| {
                let mut l = layer.clone();
                l.forward(x.clone());
                l.backward(dy);
                [l.weight.grad, l.bias.unwrap().grad].concat()
            },
        );
    }
}
