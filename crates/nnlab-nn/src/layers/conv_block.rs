//! The recipe's "block": Conv → ReLU → BatchNorm2d → Dropout (or Conv → BatchNorm2d → ReLU → Dropout;
//! the dropout may be absent), fused: the ReLU and the batch statistics ride on the convolution's pass
//! over each image, normalisation, ReLU and dropout take one more pass, and backward takes two
//! (statistics, then the elementwise chain feeding the convolution's gradient). The convolution's (or
//! ReLU's) output is kept for backward, and dropout keeps one byte per value.

use rayon::prelude::*;

use super::layer::{Layer, Named, Pass};
use crate::Param;
use crate::layers::conv2d::image_chunks;
use crate::layers::{BatchNorm2d, Conv2d, Dropout, Mode};
use crate::simd::multiversion;
use crate::workspace::Workspace;
use crate::{CHUNK, Tensor};

/// Where the ReLU stands in a block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockOrder {
    /// Conv → ReLU → BatchNorm2d (the recipe's order).
    ReluThenBn,
    /// Conv → BatchNorm2d → ReLU (the common textbook order).
    BnThenRelu,
}

/// Conv → ReLU → BatchNorm2d → Dropout, or Conv → BatchNorm2d → ReLU → Dropout.
#[derive(Debug, Clone)]
pub struct ConvBlock {
    /// The convolution.
    pub conv: Conv2d,
    /// The batch normalisation (parameters and running statistics).
    pub bn: BatchNorm2d,
    /// The dropout (p = 0 when the block has none).
    pub dropout: Dropout,
    /// Where the ReLU stands.
    pub order: BlockOrder,
    /// The ReLU output (ReLU first) or convolution output (BN first) of the last training forward, kept
    /// across steps so its memory is reused.
    activations: Vec<f32>,
    /// Dropout's keep flags (1 kept, 0 dropped) of the last training forward, likewise (none when the
    /// block has no dropout).
    keep: Vec<u8>,
    saved: Option<Saved>,
}

/// What backward needs from a training forward, besides the activations.
#[derive(Debug, Clone)]
struct Saved {
    input: Tensor,
    output_shape: [usize; 4],
    mean: Vec<f32>,
    inv_std: Vec<f32>,
}

/// Adds per-chunk partial sums in chunk order (so the result does not depend on the thread count).
fn reduce_in_order(parts: Vec<Vec<f64>>, len: usize) -> Vec<f64> {
    parts.into_iter().fold(vec![0.0; len], |mut acc, p| {
        acc.iter_mut().zip(p).for_each(|(a, b)| *a += b);
        acc
    })
}

/// Σ f(a, b).0 and Σ f(a, b).1 over paired slices, in eight f32 lanes (so it vectorises), then f64.
#[inline(always)]
fn lane_sums(a: &[f32], b: &[f32], f: impl Fn(f32, f32) -> (f32, f32)) -> (f64, f64) {
    const LANES: usize = 8;
    let (mut s, mut t) = ([0.0f32; LANES], [0.0f32; LANES]);
    let (a8, b8) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let (ra, rb) = (a8.remainder(), b8.remainder());
    for (x, y) in a8.zip(b8) {
        for l in 0..LANES {
            let (u, v) = f(x[l], y[l]);
            s[l] += u;
            t[l] += v;
        }
    }
    let (mut s, mut t) = (
        s.iter().map(|&v| v as f64).sum::<f64>(),
        t.iter().map(|&v| v as f64).sum::<f64>(),
    );
    for (&x, &y) in ra.iter().zip(rb) {
        let (u, v) = f(x, y);
        s += u as f64;
        t += v as f64;
    }
    (s, t)
}

multiversion! {
    /// Eval: `v ← max(v, 0)·a + b` (ReLU first) or `max(v·a + b, 0)` (BN first) over one channel.
    fn eval_affine / eval_affine_at(vals: &mut [f32], a: f32, b: f32, relu_first: bool) = eval_affine_body;
}

