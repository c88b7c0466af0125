//! 2-D convolution, stride 1, zero padding, no bias: a matrix product per image on an im2col layout.

use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::gemm::{Mat, matmul};
use crate::init::uniform_fan_in;
use crate::workspace::Workspace;
use crate::{CHUNK, Param, Tensor};

/// A k×k convolution from `cin` to `cout` channels.
#[derive(Debug, Clone)]
pub struct Conv2d {
    /// Weight, shape [cout, cin, k, k].
    pub weight: Param,
    cin: usize,
    cout: usize,
    k: usize,
    pad: usize,
    input: Option<Tensor>,
}

/// The output columns `lo..hi` whose input column `ox + kx − pad` lies inside a row of width `w`.
fn valid_columns(w: usize, ow: usize, kx: usize, pad: usize) -> (usize, usize) {
    let lo = pad.saturating_sub(kx);
    let hi = (w + pad).saturating_sub(kx).min(ow);
    (lo, hi.max(lo))
}

/// Unfolds one image [cin, h, w] into columns [cin·k·k, oh·ow].
fn im2col(x: &[f32], cin: usize, h: usize, w: usize, k: usize, pad: usize, cols: &mut [f32]) {
    let (oh, ow) = (h + 2 * pad - k + 1, w + 2 * pad - k + 1);
    for c in 0..cin {
        let plane = &x[c * h * w..][..h * w];
        for ky in 0..k {
            for kx in 0..k {
                let row = &mut cols[((c * k + ky) * k + kx) * oh * ow..][..oh * ow];
                let (lo, hi) = valid_columns(w, ow, kx, pad);
                for (oy, out) in row.chunks_exact_mut(ow).enumerate() {
                    let iy = oy + ky;
                    if iy < pad || iy >= h + pad {
                        out.fill(0.0);
                        continue;
                    }
                    let src = &plane[(iy - pad) * w..][..w];
                    out[..lo].fill(0.0);
                    out[hi..].fill(0.0);
                    out[lo..hi].copy_from_slice(&src[lo + kx - pad..hi + kx - pad]);
                }
            }
        }
    }
}

/// Folds columns back into an image, adding into `dx` (which starts at zero): the adjoint of `im2col`.
fn col2im(cols: &[f32], cin: usize, h: usize, w: usize, k: usize, pad: usize, dx: &mut [f32]) {
    let (oh, ow) = (h + 2 * pad - k + 1, w + 2 * pad - k + 1);
    for c in 0..cin {
        let plane = &mut dx[c * h * w..][..h * w];
        for ky in 0..k {
            for kx in 0..k {
                let row = &cols[((c * k + ky) * k + kx) * oh * ow..][..oh * ow];
                let (lo, hi) = valid_columns(w, ow, kx, pad);
                for (oy, src) in row.chunks_exact(ow).enumerate() {
                    let iy = oy + ky;
                    if iy < pad || iy >= h + pad {
                        continue;
                    }
                    let dst = &mut plane[(iy - pad) * w..][..w][lo + kx - pad..hi + kx - pad];
                    dst.iter_mut().zip(&src[lo..hi]).for_each(|(d, s)| *d += s);
                }
            }
        }
    }
}

/// The gradient tensor (when there is one) split into the parallel loops' chunks of `CHUNK` images of
/// `per_image` values each; `None` for every chunk of the `n` images when no gradient is wanted.
pub(crate) fn image_chunks(dx: Option<&mut Tensor>, n: usize, per_image: usize) -> Vec<Option<&mut [f32]>> {
    match dx {
        Some(t) => t.data.chunks_mut(CHUNK * per_image).map(Some).collect(),
        None => (0..n.div_ceil(CHUNK)).map(|_| None).collect(),
    }
}

impl Conv2d {
    /// A convolution with PyTorch's default initialisation.
    pub fn new(cin: usize, cout: usize, k: usize, pad: usize, rng: &mut ChaCha8Rng) -> Self {
        let fan_in = cin * k * k;
        let weight = Param::new(vec![cout, cin, k, k], uniform_fan_in(rng, cout * fan_in, fan_in));
        Self {
            weight,
            cin,
            cout,
            k,
            pad,
            input: None,
        }
    }

