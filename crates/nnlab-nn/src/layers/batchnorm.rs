//! BatchNorm2d with PyTorch's semantics: batch statistics (biased variance) in training, running
//! statistics (unbiased variance) in evaluation, running = (1 − m)·running + m·batch, eps 1e-5.

use rayon::prelude::*;

use super::layer::{Layer, Named, Pass, weight_and_bias};
use crate::layers::Mode;
use crate::{CHUNK, Param, Tensor};

/// Per-channel normalisation with trainable scale γ and shift β.
#[derive(Debug, Clone)]
pub struct BatchNorm2d {
    /// γ, one per channel.
    pub gamma: Param,
    /// β, one per channel.
    pub beta: Param,
    /// Running mean.
    pub running_mean: Vec<f32>,
    /// Running (unbiased) variance.
    pub running_var: Vec<f32>,
    /// Training batches seen (PyTorch's `num_batches_tracked`).
    pub batches_tracked: i64,
    /// PyTorch momentum.
    pub momentum: f32,
    /// ε added to the variance.
    pub eps: f32,
    saved: Option<(Tensor, Vec<f32>)>,
}

/// Per-channel Σx and Σx² over a batch, in f64, reduced in chunk order.
fn channel_sums(x: &Tensor, centre: Option<&[f64]>) -> Vec<f64> {
    let [_, c, h, w] = x.shape;
    let plane = h * w;
    let parts: Vec<Vec<f64>> = x
        .data
        .par_chunks(CHUNK * c * plane)
        .map(|imgs| {
            let mut s = vec![0.0f64; c];
            for img in imgs.chunks_exact(c * plane) {
                for (ch, vals) in img.chunks_exact(plane).enumerate() {
                    let m = centre.map_or(0.0, |m| m[ch]);
                    s[ch] += match centre {
                        None => vals.iter().map(|&v| v as f64).sum::<f64>(),
                        Some(_) => vals.iter().map(|&v| (v as f64 - m).powi(2)).sum::<f64>(),
                    };
                }
            }
            s
        })
        .collect();
    parts.into_iter().fold(vec![0.0; c], |mut acc, p| {
        acc.iter_mut().zip(p).for_each(|(a, b)| *a += b);
        acc
    })
}

impl BatchNorm2d {
    /// γ = 1, β = 0, running mean 0 and variance 1.
    pub fn new(channels: usize, momentum: f32) -> Self {
        Self {
            gamma: Param::new(vec![channels], vec![1.0; channels]),
            beta: Param::new(vec![channels], vec![0.0; channels]),
            running_mean: vec![0.0; channels],
            running_var: vec![1.0; channels],
            batches_tracked: 0,
            momentum,
            eps: 1e-5,
            saved: None,
        }
    }

    /// Folds a training batch's per-channel mean and biased variance (over `count` values) into the
    /// running statistics; returns 1/√(var + ε) for normalising the batch.
    pub fn record_batch(&mut self, mean: &[f64], var: &[f64], count: f64) -> Vec<f32> {
        let m = self.momentum as f64;
        for ch in 0..mean.len() {
            let unbiased = if count > 1.0 {
                var[ch] * count / (count - 1.0)
            } else {
                var[ch]
            };
            self.running_mean[ch] = ((1.0 - m) * self.running_mean[ch] as f64 + m * mean[ch]) as f32;
            self.running_var[ch] = ((1.0 - m) * self.running_var[ch] as f64 + m * unbiased) as f32;
        }
        self.batches_tracked += 1;
        var.iter()
            .map(|v| (1.0 / (v + self.eps as f64).sqrt()) as f32)
            .collect()
    }

    /// Evaluation as y = scale·x + shift per channel, from the running statistics.
    pub fn eval_affine(&self) -> (Vec<f32>, Vec<f32>) {
        let scale: Vec<f32> = (0..self.gamma.len())
            .map(|ch| self.gamma.value[ch] / (self.running_var[ch] + self.eps).sqrt())
            .collect();
        let shift = (0..self.gamma.len())
            .map(|ch| self.beta.value[ch] - self.running_mean[ch] * scale[ch])
            .collect();
        (scale, shift)
    }