#[inline(always)]
fn eval_affine_body(vals: &mut [f32], a: f32, b: f32, relu_first: bool) {
    if relu_first {
        vals.iter_mut().for_each(|v| *v = v.max(0.0) * a + b);
    } else {
        vals.iter_mut().for_each(|v| *v = (*v * a + b).max(0.0));
    }
}

multiversion! {
    /// Training pass 1 over one channel: the ReLU in place (when it comes first), then Σv and Σv².
    fn relu_and_moments / relu_and_moments_at(vals: &mut [f32], relu: bool) -> (f64, f64) =
        relu_and_moments_body;
}

#[inline(always)]
fn relu_and_moments_body(vals: &mut [f32], relu: bool) -> (f64, f64) {
    if relu {
        vals.iter_mut().for_each(|v| *v = v.max(0.0));
    }
    lane_sums(vals, vals, |v, _| (v, v * v))
}

multiversion! {
    /// Training pass 2 over one channel: `y = (r·a + b)·keep` (ReLU first) or `max(r·a + b, 0)·keep`.
    fn normalise_and_drop / normalise_and_drop_at(
        y: &mut [f32],
        r: &[f32],
        keep: &[u8],
        a: f32,
        b: f32,
        relu_first: bool,
    ) = normalise_and_drop_body;
}

#[inline(always)]
fn normalise_and_drop_body(y: &mut [f32], r: &[f32], keep: &[u8], a: f32, b: f32, relu_first: bool) {
    let n = y.len();
    let (r, keep) = (&r[..n], &keep[..n]);
    if relu_first {
        for i in 0..n {
            y[i] = (r[i] * a + b) * keep[i] as f32;
        }
    } else {
        for i in 0..n {
            y[i] = (r[i] * a + b).max(0.0) * keep[i] as f32;
        }
    }
}

multiversion! {
    /// Backward: the gradient at BN's output, `g = dy·keep·scale` (dropout's backward).
    fn dropout_grad / dropout_grad_at(g: &mut [f32], dy: &[f32], keep: &[u8], keep_scale: f32) = dropout_grad_body;
}

#[inline(always)]
fn dropout_grad_body(g: &mut [f32], dy: &[f32], keep: &[u8], keep_scale: f32) {
    g.iter_mut()
        .zip(dy)
        .zip(keep)
        .for_each(|((g, &d), &k)| *g = d * (k as f32 * keep_scale));
}

multiversion! {
    /// Backward pass 1 over one channel: Σg and Σg·x̂ with x̂ = (r − μ)·inv_std, g masked by a ReLU after
    /// BN (`relu_after = Some((a, b))`: it passes where r·a + b > 0).
    fn grad_moments / grad_moments_at(
        g: &[f32],
        r: &[f32],
        mu: f32,
        inv_std: f32,
        relu_after: Option<(f32, f32)>,
    ) -> (f64, f64) = grad_moments_body;
}

#[inline(always)]
fn grad_moments_body(g: &[f32], r: &[f32], mu: f32, is: f32, relu_after: Option<(f32, f32)>) -> (f64, f64) {
    match relu_after {
        None => lane_sums(g, r, |g, r| (g, g * (r - mu) * is)),
        Some((a, b)) => lane_sums(g, r, |g, r| {
            let g = g * ((r * a + b > 0.0) as u8 as f32);
            (g, g * (r - mu) * is)
        }),
    }
}

multiversion! {
    /// Backward pass 2 over one channel: the gradient at the convolution's output,
    /// `slope·keep·d − offset − per_r·r` where the ReLU passed (`coef = [slope, offset, per_r]`).
    fn bn_input_grad / bn_input_grad_at(
        dst: &mut [f32],
        d: &[f32],
        r: &[f32],
        kept: &[u8],
        coef: [f32; 3],
        relu_after: Option<(f32, f32)>,
    ) = bn_input_grad_body;
}