    /// Output spatial size for an input of `h`×`w`.
    pub fn output_size(&self, h: usize, w: usize) -> (usize, usize) {
        (h + 2 * self.pad - self.k + 1, w + 2 * self.pad - self.k + 1)
    }

    /// Output channels.
    pub fn out_channels(&self) -> usize {
        self.cout
    }

    fn is_pointwise(&self) -> bool {
        self.k == 1 && self.pad == 0
    }

    /// Scratch lengths one image needs: (im2col columns, their gradient); 1×1 convolutions need none.
    pub(crate) fn scratch_len(&self, h: usize, w: usize) -> usize {
        let (oh, ow) = self.output_size(h, w);
        if self.is_pointwise() {
            0
        } else {
            self.cin * self.k * self.k * oh * ow
        }
    }

    /// One image: `y` [cout, oh·ow] = W · im2col(`x`) ; `cols` is scratch of `scratch_len`.
    pub(crate) fn forward_image(&self, x: &[f32], h: usize, w: usize, y: &mut [f32], cols: &mut [f32]) {
        let (oh, ow) = self.output_size(h, w);
        let (kk, p) = (self.cin * self.k * self.k, oh * ow);
        let input = if self.is_pointwise() {
            Mat::new(x, kk, p)
        } else {
            im2col(x, self.cin, h, w, self.k, self.pad, cols);
            Mat::new(cols, kk, p)
        };
        matmul(Mat::new(&self.weight.value, self.cout, kk), input, y, false);
    }

