//! Average pooling over k×k windows with a stride: each output is its window's mean, and the gradient is
//! spread evenly back over the window.

use rayon::prelude::*;

use super::layer::{Layer, Pass};
use crate::{CHUNK, Tensor};

/// k×k average pool with a stride (no padding; trailing rows/columns that do not fill a window are
/// dropped, as PyTorch does).
#[derive(Debug, Clone)]
pub struct AvgPool2d {
    /// Window size.
    pub k: usize,
    /// Stride.
    pub stride: usize,
    input_shape: Option<[usize; 4]>,
}

impl AvgPool2d {
    /// A k×k average pool with the given stride.
    pub fn new(k: usize, stride: usize) -> Self {
        assert!(k >= 1 && stride >= 1);
        Self {
            k,
            stride,
            input_shape: None,
        }
    }

    /// Output spatial size for an input of `h`×`w`.
    pub fn output_size(&self, h: usize, w: usize) -> (usize, usize) {
        ((h - self.k) / self.stride + 1, (w - self.k) / self.stride + 1)
    }

    /// [N, C, H, W] → [N, C, OH, OW].
    pub fn forward(&mut self, x: Tensor) -> Tensor {
        let [n, c, h, w] = x.shape;
        let (k, s) = (self.k, self.stride);
        let (oh, ow) = self.output_size(h, w);
        let scale = 1.0 / (k * k) as f32;
        let mut out = Tensor::overwritten([n, c, oh, ow]);
        out.data
            .par_chunks_mut(CHUNK * c * oh * ow)
            .zip(x.data.par_chunks(CHUNK * c * h * w))
            .for_each(|(ys, xs)| {
                for (y, xp) in ys.chunks_exact_mut(oh * ow).zip(xs.chunks_exact(h * w)) {
                    for oy in 0..oh {
                        for ox in 0..ow {
                            let sum: f32 = (0..k)
                                .map(|ky| xp[(oy * s + ky) * w + ox * s..][..k].iter().sum::<f32>())
                                .sum();
                            y[oy * ow + ox] = sum * scale;
                        }
                    }
                }
            });
        self.input_shape = Some(x.shape);
        out
    }

    /// Spreads each ∂L/∂y, divided by k², over its window.
    pub fn backward(&mut self, dy: Tensor) -> Tensor {
        let shape = self.input_shape.take().expect("backward before forward");
        let [_, c, h, w] = shape;
        let (k, s) = (self.k, self.stride);
        let (oh, ow) = self.output_size(h, w);
        let scale = 1.0 / (k * k) as f32;
        let mut dx = Tensor::zeros(shape);
        dx.data
            .par_chunks_mut(CHUNK * c * h * w)
            .zip(dy.data.par_chunks(CHUNK * c * oh * ow))
            .for_each(|(dxs, dys)| {
                for (dxp, dyp) in dxs.chunks_exact_mut(h * w).zip(dys.chunks_exact(oh * ow)) {
                    for oy in 0..oh {
                        for ox in 0..ow {
                            let g = dyp[oy * ow + ox] * scale;
                            for ky in 0..k {
                                dxp[(oy * s + ky) * w + ox * s..][..k].iter_mut().for_each(|d| *d += g);
                            }
                        }
                    }
                }
            });
        dx
    }
}

impl Layer for AvgPool2d {
    fn describe(&self) -> String {
        "AvgPool2d".into()
    }

    fn forward(&mut self, x: Tensor, _: Pass) -> Tensor {
        AvgPool2d::forward(self, x)
    }

    fn backward(&mut self, dy: Tensor, _: bool) -> Option<Tensor> {
        Some(AvgPool2d::backward(self, dy))
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
    fn averages_windows() {
        let y = AvgPool2d::new(2, 2).forward(Tensor::from_vec([1, 1, 2, 3], vec![1.0, 2.0, 9.0, 3.0, 6.0, 9.0]));
        assert_eq!(y.data, [3.0]);
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let x = random_tensor([2, 3, 7, 6], 4);
        for (k, s) in [(2, 2), (3, 2), (2, 1)] {
            check_input_gradient(
                &x,
                |x| AvgPool2d::new(k, s).forward(x),
                |x, dy| {
                    let mut p = AvgPool2d::new(k, s);
                    p.forward(x);
                    p.backward(dy.clone())
                },
            );
        }
    }
}