#[inline(always)]
fn bn_input_grad_body(
    dst: &mut [f32],
    d: &[f32],
    r: &[f32],
    kept: &[u8],
    coef: [f32; 3],
    relu_after: Option<(f32, f32)>,
) {
    let [slope, offset, per_r] = coef;
    let n = dst.len();
    let (d, r, kept) = (&d[..n], &r[..n], &kept[..n]);
    match relu_after {
        // ReLU first: r is the ReLU's output, which passed the gradient where r > 0.
        None => {
            for i in 0..n {
                let v = slope * kept[i] as f32 * d[i] - offset - per_r * r[i];
                dst[i] = if r[i] > 0.0 { v } else { 0.0 };
            }
        }
        // Here r is the convolution's output; the ReLU mask applies to the incoming gradient only, BN's
        // own terms reach every position.
        Some((a, b)) => {
            for (((o, &dv), &rv), &kv) in dst.iter_mut().zip(d).zip(r).zip(kept) {
                let passed = (kv & ((rv * a + b > 0.0) as u8)) as f32;
                *o = slope * passed * dv - offset - per_r * rv;
            }
        }
    }
}

impl ConvBlock {
    /// A block of the given layers; dropout probability `p` (0 for a block without dropout).
    pub fn from_parts(conv: Conv2d, bn: BatchNorm2d, p: f32, order: BlockOrder) -> Self {
        assert_eq!(
            conv.out_channels(),
            bn.gamma.len(),
            "BatchNorm channels differ from the convolution's"
        );
        Self {
            conv,
            bn,
            dropout: Dropout::new(p),
            order,
            activations: Vec::new(),
            keep: Vec::new(),
            saved: None,
        }
    }

    /// Runs the four layers; `seed` picks the dropout masks.
    pub fn forward(&mut self, x: Tensor, mode: Mode, seed: u64) -> Tensor {
        match mode {
            Mode::Train => self.forward_train(x, seed),
            Mode::Eval => self.forward_eval(x),
        }
    }

    fn forward_eval(&mut self, x: Tensor) -> Tensor {
        let [n, cin, h, w] = x.shape;
        let (oh, ow) = self.conv.output_size(h, w);
        let (c, plane) = (self.conv.out_channels(), oh * ow);
        let (scale, shift) = self.bn.eval_affine();
        let mut out = Tensor::overwritten([n, c, oh, ow]);
        let (conv, order) = (&self.conv, self.order);
        out.data
            .par_chunks_mut(CHUNK * c * plane)
            .zip(x.data.par_chunks(CHUNK * cin * h * w))
            .for_each(|(ys, xs)| {
                Workspace::with(|ws| {
                    let [cols, ..] = ws.buffers([conv.scratch_len(h, w), 0, 0, 0]);
                    for (y, xi) in ys.chunks_exact_mut(c * plane).zip(xs.chunks_exact(cin * h * w)) {
                        conv.forward_image(xi, h, w, y, cols);
                        for (ch, vals) in y.chunks_exact_mut(plane).enumerate() {
                            eval_affine(vals, scale[ch], shift[ch], order == BlockOrder::ReluThenBn);
                        }
                    }
                })
            });
        out
    }