    /// Normalises `x` in place; in training also updates the running statistics and keeps x̂ for backward.
    pub fn forward(&mut self, mut x: Tensor, mode: Mode) -> Tensor {
        let [n, c, h, w] = x.shape;
        let plane = h * w;
        let count = (n * plane) as f64;
        let (scale, shift): (Vec<f32>, Vec<f32>);
        match mode {
            Mode::Train => {
                let mean: Vec<f64> = channel_sums(&x, None).iter().map(|s| s / count).collect();
                let var: Vec<f64> = channel_sums(&x, Some(&mean)).iter().map(|s| s / count).collect();
                let inv_std = self.record_batch(&mean, &var, count);
                // x̂ = (x − μ)·inv_std, kept for backward; y = γ·x̂ + β.
                let mean32: Vec<f32> = mean.iter().map(|&m| m as f32).collect();
                x.data.par_chunks_mut(c * plane).for_each(|img| {
                    for (ch, vals) in img.chunks_exact_mut(plane).enumerate() {
                        let (mu, is) = (mean32[ch], inv_std[ch]);
                        vals.iter_mut().for_each(|v| *v = (*v - mu) * is);
                    }
                });
                let xhat = x.clone();
                scale = self.gamma.value.clone();
                shift = self.beta.value.clone();
                self.saved = Some((xhat, inv_std));
            }
            Mode::Eval => (scale, shift) = self.eval_affine(),
        }
        x.data.par_chunks_mut(c * plane).for_each(|img| {
            for (ch, vals) in img.chunks_exact_mut(plane).enumerate() {
                let (a, b) = (scale[ch], shift[ch]);
                vals.iter_mut().for_each(|v| *v = *v * a + b);
            }
        });
        x
    }

    /// Accumulates ∂L/∂γ, ∂L/∂β and returns ∂L/∂x = γ·inv_std/M·(M·dy − Σdy − x̂·Σdy·x̂).
    pub fn backward(&mut self, mut dy: Tensor) -> Tensor {
        let (xhat, inv_std) = self.saved.take().expect("backward before a training forward");
        let [n, c, h, w] = dy.shape;
        let plane = h * w;
        let parts: Vec<(Vec<f64>, Vec<f64>)> = dy
            .data
            .par_chunks(CHUNK * c * plane)
            .zip(xhat.data.par_chunks(CHUNK * c * plane))
            .map(|(dys, xs)| {
                let (mut sd, mut sdx) = (vec![0.0f64; c], vec![0.0f64; c]);
                for (dimg, ximg) in dys.chunks_exact(c * plane).zip(xs.chunks_exact(c * plane)) {
                    for ch in 0..c {
                        let (d, x) = (&dimg[ch * plane..][..plane], &ximg[ch * plane..][..plane]);
                        sd[ch] += d.iter().map(|&v| v as f64).sum::<f64>();
                        sdx[ch] += d.iter().zip(x).map(|(&a, &b)| a as f64 * b as f64).sum::<f64>();
                    }
                }
                (sd, sdx)
            })
            .collect();
        let (mut sum_dy, mut sum_dy_xhat) = (vec![0.0f64; c], vec![0.0f64; c]);
        for (sd, sdx) in parts {
            for ch in 0..c {
                sum_dy[ch] += sd[ch];
                sum_dy_xhat[ch] += sdx[ch];
            }
        }
        let m = (n * plane) as f64;
        for ch in 0..c {
            self.gamma.grad[ch] += sum_dy_xhat[ch] as f32;
            self.beta.grad[ch] += sum_dy[ch] as f32;
        }
        let k: Vec<f32> = (0..c).map(|ch| self.gamma.value[ch] * inv_std[ch]).collect();
        let mean_dy: Vec<f32> = sum_dy.iter().map(|s| (s / m) as f32).collect();
        let mean_dyx: Vec<f32> = sum_dy_xhat.iter().map(|s| (s / m) as f32).collect();
        dy.data
            .par_chunks_mut(c * plane)
            .zip(xhat.data.par_chunks(c * plane))
            .for_each(|(dimg, ximg)| {
                for ch in 0..c {
                    let (d, x) = (&mut dimg[ch * plane..][..plane], &ximg[ch * plane..][..plane]);
                    let (kc, a, b) = (k[ch], mean_dy[ch], mean_dyx[ch]);
                    d.iter_mut().zip(x).for_each(|(d, &x)| *d = kc * (*d - a - x * b));
                }
            });
        dy
    }
}

