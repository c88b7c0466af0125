//! Global average pooling: each channel's mean over its H×W plane.

use super::layer::{Layer, Pass};
use crate::Tensor;

/// [N, C, H, W] → [N, C, 1, 1].
#[derive(Debug, Clone, Default)]
pub struct GlobalAvgPool {
    input_shape: Option<[usize; 4]>,
}

impl GlobalAvgPool {
    /// Averages each plane.
    pub fn forward(&mut self, x: Tensor) -> Tensor {
        let [n, c, h, w] = x.shape;
        let plane = h * w;
        let mut y = Tensor::zeros([n, c, 1, 1]);
        for (m, p) in y.data.iter_mut().zip(x.data.chunks_exact(plane)) {
            *m = p.iter().sum::<f32>() / plane as f32;
        }
        self.input_shape = Some(x.shape);
        y
    }

    /// Spreads each ∂L/∂y evenly over its plane.
    pub fn backward(&mut self, dy: Tensor) -> Tensor {
        let shape = self.input_shape.take().expect("backward before forward");
        let plane = shape[2] * shape[3];
        let mut dx = Tensor::zeros(shape);
        for (p, &d) in dx.data.chunks_exact_mut(plane).zip(&dy.data) {
            p.fill(d / plane as f32);
        }
        dx
    }
}

impl Layer for GlobalAvgPool {
    fn describe(&self) -> String {
        "AdaptiveAvgPool2d".into()
    }

    fn forward(&mut self, x: Tensor, _: Pass) -> Tensor {
        GlobalAvgPool::forward(self, x)
    }

    fn backward(&mut self, dy: Tensor, _: bool) -> Option<Tensor> {
        Some(GlobalAvgPool::backward(self, dy))
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
        let x = random_tensor([2, 3, 3, 3], 6);
        check_input_gradient(
            &x,
            |x| GlobalAvgPool::default().forward(x),
            |x, dy| {
                let mut g = GlobalAvgPool::default();
                g.forward(x);
                g.backward(dy.clone())
            },
        );
    }
}