    fn forward_train(&mut self, x: Tensor, seed: u64) -> Tensor {
        let [n, cin, h, w] = x.shape;
        let (oh, ow) = self.conv.output_size(h, w);
        let (c, plane) = (self.conv.out_channels(), oh * ow);
        let per = c * plane;
        self.activations.resize(n * per, 0.0);
        let (conv, relu_first) = (&self.conv, self.order == BlockOrder::ReluThenBn);
        // Pass 1: convolution, ReLU (when it comes first), and per-channel Σr, Σr² of the BN input r.
        let parts: Vec<Vec<f64>> = self
            .activations
            .par_chunks_mut(CHUNK * per)
            .zip(x.data.par_chunks(CHUNK * cin * h * w))
            .map(|(rs, xs)| {
                let mut sums = vec![0.0f64; 2 * c];
                Workspace::with(|ws| {
                    let [cols, ..] = ws.buffers([conv.scratch_len(h, w), 0, 0, 0]);
                    for (r, xi) in rs.chunks_exact_mut(per).zip(xs.chunks_exact(cin * h * w)) {
                        conv.forward_image(xi, h, w, r, cols);
                        for (ch, vals) in r.chunks_exact_mut(plane).enumerate() {
                            let (s, s2) = relu_and_moments(vals, relu_first);
                            sums[ch] += s;
                            sums[c + ch] += s2;
                        }
                    }
                });
                sums
            })
            .collect();
        let sums = reduce_in_order(parts, 2 * c);
        let count = (n * plane) as f64;
        let mean: Vec<f64> = sums[..c].iter().map(|s| s / count).collect();
        let var: Vec<f64> = (0..c)
            .map(|ch| (sums[c + ch] / count - mean[ch] * mean[ch]).max(0.0))
            .collect();
        let inv_std = self.bn.record_batch(&mean, &var, count);
        let mean: Vec<f32> = mean.iter().map(|&m| m as f32).collect();
        // Pass 2: y = (γ·(r − μ)·inv_std + β)·keep/(1 − p), as r·scale + shift where kept (with the ReLU
        // after it when BN comes first; a positive factor passes through the ReLU).
        let keep_scale = self.dropout.keep_scale();
        let (scale, shift): (Vec<f32>, Vec<f32>) = (0..c)
            .map(|ch| {
                let a = self.bn.gamma.value[ch] * inv_std[ch];
                (a * keep_scale, (self.bn.beta.value[ch] - mean[ch] * a) * keep_scale)
            })
            .unzip();
        let mut out = Tensor::overwritten([n, c, oh, ow]);
        let relu_first = self.order == BlockOrder::ReluThenBn;
        // Without dropout every flag is 1: one image's worth of ones is read for every image (it stays in
        // the cache) instead of a batch of flags written and read back.
        let dropout = &self.dropout;
        let ones = vec![1u8; if dropout.p == 0.0 { per } else { 0 }];
        let keep_chunks: Vec<Option<&mut [u8]>> = if dropout.p == 0.0 {
            (0..n.div_ceil(CHUNK)).map(|_| None).collect()
        } else {
            self.keep.resize(n * per, 0);
            self.keep.chunks_mut(CHUNK * per).map(Some).collect()
        };
        out.data
            .par_chunks_mut(CHUNK * per)
            .zip(self.activations.par_chunks(CHUNK * per))
            .zip(keep_chunks.into_par_iter())
            .enumerate()
            .for_each(|(chunk, ((ys, rs), mut keeps))| {
                for (j, (y, r)) in ys.chunks_exact_mut(per).zip(rs.chunks_exact(per)).enumerate() {
                    let keep: &[u8] = match keeps.as_deref_mut() {
                        Some(flags) => {
                            let keep = &mut flags[j * per..(j + 1) * per];
                            dropout.image_keep(seed, chunk * CHUNK + j, keep);
                            keep
                        }
                        None => &ones,
                    };
                    for ch in 0..c {
                        let range = ch * plane..(ch + 1) * plane;
                        let (y, r, keep) = (&mut y[range.clone()], &r[range.clone()], &keep[range]);
                        normalise_and_drop(y, r, keep, scale[ch], shift[ch], relu_first);
                    }
                }
            });
        self.saved = Some(Saved {
            input: x,
            output_shape: out.shape,
            mean,
            inv_std,
        });
        out
    }