impl Layer for BatchNorm2d {
    fn describe(&self) -> String {
        "BatchNorm2d".into()
    }

    fn forward(&mut self, x: Tensor, pass: Pass) -> Tensor {
        BatchNorm2d::forward(self, x, pass.mode)
    }

    fn backward(&mut self, dy: Tensor, _: bool) -> Option<Tensor> {
        Some(BatchNorm2d::backward(self, dy))
    }

    fn params(&self) -> Vec<Named<&Param>> {
        weight_and_bias(&self.gamma, Some(&self.beta))
    }

    fn params_mut(&mut self) -> Vec<Named<&mut Param>> {
        weight_and_bias(&mut self.gamma, Some(&mut self.beta))
    }

    fn batch_norm_mut(&mut self) -> Option<(usize, &mut BatchNorm2d)> {
        Some((0, self))
    }

    fn boxed_clone(&self) -> Box<dyn Layer> {
        Box::new(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::gradcheck::{check_input_gradient, check_param_gradient, random_tensor};

    fn layer() -> BatchNorm2d {
        let mut bn = BatchNorm2d::new(3, 0.1);
        bn.gamma.value = vec![0.5, -1.5, 2.0];
        bn.beta.value = vec![0.1, 0.2, -0.3];
        bn
    }

    #[test]
    fn gradients_match_finite_differences() {
        let x = random_tensor([4, 3, 3, 2], 3);
        check_input_gradient(
            &x,
            |x| layer().forward(x, Mode::Train),
            |x, dy| {
                let mut bn = layer();
                bn.forward(x, Mode::Train);
                bn.backward(dy.clone())
            },
        );
        let both = [layer().gamma.value, layer().beta.value].concat();
        check_param_gradient(
            &both,
            |p| {
                let mut bn = layer();
                bn.gamma.value = p[..3].to_vec();
                bn.beta.value = p[3..].to_vec();
                bn.forward(x.clone(), Mode::Train)
            },
            |dy| {
                let mut bn = layer();
                bn.forward(x.clone(), Mode::Train);
                bn.backward(dy.clone());
                [bn.gamma.grad, bn.beta.grad].concat()
            },
        );
    }

    #[test]
    fn running_statistics_follow_pytorch() {
        // One channel, values 1..=4: mean 2.5, biased var 1.25, unbiased 5/3.
        let mut bn = BatchNorm2d::new(1, 0.1);
        let y = bn.forward(Tensor::from_vec([2, 1, 1, 2], vec![1.0, 2.0, 3.0, 4.0]), Mode::Train);
        assert!((bn.running_mean[0] - 0.25).abs() < 1e-6);
        assert!((bn.running_var[0] - (0.9 + 0.1 * 5.0 / 3.0)).abs() < 1e-6);
        assert!((y.data[0] - (1.0 - 2.5) / (1.25f32 + 1e-5).sqrt()).abs() < 1e-5);
        // Evaluation uses the running statistics, not the batch's.
        let e = bn.forward(Tensor::from_vec([1, 1, 1, 2], vec![1.0, 2.0]), Mode::Eval);
        let expect = (1.0 - 0.25) / (bn.running_var[0] + 1e-5).sqrt();
        assert!((e.data[0] - expect).abs() < 1e-6);
        assert_eq!(bn.batches_tracked, 1);
    }
}
