//! Max-pooling over k×k windows with a stride (2×2 stride 2 has its own branch-free loop): the gradient
//! goes, unscaled, to the position that held the maximum.

use rayon::prelude::*;

use super::layer::{Layer, Pass};
use crate::{CHUNK, Tensor};

/// k×k max-pool with a stride (trailing rows/columns that do not fill a window are dropped, as PyTorch
/// does).
#[derive(Debug, Clone)]
pub struct MaxPool2d {
    /// Window size.
    pub k: usize,
    /// Stride.
    pub stride: usize,
    /// Which position of its window won (ky·k + kx), per output value; kept across steps so its memory
    /// is reused.
    argmax: Vec<u8>,
    input_shape: Option<[usize; 4]>,
}

impl Default for MaxPool2d {
    /// 2×2, stride 2.
    fn default() -> Self {
        Self::new(2, 2)
    }
}

impl MaxPool2d {
    /// A k×k max-pool (k ≤ 15) with the given stride.
    pub fn new(k: usize, stride: usize) -> Self {
        assert!((1..16).contains(&k) && stride >= 1);
        Self {
            k,
            stride,
            argmax: Vec::new(),
            input_shape: None,
        }
    }

    /// Output spatial size for an input of `h`×`w`.
    pub fn output_size(&self, h: usize, w: usize) -> (usize, usize) {
        ((h - self.k) / self.stride + 1, (w - self.k) / self.stride + 1)
    }

    /// [N, C, H, W] → [N, C, OH, OW]; remembers which position of each window won.
    pub fn forward(&mut self, x: Tensor, keep: bool) -> Tensor {
        if (self.k, self.stride) != (2, 2) {
            return self.forward_general(x, keep);
        }
        let [n, c, h, w] = x.shape;
        let (oh, ow) = (h / 2, w / 2);
        let mut out = Tensor::overwritten([n, c, oh, ow]);
        self.argmax.resize(out.data.len(), 0);
        out.data
            .par_chunks_mut(CHUNK * c * oh * ow)
            .zip(self.argmax.par_chunks_mut(CHUNK * c * oh * ow))
            .zip(x.data.par_chunks(CHUNK * c * h * w))
            .for_each(|((ys, args), xs)| {
                for ((y, a), xp) in ys
                    .chunks_exact_mut(oh * ow)
                    .zip(args.chunks_exact_mut(oh * ow))
                    .zip(xs.chunks_exact(h * w))
                {
                    for oy in 0..oh {
                        let (top, bottom) = (&xp[2 * oy * w..][..2 * ow], &xp[(2 * oy + 1) * w..][..2 * ow]);
                        let (y, a) = (&mut y[oy * ow..][..ow], &mut a[oy * ow..][..ow]);
                        for ox in 0..ow {
                            // The first maximum in reading order wins, as in PyTorch.
                            let (t0, t1, b0, b1) = (top[2 * ox], top[2 * ox + 1], bottom[2 * ox], bottom[2 * ox + 1]);
                            let (tv, ti) = if t1 > t0 { (t1, 1) } else { (t0, 0) };
                            let (bv, bi) = if b1 > b0 { (b1, 3) } else { (b0, 2) };
                            // Window positions ky·2 + kx: 0, 1 on top, 2, 3 below.
                            (y[ox], a[ox]) = if bv > tv { (bv, bi) } else { (tv, ti) };
                        }
                    }
                }
            });
        self.input_shape = keep.then_some(x.shape);
        out
    }

    /// Any window and stride: the first maximum in reading order wins.
    fn forward_general(&mut self, x: Tensor, keep: bool) -> Tensor {
        let [n, c, h, w] = x.shape;
        let (k, s) = (self.k, self.stride);
        let (oh, ow) = self.output_size(h, w);
        let mut out = Tensor::overwritten([n, c, oh, ow]);
        self.argmax.resize(out.data.len(), 0);
        out.data
            .par_chunks_mut(CHUNK * c * oh * ow)
            .zip(self.argmax.par_chunks_mut(CHUNK * c * oh * ow))
            .zip(x.data.par_chunks(CHUNK * c * h * w))
            .for_each(|((ys, args), xs)| {
                for ((y, a), xp) in ys
                    .chunks_exact_mut(oh * ow)
                    .zip(args.chunks_exact_mut(oh * ow))
                    .zip(xs.chunks_exact(h * w))
                {
                    for oy in 0..oh {
                        for ox in 0..ow {
                            let (mut best, mut at) = (f32::NEG_INFINITY, 0usize);
                            for ky in 0..k {
                                let row = &xp[(oy * s + ky) * w + ox * s..][..k];
                                for (kx, &v) in row.iter().enumerate() {
                                    if v > best || (ky == 0 && kx == 0) {
                                        (best, at) = (v, ky * k + kx);
                                    }
                                }
                            }
                            y[oy * ow + ox] = best;
                            a[oy * ow + ox] = at as u8;
                        }
                    }
                }
            });
        self.input_shape = keep.then_some(x.shape);
        out
    }