    /// Backward through the four layers in reverse; the input gradient is skipped for the first layer.
    pub fn backward(&mut self, dy: Tensor, need_input_grad: bool) -> Option<Tensor> {
        let saved = self.saved.take().expect("backward before a training forward");
        assert_eq!(dy.shape, saved.output_shape, "gradient shape differs from the output");
        let [n, c, oh, ow] = dy.shape;
        let (plane, per) = (oh * ow, c * oh * ow);
        let (mean, inv_std) = (&saved.mean, &saved.inv_std);
        let keep_scale = self.dropout.keep_scale();
        let activations = &self.activations[..n * per];
        // Without dropout the forward kept no flags: every image reads the same ones.
        let ones = vec![1u8; if self.dropout.p == 0.0 { CHUNK * per } else { 0 }];
        let keep: Vec<&[u8]> = if self.dropout.p == 0.0 {
            (0..n.div_ceil(CHUNK))
                .map(|i| &ones[..(n - i * CHUNK).min(CHUNK) * per])
                .collect()
        } else {
            self.keep[..n * per].chunks(CHUNK * per).collect()
        };
        let relu_first = self.order == BlockOrder::ReluThenBn;
        // BN's output is r·bn_a + bn_b (before dropout's scale): where it is ≤ 0 a ReLU after it passes nothing.
        let bn_a: Vec<f32> = (0..c).map(|ch| self.bn.gamma.value[ch] * inv_std[ch]).collect();
        let bn_b: Vec<f32> = (0..c).map(|ch| self.bn.beta.value[ch] - mean[ch] * bn_a[ch]).collect();
        // Pass 1: Σg and Σg·x̂ per channel, where g = dy·mask is the gradient at the BN output.
        let parts: Vec<Vec<f64>> = dy
            .data
            .par_chunks(CHUNK * per)
            .zip(activations.par_chunks(CHUNK * per))
            .zip(keep.par_iter())
            .map(|((dys, rs), keeps)| {
                let mut sums = vec![0.0f64; 2 * c];
                Workspace::with(|ws| {
                    let [g, ..] = ws.buffers([per, 0, 0, 0]);
                    for ((d, r), kept) in dys
                        .chunks_exact(per)
                        .zip(rs.chunks_exact(per))
                        .zip(keeps.chunks_exact(per))
                    {
                        dropout_grad(g, d, kept, keep_scale);
                        for ch in 0..c {
                            let range = ch * plane..(ch + 1) * plane;
                            // A ReLU after BN passes the gradient only where BN's output r·a + b is positive.
                            let relu_after = (!relu_first).then(|| (bn_a[ch], bn_b[ch]));
                            let (sg, sgx) =
                                grad_moments(&g[range.clone()], &r[range], mean[ch], inv_std[ch], relu_after);
                            sums[ch] += sg;
                            sums[c + ch] += sgx;
                        }
                    }
                });
                sums
            })
            .collect();
        let sums = reduce_in_order(parts, 2 * c);
        let count = (n * plane) as f64;
        for ch in 0..c {
            self.bn.gamma.grad[ch] += sums[c + ch] as f32;
            self.bn.beta.grad[ch] += sums[ch] as f32;
        }
        // Pass 2, per image: the ReLU-masked BN input gradient, then the convolution's backward.
        let k = &bn_a;
        let mean_g: Vec<f32> = (0..c).map(|ch| (sums[ch] / count) as f32).collect();
        let mean_gx: Vec<f32> = (0..c).map(|ch| (sums[c + ch] / count) as f32).collect();
        let x = &saved.input;
        let [_, cin, h, w] = x.shape;
        let per_in = cin * h * w;
        let mut dx = need_input_grad.then(|| self.conv.input_grad_tensor(x.shape));
        let conv = &self.conv;
        let (bn_a, bn_b) = (&bn_a, &bn_b);
        let partials: Vec<Vec<f32>> = image_chunks(dx.as_mut(), n, per_in)
            .into_par_iter()
            .zip(x.data.par_chunks(CHUNK * per_in))
            .zip(dy.data.par_chunks(CHUNK * per))
            .zip(activations.par_chunks(CHUNK * per))
            .zip(keep.par_iter())
            .map(|((((mut dxs, xs), dys), rs), keeps)| {
                let mut grads = vec![0.0; conv.grad_len()];
                Workspace::with(|ws| {
                    let len = conv.scratch_len(h, w);
                    let [cols, dcols, dconv, _] = ws.buffers([len, len, per, 0]);
                    for (j, (((xi, d), r), kept)) in xs
                        .chunks_exact(per_in)
                        .zip(dys.chunks_exact(per))
                        .zip(rs.chunks_exact(per))
                        .zip(keeps.chunks_exact(per))
                        .enumerate()
                    {
                        for ch in 0..c {
                            let range = ch * plane..(ch + 1) * plane;
                            // kc·(g − a − x̂·b) with g = d·keep·scale and x̂ = (r − μ)·inv_std, where r > 0.
                            let kc = k[ch];
                            let (slope, offset, per_r) = (
                                kc * keep_scale,
                                kc * (mean_g[ch] - mean[ch] * inv_std[ch] * mean_gx[ch]),
                                kc * inv_std[ch] * mean_gx[ch],
                            );
                            let dst = &mut dconv[range.clone()];
                            let (d, r, kept) = (&d[range.clone()], &r[range.clone()], &kept[range]);
                            let relu_after = (!relu_first).then(|| (bn_a[ch], bn_b[ch]));
                            bn_input_grad(dst, d, r, kept, [slope, offset, per_r], relu_after);
                        }
                        let dxi = dxs.as_deref_mut().map(|dx| &mut dx[j * per_in..(j + 1) * per_in]);
                        conv.backward_image(xi, h, w, dconv, &mut grads, dxi, cols, dcols);
                    }
                });
                grads
            })
            .collect();
        self.conv.add_weight_grads(partials);
        dx
    }
}

