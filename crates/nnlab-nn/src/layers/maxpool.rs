//! Max-pooling 2×2 with stride 2: the gradient goes, unscaled, to the position that held the maximum.

use rayon::prelude::*;

use crate::{CHUNK, Tensor};

/// 2×2 max-pool, stride 2 (odd trailing rows/columns dropped, as PyTorch does).
#[derive(Debug, Clone, Default)]
pub struct MaxPool2 {
    /// Which of the four won, per output value; kept across steps so its memory is reused.
    argmax: Vec<u8>,
    input_shape: Option<[usize; 4]>,
}

impl MaxPool2 {
    /// [N, C, H, W] → [N, C, H/2, W/2]; remembers which of the four won.
    pub fn forward(&mut self, x: Tensor, keep: bool) -> Tensor {
        let [n, c, h, w] = x.shape;
        let (oh, ow) = (h / 2, w / 2);
        let mut out = Tensor::zeros([n, c, oh, ow]);
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
                            (y[ox], a[ox]) = if bv > tv { (bv, bi) } else { (tv, ti) };
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
        let (oh, ow) = (h / 2, w / 2);
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
                            let k = a[oy * ow + ox] as usize;
                            dxp[(2 * oy + k / 2) * w + 2 * ox + k % 2] += dyp[oy * ow + ox];
                        }
                    }
                }
            });
        dx
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::gradcheck::{check_input_gradient, random_tensor};

    #[test]
    fn picks_the_maximum_and_passes_the_whole_gradient_back() {
        let mut pool = MaxPool2::default();
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
            let mut pool = MaxPool2::default();
            pool.forward(Tensor::from_vec([1, 1, 2, 2], window.to_vec()), true);
            let dx = pool.backward(Tensor::from_vec([1, 1, 1, 1], vec![1.0]));
            let mut expect = vec![0.0; 4];
            expect[winner] = 1.0;
            assert_eq!(dx.data, expect, "window {window:?}");
        }
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let x = random_tensor([2, 3, 4, 6], 4);
        check_input_gradient(
            &x,
            |x| MaxPool2::default().forward(x, false),
            |x, dy| {
                let mut p = MaxPool2::default();
                p.forward(x, true);
                p.backward(dy.clone())
            },
        );
    }
}