    /// One image: `dw_t` += im2col(x) · dyᵀ (∂L/∂W transposed, [cin·k·k, cout]: the faster orientation)
    /// and, when asked, `dx` = col2im(Wᵀ · dy), with `dx` zero on entry.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn backward_image(
        &self,
        x: &[f32],
        h: usize,
        w: usize,
        dy: &[f32],
        dw_t: &mut [f32],
        dx: Option<&mut [f32]>,
        cols: &mut [f32],
        dcols: &mut [f32],
    ) {
        let (oh, ow) = self.output_size(h, w);
        let (kk, p) = (self.cin * self.k * self.k, oh * ow);
        let pointwise = self.is_pointwise();
        let input: &[f32] = if pointwise {
            x
        } else {
            im2col(x, self.cin, h, w, self.k, self.pad, cols);
            cols
        };
        matmul(Mat::new(input, kk, p), Mat::transposed(dy, self.cout, p), dw_t, true);
        let dy = Mat::new(dy, self.cout, p);
        if let Some(dx) = dx {
            let weight_t = Mat::transposed(&self.weight.value, self.cout, kk);
            if pointwise {
                matmul(weight_t, dy, dx, false);
            } else {
                matmul(weight_t, dy, dcols, false);
                col2im(dcols, self.cin, h, w, self.k, self.pad, dx);
            }
        }
    }

    /// [N, cin, H, W] → [N, cout, OH, OW]; with `keep`, keeps the input for `backward`.
    pub fn forward(&mut self, x: Tensor, keep: bool) -> Tensor {
        let [n, cin, h, w] = x.shape;
        assert_eq!(cin, self.cin, "conv expects {} input channels", self.cin);
        let (oh, ow) = self.output_size(h, w);
        let per_out = self.cout * oh * ow;
        let mut out = Tensor::zeros([n, self.cout, oh, ow]);
        let this = &*self;
        out.data
            .par_chunks_mut(CHUNK * per_out)
            .zip(x.data.par_chunks(CHUNK * cin * h * w))
            .for_each(|(ys, xs)| {
                Workspace::with(|ws| {
                    let [cols, ..] = ws.buffers([this.scratch_len(h, w), 0, 0, 0]);
                    for (y, xi) in ys.chunks_exact_mut(per_out).zip(xs.chunks_exact(cin * h * w)) {
                        this.forward_image(xi, h, w, y, cols);
                    }
                })
            });
        self.input = keep.then_some(x);
        out
    }

    /// Accumulates ∂L/∂weight and returns ∂L/∂input (skipped when `need_input_grad` is false).
    pub fn backward(&mut self, dy: &Tensor, need_input_grad: bool) -> Option<Tensor> {
        let x = self.input.take().expect("backward before forward");
        let mut dx = need_input_grad.then(|| Tensor::zeros(x.shape));
        let partials = self.backward_images(&x, &dy.data, dx.as_mut());
        self.add_weight_grads(partials);
        dx
    }

    /// ∂L/∂W partial sums (transposed) per chunk of images, and ∂L/∂x into `dx`, for an ordered reduction.
    fn backward_images(&self, x: &Tensor, dy: &[f32], dx: Option<&mut Tensor>) -> Vec<Vec<f32>> {
        let [n, cin, h, w] = x.shape;
        let (oh, ow) = self.output_size(h, w);
        let (per_in, per_out) = (cin * h * w, self.cout * oh * ow);
        image_chunks(dx, n, per_in)
            .into_par_iter()
            .zip(x.data.par_chunks(CHUNK * per_in))
            .zip(dy.par_chunks(CHUNK * per_out))
            .map(|((mut dxs, xs), dys)| {
                let mut dw_t = vec![0.0; self.weight.len()];
                Workspace::with(|ws| {
                    let len = self.scratch_len(h, w);
                    let [cols, dcols, ..] = ws.buffers([len, len, 0, 0]);
                    for (i, (xi, dyi)) in xs.chunks_exact(per_in).zip(dys.chunks_exact(per_out)).enumerate() {
                        let dxi = dxs.as_deref_mut().map(|d| &mut d[i * per_in..(i + 1) * per_in]);
                        self.backward_image(xi, h, w, dyi, &mut dw_t, dxi, cols, dcols);
                    }
                });
                dw_t
            })
            .collect()
    }

    /// Adds per-chunk transposed weight-gradient partials, in chunk order.
    pub(crate) fn add_weight_grads(&mut self, partials: Vec<Vec<f32>>) {
        let kk = self.cin * self.k * self.k;
        let mut sum = vec![0.0f32; self.weight.len()];
        for part in partials {
            sum.iter_mut().zip(part).for_each(|(s, d)| *s += d);
        }
        for (o, row) in self.weight.grad.chunks_exact_mut(kk).enumerate() {
            row.iter_mut()
                .enumerate()
                .for_each(|(i, g)| *g += sum[i * self.cout + o]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::gradcheck::{check_input_gradient, check_param_gradient, random_tensor};
    use rand::SeedableRng;

    #[test]
    fn gradients_match_finite_differences() {
        for (k, pad, cin) in [(3, 0, 2), (3, 1, 3), (1, 0, 4)] {
            let mut rng = ChaCha8Rng::seed_from_u64(1);
            let conv = Conv2d::new(cin, 3, k, pad, &mut rng);
            let x = random_tensor([5, cin, 6, 5], 2);
            check_input_gradient(
                &x,
                |x| conv.clone().forward(x, false),
                |layer_x, dy| {
                    let mut c = conv.clone();
                    c.forward(layer_x, true);
                    c.backward(dy, true).unwrap()
                },
            );
            check_param_gradient(
                &conv.weight.value.clone(),
                |w| {
                    let mut c = conv.clone();
                    c.weight.value = w.to_vec();
                    c.forward(x.clone(), false)
                },
                |dy| {
                    let mut c = conv.clone();
                    c.forward(x.clone(), true);
                    c.backward(dy, false);
                    c.weight.grad
                },
            );
        }
    }

    #[test]
    fn a_known_convolution() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut conv = Conv2d::new(1, 1, 3, 1, &mut rng);
        conv.weight.value = vec![0.0, 0.0, 0.0, 0.0, 1.0, 2.0, 0.0, 0.0, 0.0];
        let y = conv.forward(Tensor::from_vec([1, 1, 2, 2], vec![1.0, 2.0, 3.0, 4.0]), false);
        assert_eq!(y.data, [1.0 + 4.0, 2.0, 3.0 + 8.0, 4.0]);
    }
}