impl Layer for ConvBlock {
    fn describe(&self) -> String {
        let order = match self.order {
            BlockOrder::ReluThenBn => "Conv→ReLU→BN",
            BlockOrder::BnThenRelu => "Conv→BN→ReLU",
        };
        let drop = if self.dropout.p > 0.0 { "→Dropout" } else { "" };
        format!("fused {order}{drop}")
    }

    fn forward(&mut self, x: Tensor, pass: Pass) -> Tensor {
        ConvBlock::forward(self, x, pass.mode, pass.seed)
    }

    fn backward(&mut self, dy: Tensor, need_input_grad: bool) -> Option<Tensor> {
        ConvBlock::backward(self, dy, need_input_grad)
    }

    /// The convolution's (part 0), then the BatchNorm's (part 1).
    fn params(&self) -> Vec<Named<&Param>> {
        let mut out = self.conv.params();
        out.extend(self.bn.params().into_iter().map(|n| Named { part: 1, ..n }));
        out
    }

    fn params_mut(&mut self) -> Vec<Named<&mut Param>> {
        let mut out = self.conv.params_mut();
        out.extend(self.bn.params_mut().into_iter().map(|n| Named { part: 1, ..n }));
        out
    }

    fn batch_norm_mut(&mut self) -> Option<(usize, &mut BatchNorm2d)> {
        Some((1, &mut self.bn))
    }