    /// Routes each ∂L/∂y to its winning input position.
    pub fn backward(&mut self, dy: Tensor) -> Tensor {
        let shape = self.input_shape.take().expect("backward before forward");
        let [_, c, h, w] = shape;
        let (k, s) = (self.k, self.stride);
        let (oh, ow) = self.output_size(h, w);
        let mut dx = Tensor::zeros(shape);
        dx.data
            .par_chunks_mut(CHUNK * c * h * w)
            .zip(dy.data.par_chunks(CHUNK * c * oh * ow))
            .zip(self.argmax.par_chunks(CHUNK * c * oh * ow))
            .for_each(|((dxs, dys), args)| {
                for ((dxp, dyp), a) in dxs
                    .chunks_exact_mut(h * w)
                    .zip(dys.chunks_exact(oh * ow))
                    .zip(args.chunks_exact(oh * ow))
                {
                    for oy in 0..oh {
                        for ox in 0..ow {
                            let at = a[oy * ow + ox] as usize;
                            // The winner's row and column in its window; shifts for the common 2×2 window
                            // rather than a division by k.
                            let (wy, wx) = if k == 2 { (at >> 1, at & 1) } else { (at / k, at % k) };
                            dxp[(s * oy + wy) * w + s * ox + wx] += dyp[oy * ow + ox];
                        }
                    }
                }
            });
        dx
    }
}

impl Layer for MaxPool2d {
    fn describe(&self) -> String {
        "MaxPool2d".into()
    }

    fn forward(&mut self, x: Tensor, pass: Pass) -> Tensor {
        MaxPool2d::forward(self, x, pass.keeps())
    }

    fn backward(&mut self, dy: Tensor, _: bool) -> Option<Tensor> {
        Some(MaxPool2d::backward(self, dy))
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
    fn picks_the_maximum_and_passes_the_whole_gradient_back() {
        let mut pool = MaxPool2d::default();
        let y = pool.forward(Tensor::from_vec([1, 1, 2, 2], vec![1.0, 5.0, 3.0, 2.0]), true);
        assert_eq!(y.data, [5.0]);
        let dx = pool.backward(Tensor::from_vec([1, 1, 1, 1], vec![1.0]));
        assert_eq!(dx.data, [0.0, 1.0, 0.0, 0.0], "not scaled by ¼");
    }

    #[test]
    fn ties_go_to_the_first_maximum_in_reading_order_as_in_pytorch() {
        for (window, winner) in [
            ([3.0, 3.0, 3.0, 3.0], 0),
            ([1.0, 2.0, 2.0, 2.0], 1),
            ([1.0, 0.0, 4.0, 4.0], 2),
        ] {
            let mut pool = MaxPool2d::default();
            pool.forward(Tensor::from_vec([1, 1, 2, 2], window.to_vec()), true);
            let dx = pool.backward(Tensor::from_vec([1, 1, 1, 1], vec![1.0]));
            let mut expect = vec![0.0; 4];
            expect[winner] = 1.0;
            assert_eq!(dx.data, expect, "window {window:?}");
        }
    }

    #[test]
    fn gradient_matches_finite_differences() {
        // Distinct values 0.05 apart in a scrambled order: no two in a window within the ±ε probe.
        let n = 2 * 3 * 7 * 6;
        let x = Tensor::from_vec([2, 3, 7, 6], (0..n).map(|i| ((i * 97) % n) as f32 * 0.05).collect());
        for (k, s) in [(2, 2), (3, 2), (2, 1), (3, 3)] {
            check_input_gradient(
                &x,
                |x| MaxPool2d::new(k, s).forward(x, false),
                |x, dy| {
                    let mut p = MaxPool2d::new(k, s);
                    p.forward(x, true);
                    p.backward(dy.clone())
                },
            );
        }
    }

    #[test]
    fn general_path_equals_the_two_by_two_path() {
        let x = random_tensor([3, 2, 9, 8], 5);
        let fast = MaxPool2d::default().forward(x.clone(), false);
        let mut general = MaxPool2d::new(2, 2);
        assert_eq!(fast, general.forward_general(x, false));
        let y = MaxPool2d::new(3, 2).forward(
            Tensor::from_vec([1, 1, 3, 3], (0..9).map(|v| v as f32).collect()),
            false,
        );
        assert_eq!(y.data, [8.0]);
    }
}
