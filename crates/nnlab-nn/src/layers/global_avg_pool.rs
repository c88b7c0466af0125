//! Global average pooling: each channel's mean over its H×W plane.

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
        let data = x
            .data
            .chunks_exact(plane)
            .map(|p| p.iter().sum::<f32>() / plane as f32)
            .collect();
        self.input_shape = Some(x.shape);
        Tensor::from_vec([n, c, 1, 1], data)
    }

    /// Spreads each ∂L/∂y evenly over its plane.
    pub fn backward(&mut self, dy: Tensor) -> Tensor {
        let shape = self.input_shape.take().expect("backward before forward");
        let plane = shape[2] * shape[3];
        let data = dy
            .data
            .iter()
            .flat_map(|&d| std::iter::repeat_n(d / plane as f32, plane))
            .collect();
        Tensor::from_vec(shape, data)
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