    fn boxed_clone(&self) -> Box<dyn Layer> {
        Box::new(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::Relu;
    use crate::layers::gradcheck::random_tensor;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use crate::layers::ConvOptions;

    /// Every SIMD copy of the block's own loops gives the baseline's bits (odd lengths exercise the
    /// lane remainders).
    #[test]
    fn every_simd_path_of_the_fused_loops_is_bit_identical() {
        use crate::cpu::{SimdLevel, detected_level};
        let n = 8 * 13 + 5;
        let r = random_tensor([1, 1, 1, n], 1).data.to_vec();
        let d = random_tensor([1, 1, 1, n], 2).data.to_vec();
        let keep: Vec<u8> = (0..n).map(|i| (i % 7 != 3) as u8).collect();
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        let run = |level: SimdLevel| {
            let mut out = Vec::new();
            for relu_first in [true, false] {
                let relu_after = (!relu_first).then_some((0.8f32, -0.1f32));
                let mut v = r.clone();
                eval_affine_at(level, &mut v, 1.3, -0.2, relu_first);
                out.push(bits(&v));
                let mut v = r.clone();
                let (s, s2) = relu_and_moments_at(level, &mut v, relu_first);
                out.push(bits(&v));
                out.push(vec![
                    s.to_bits() as u32,
                    (s.to_bits() >> 32) as u32,
                    s2.to_bits() as u32,
                ]);
                let mut y = vec![0.0; n];
                normalise_and_drop_at(level, &mut y, &r, &keep, 0.7, 0.05, relu_first);
                out.push(bits(&y));
                let mut g = vec![0.0; n];
                dropout_grad_at(level, &mut g, &d, &keep, 1.25);
                out.push(bits(&g));
                let (sg, sgx) = grad_moments_at(level, &g, &r, 0.1, 1.7, relu_after);
                out.push(vec![
                    sg.to_bits() as u32,
                    (sgx.to_bits() >> 32) as u32,
                    sgx.to_bits() as u32,
                ]);
                let mut dst = vec![0.0; n];
                bn_input_grad_at(level, &mut dst, &d, &r, &keep, [0.9, 0.01, 0.3], relu_after);
                out.push(bits(&dst));
            }
            out
        };
        let base = run(SimdLevel::Baseline);
        for level in SimdLevel::ALL.into_iter().filter(|&l| l <= detected_level()) {
            assert_eq!(run(level), base, "{level}");
        }
    }

    fn block(k: usize, pad: usize) -> ConvBlock {
        variant(
            k,
            ConvOptions {
                pad,
                ..ConvOptions::default()
            },
            0.25,
            BlockOrder::ReluThenBn,
        )
    }

    fn variant(k: usize, opts: ConvOptions, p: f32, order: BlockOrder) -> ConvBlock {
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let conv = Conv2d::with_options(4, 4, k, opts, &mut rng);
        let mut b = ConvBlock::from_parts(conv, BatchNorm2d::new(4, 0.2), p, order);
        b.bn.gamma.value = vec![0.7, -1.2, 1.5, 0.9];
        b.bn.beta.value = vec![0.1, -0.2, 0.3, 0.05];
        b
    }

    /// Every block the model files can make: both orders, with and without dropout, stride 2, groups,
    /// dilation and bias.
    fn variants() -> Vec<ConvBlock> {
        let o = |stride, pad, dilation, groups, bias| ConvOptions {
            stride,
            pad,
            dilation,
            groups,
            bias,
        };
        vec![
            block(3, 1),
            block(3, 0),
            block(1, 0),
            variant(3, o(1, 1, 1, 1, false), 0.25, BlockOrder::BnThenRelu),
            variant(3, o(2, 1, 1, 1, true), 0.0, BlockOrder::BnThenRelu),
            variant(3, o(1, 2, 2, 4, false), 0.1, BlockOrder::ReluThenBn),
            variant(1, o(1, 0, 1, 2, true), 0.0, BlockOrder::ReluThenBn),
        ]
    }

    /// The same four layers run one after another, unfused.
    fn composed(b: &mut ConvBlock, x: Tensor, mode: Mode, seed: u64) -> (Tensor, Relu) {
        let train = mode == Mode::Train;
        let mut relu = Relu::default();
        let y = b.conv.forward(x, train);
        let y = match b.order {
            BlockOrder::ReluThenBn => b.bn.forward(relu.forward(y, train), mode),
            BlockOrder::BnThenRelu => relu.forward(b.bn.forward(y, mode), train),
        };
        (b.dropout.forward(y, mode, seed), relu)
    }

    fn assert_close(a: &[f32], b: &[f32], what: &str) {
        assert_eq!(a.len(), b.len());
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            assert!(
                (x - y).abs() <= 1e-4 * (1.0 + x.abs().max(y.abs())),
                "{what}[{i}]: {x} vs {y}"
            );
        }
    }

    #[test]
    fn fused_block_equals_the_four_layers_in_sequence() {
        for b in variants() {
            let x = random_tensor([6, 4, 7, 6], 9);
            let (oh, ow) = b.conv.output_size(7, 6);
            let dy = random_tensor([6, 4, oh, ow], 10);
            let (mut fused, mut parts) = (b.clone(), b);
            let y = fused.forward(x.clone(), Mode::Train, 77);
            let (y_ref, mut relu) = composed(&mut parts, x.clone(), Mode::Train, 77);
            assert_close(&y.data, &y_ref.data, "output");
            assert_close(&fused.bn.running_var, &parts.bn.running_var, "running var");
            let dx = fused.backward(dy.clone(), true).unwrap();
            let d = parts.dropout.backward(dy);
            let d = match parts.order {
                BlockOrder::ReluThenBn => relu.backward(parts.bn.backward(d)),
                BlockOrder::BnThenRelu => parts.bn.backward(relu.backward(d)),
            };
            let dx_ref = parts.conv.backward(&d, true).unwrap();
            assert_close(&dx.data, &dx_ref.data, "input gradient");
            assert_close(&fused.conv.weight.grad, &parts.conv.weight.grad, "weight gradient");
            if let (Some(a), Some(b)) = (&fused.conv.bias, &parts.conv.bias) {
                assert_close(&a.grad, &b.grad, "bias gradient");
            }
            assert_close(&fused.bn.gamma.grad, &parts.bn.gamma.grad, "γ gradient");
            assert_close(&fused.bn.beta.grad, &parts.bn.beta.grad, "β gradient");
            let e = fused.forward(x.clone(), Mode::Eval, 0);
            assert_close(&e.data, &composed(&mut parts, x, Mode::Eval, 0).0.data, "eval output");
        }
    }

    /// Directional derivatives along a random ±1/√n direction, for the input and for the weights: single
    /// coordinates straddle ReLU kinks too often in f32, a direction averages over them.
    #[test]
    fn gradients_match_finite_differences_along_a_direction() {
        for b in variants() {
            directional_check(b);
        }
    }

    fn directional_check(b: ConvBlock) {
        let x = random_tensor([4, 4, 5, 5], 12);
        let (oh, ow) = b.conv.output_size(5, 5);
        let r = random_tensor([4, 4, oh, ow], 13);
        let loss = |m: &mut ConvBlock, x: Tensor| -> f64 {
            let y = m.forward(x, Mode::Train, 3);
            y.data.iter().zip(&r.data).map(|(a, b)| *a as f64 * *b as f64).sum()
        };
        let mut m = b.clone();
        m.forward(x.clone(), Mode::Train, 3);
        let dx = m.backward(r.clone(), true).unwrap();
        let direction = |n: usize| -> Vec<f32> {
            let norm = (n as f32).sqrt();
            (0..n)
                .map(|i| if (i * 2654435761) % 5 < 2 { -1.0 } else { 1.0 } / norm)
                .collect()
        };
        let eps = 1e-3f32;
        let check = |analytic: &[f32], shifted: &dyn Fn(f32) -> f64, what: &str| {
            let u = direction(analytic.len());
            let a: f64 = analytic.iter().zip(&u).map(|(g, d)| *g as f64 * *d as f64).sum();
            let fd = (shifted(eps) - shifted(-eps)) / (2.0 * eps as f64);
            assert!(
                (a - fd).abs() <= 2e-3 + 1e-2 * a.abs().max(fd.abs()),
                "{what}: analytic {a}, fd {fd}"
            );
        };
        let u = direction(x.data.len());
        check(
            &dx.data,
            &|e| {
                let mut xs = x.clone();
                xs.data.iter_mut().zip(&u).for_each(|(v, d)| *v += e * d);
                loss(&mut b.clone(), xs)
            },
            "∂L/∂x",
        );
        let uw = direction(b.conv.weight.len());
        check(
            &m.conv.weight.grad,
            &|e| {
                let mut mb = b.clone();
                mb.conv.weight.value.iter_mut().zip(&uw).for_each(|(v, d)| *v += e * d);
                loss(&mut mb, x.clone())
            },
            "∂L/∂W",
        );
        let ug = direction(4);
        check(
            &m.bn.gamma.grad,
            &|e| {
                let mut mb = b.clone();
                mb.bn.gamma.value.iter_mut().zip(&ug).for_each(|(v, d)| *v += e * d);
                loss(&mut mb, x.clone())
            },
            "∂L/∂γ",
        );
    }
}
