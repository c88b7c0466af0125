//! ReLU: max(x, 0); the gradient passes where the output is positive.

use rayon::prelude::*;

use super::layer::{Layer, Pass};
use crate::Tensor;

/// Rectified linear unit, applied in place; remembers its output for `backward`.
#[derive(Debug, Clone, Default)]
pub struct Relu {
    output: Option<Tensor>,
}

impl Relu {
    /// y = max(x, 0).
    pub fn forward(&mut self, mut x: Tensor, keep: bool) -> Tensor {
        x.data
            .par_chunks_mut(1 << 14)
            .for_each(|c| c.iter_mut().for_each(|v| *v = v.max(0.0)));
        if keep {
            self.output = Some(x.clone());
        }
        x
    }

    /// ∂L/∂x = ∂L/∂y where y > 0, else 0.
    pub fn backward(&mut self, mut dy: Tensor) -> Tensor {
        let y = self.output.take().expect("backward before forward");
        dy.data
            .par_chunks_mut(1 << 14)
            .zip(y.data.par_chunks(1 << 14))
            .for_each(|(d, y)| {
                d.iter_mut().zip(y).for_each(|(d, y)| {
                    if *y <= 0.0 {
                        *d = 0.0
                    }
                })
            });
        dy
    }

    /// The output of the last training forward pass.
    pub fn output(&self) -> Option<&Tensor> {
        self.output.as_ref()
    }
}

impl Layer for Relu {
    fn describe(&self) -> String {
        "ReLU".into()
    }

    fn forward(&mut self, x: Tensor, pass: Pass) -> Tensor {
        Relu::forward(self, x, pass.keeps())
    }

    fn backward(&mut self, dy: Tensor, _: bool) -> Option<Tensor> {
        Some(Relu::backward(self, dy))
    }

    fn boxed_clone(&self) -> Box<dyn Layer> {
        Box::new(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::gradcheck::{check_input_gradient, random_tensor};

    #[test]
    fn gradient_matches_finite_differences() {
        // Keep inputs farther than ε from the kink at 0, where finite differences straddle it.
        let mut x = random_tensor([3, 2, 4, 4], 5);
        x.data.iter_mut().for_each(|v| *v += 0.05 * v.signum());
        check_input_gradient(
            &x,
            |x| Relu::default().forward(x, false),
            |x, dy| {
                let mut r = Relu::default();
                r.forward(x, true);
                r.backward(dy.clone())
            },
        );
    }
}
