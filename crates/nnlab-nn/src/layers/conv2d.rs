//! 2-D convolution, stride 1, zero padding, no bias: a matrix product per image on an im2col layout.

use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::gemm::{Mat, matmul};
use crate::init::uniform_fan_in;
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

/// Unfolds one image [cin, h, w] into columns [cin·k·k, oh·ow].
fn im2col(x: &[f32], cin: usize, h: usize, w: usize, k: usize, pad: usize, cols: &mut [f32]) {
    let (oh, ow) = (h + 2 * pad - k + 1, w + 2 * pad - k + 1);
    for c in 0..cin {
        for ky in 0..k {
            for kx in 0..k {
                let row = &mut cols[((c * k + ky) * k + kx) * oh * ow..][..oh * ow];
                for oy in 0..oh {
                    let iy = oy as isize + ky as isize - pad as isize;
                    let out = &mut row[oy * ow..(oy + 1) * ow];
                    if iy < 0 || iy >= h as isize {
                        out.fill(0.0);
                        continue;
                    }
                    let src = &x[c * h * w + iy as usize * w..][..w];
                    for (ox, o) in out.iter_mut().enumerate() {
                        let ix = ox as isize + kx as isize - pad as isize;
                        *o = if ix < 0 || ix >= w as isize {
                            0.0
                        } else {
                            src[ix as usize]
                        };
                    }
                }
            }
        }
    }
}

/// Folds columns back into an image, adding overlapping contributions (the adjoint of `im2col`).
fn col2im(cols: &[f32], cin: usize, h: usize, w: usize, k: usize, pad: usize, dx: &mut [f32]) {
    let (oh, ow) = (h + 2 * pad - k + 1, w + 2 * pad - k + 1);
    dx.fill(0.0);
    for c in 0..cin {
        for ky in 0..k {
            for kx in 0..k {
                let row = &cols[((c * k + ky) * k + kx) * oh * ow..][..oh * ow];
                for oy in 0..oh {
                    let iy = oy as isize + ky as isize - pad as isize;
                    if iy < 0 || iy >= h as isize {
                        continue;
                    }
                    let dst = &mut dx[c * h * w + iy as usize * w..][..w];
                    for ox in 0..ow {
                        let ix = ox as isize + kx as isize - pad as isize;
                        if ix >= 0 && ix < w as isize {
                            dst[ix as usize] += row[oy * ow + ox];
                        }
                    }
                }
            }
        }
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

    fn is_pointwise(&self) -> bool {
        self.k == 1 && self.pad == 0
    }

    /// [N, cin, H, W] → [N, cout, OH, OW]; with `keep`, keeps the input for `backward`.
    pub fn forward(&mut self, x: Tensor, keep: bool) -> Tensor {
        let [n, cin, h, w] = x.shape;
        assert_eq!(cin, self.cin, "conv expects {} input channels", self.cin);
        let (oh, ow) = self.output_size(h, w);
        let (kk, p) = (cin * self.k * self.k, oh * ow);
        let mut out = Tensor::zeros([n, self.cout, oh, ow]);
        let weight = Mat::new(&self.weight.value, self.cout, kk);
        out.data
            .par_chunks_mut(CHUNK * self.cout * p)
            .zip(x.data.par_chunks(CHUNK * cin * h * w))
            .for_each(|(ys, xs)| {
                let mut cols = if self.is_pointwise() {
                    Vec::new()
                } else {
                    vec![0.0; kk * p]
                };
                for (y, xi) in ys.chunks_exact_mut(self.cout * p).zip(xs.chunks_exact(cin * h * w)) {
                    let input = if self.is_pointwise() {
                        Mat::new(xi, kk, p)
                    } else {
                        im2col(xi, cin, h, w, self.k, self.pad, &mut cols);
                        Mat::new(&cols, kk, p)
                    };
                    matmul(weight, input, y, false);
                }
            });
        self.input = keep.then_some(x);
        out
    }

    /// Accumulates ∂L/∂weight and returns ∂L/∂input (skipped when `need_input_grad` is false).
    pub fn backward(&mut self, dy: &Tensor, need_input_grad: bool) -> Option<Tensor> {
        let x = self.input.take().expect("backward before forward");
        let [n, cin, h, w] = x.shape;
        let [_, cout, oh, ow] = dy.shape;
        let (kk, p) = (cin * self.k * self.k, oh * ow);
        let pointwise = self.is_pointwise();
        let weight = &self.weight.value;
        let mut dx = need_input_grad.then(|| Tensor::zeros(x.shape));
        let dx_chunks: Vec<Option<&mut [f32]>> = match dx.as_mut() {
            Some(t) => t.data.chunks_mut(CHUNK * cin * h * w).map(Some).collect(),
            None => (0..n.div_ceil(CHUNK)).map(|_| None).collect(),
        };
        let partials: Vec<Vec<f32>> = dx_chunks
            .into_par_iter()
            .zip(x.data.par_chunks(CHUNK * cin * h * w))
            .zip(dy.data.par_chunks(CHUNK * cout * p))
            .map(|((mut dxs, xs), dys)| {
                let mut dw = vec![0.0; cout * kk];
                let mut cols = if pointwise { Vec::new() } else { vec![0.0; kk * p] };
                let mut dcols = vec![0.0; if pointwise { 0 } else { kk * p }];
                for (i, (xi, dyi)) in xs.chunks_exact(cin * h * w).zip(dys.chunks_exact(cout * p)).enumerate() {
                    let input: &[f32] = if pointwise {
                        xi
                    } else {
                        im2col(xi, cin, h, w, self.k, self.pad, &mut cols);
                        &cols
                    };
                    // dW += dy · colsᵀ
                    matmul(Mat::new(dyi, cout, p), Mat::transposed(input, kk, p), &mut dw, true);
                    if let Some(dxs) = dxs.as_deref_mut() {
                        let dxi = &mut dxs[i * cin * h * w..(i + 1) * cin * h * w];
                        if pointwise {
                            matmul(Mat::transposed(weight, cout, kk), Mat::new(dyi, cout, p), dxi, false);
                        } else {
                            matmul(
                                Mat::transposed(weight, cout, kk),
                                Mat::new(dyi, cout, p),
                                &mut dcols,
                                false,
                            );
                            col2im(&dcols, cin, h, w, self.k, self.pad, dxi);
                        }
                    }
                }
                dw
            })
            .collect();
        for part in partials {
            for (g, d) in self.weight.grad.iter_mut().zip(part) {
                *g += d;
            }
        }
        dx
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
