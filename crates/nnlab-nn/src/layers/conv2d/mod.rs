//! 2-D convolution with zero padding, stride, dilation, groups and an optional bias: a matrix product per
//! image (and group) on an im2col layout. Pointwise (1×1, stride 1, no padding) convolutions need no im2col.

use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

mod depthwise;
mod direct3;
mod direct3_backward;
mod im2col;

use direct3::{Direct3, direct3_forward};
use direct3_backward::{direct3_input_grad_at, direct3_weight_grad_at};
use im2col::{Geometry, col2im, im2col};

use super::layer::{Layer, Named, Pass, weight_and_bias};
use crate::gemm::{Mat, matmul};
use crate::init::uniform_fan_in;
use crate::workspace::Workspace;
use crate::{CHUNK, Param, Tensor};

/// A convolution's settings besides its channels and kernel size (PyTorch's `Conv2d` keywords).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvOptions {
    /// Step between output positions.
    pub stride: usize,
    /// Zero padding on every side.
    pub pad: usize,
    /// Spacing of the kernel's taps.
    pub dilation: usize,
    /// Channel groups (`cin` for a depthwise convolution).
    pub groups: usize,
    /// Whether there is a bias per output channel.
    pub bias: bool,
}

impl Default for ConvOptions {
    fn default() -> Self {
        Self {
            stride: 1,
            pad: 0,
            dilation: 1,
            groups: 1,
            bias: false,
        }
    }
}

/// A k×k convolution from `cin` to `cout` channels.
#[derive(Debug, Clone)]
pub struct Conv2d {
    /// Weight, shape [cout, cin/groups, k, k].
    pub weight: Param,
    /// Bias, shape `[cout]`, when the convolution has one.
    pub bias: Option<Param>,
    cin: usize,
    cout: usize,
    k: usize,
    opts: ConvOptions,
    input: Option<Tensor>,
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
    /// A stride-1 convolution without bias, PyTorch's default initialisation.
    pub fn new(cin: usize, cout: usize, k: usize, pad: usize, rng: &mut ChaCha8Rng) -> Self {
        Self::with_options(
            cin,
            cout,
            k,
            ConvOptions {
                pad,
                ..ConvOptions::default()
            },
            rng,
        )
    }

    /// A convolution with any options, PyTorch's default initialisation (weight, then bias, both
    /// U(±1/√fan_in) with fan_in = cin/groups·k·k).
    pub fn with_options(cin: usize, cout: usize, k: usize, opts: ConvOptions, rng: &mut ChaCha8Rng) -> Self {
        assert!(
            opts.groups >= 1 && cin.is_multiple_of(opts.groups) && cout.is_multiple_of(opts.groups),
            "groups must divide both channel counts"
        );
        assert!(opts.stride >= 1 && opts.dilation >= 1 && k >= 1);
        let fan_in = cin / opts.groups * k * k;
        let weight = Param::new(
            vec![cout, cin / opts.groups, k, k],
            uniform_fan_in(rng, cout * fan_in, fan_in),
        );
        let bias = opts
            .bias
            .then(|| Param::new(vec![cout], uniform_fan_in(rng, cout, fan_in)));
        Self {
            weight,
            bias,
            cin,
            cout,
            k,
            opts,
            input: None,
        }
    }

    fn geometry(&self, h: usize, w: usize) -> Geometry {
        let (oh, ow) = self.output_size(h, w);
        Geometry {
            cin: self.cin,
            h,
            w,
            k: self.k,
            stride: self.opts.stride,
            pad: self.opts.pad,
            dilation: self.opts.dilation,
            oh,
            ow,
        }
    }

    /// Output spatial size for an input of `h`×`w`.
    pub fn output_size(&self, h: usize, w: usize) -> (usize, usize) {
        let span = self.opts.dilation * (self.k - 1) + 1;
        let out = |n: usize| (n + 2 * self.opts.pad - span) / self.opts.stride + 1;
        (out(h), out(w))
    }

    /// Output channels.
    pub fn out_channels(&self) -> usize {
        self.cout
    }

    /// The options (stride, padding, dilation, groups, bias).
    pub fn options(&self) -> ConvOptions {
        self.opts
    }

    fn is_pointwise(&self) -> bool {
        self.k == 1 && self.opts.pad == 0 && self.opts.stride == 1
    }

    /// Scratch length one image needs for its im2col columns (and as much for their gradient); pointwise
    /// convolutions need none.
    pub(crate) fn scratch_len(&self, h: usize, w: usize) -> usize {
        let (oh, ow) = self.output_size(h, w);
        if self.is_depthwise3() {
            // One padded input plane, or one padded gradient plane.
            let p = self.opts.pad;
            return ((h + 2 * p) * (w + 2 * p) + 2).max((oh + 2 * (2 - p)) * (ow + 2 * (2 - p)));
        }
        if self.is_pointwise() || self.is_depthwise() {
            0
        } else {
            let cols = self.cin * self.k * self.k * oh * ow;
            self.direct3_shape(h, w)
                .map_or(cols, |d| cols.max(d.scratch_len()).max(d.backward_scratch_len()))
        }
    }

    /// The shape for the direct 3×3 forward kernel, when this convolution is one it runs (dense 3×3,
    /// stride 1, any dilation, a shape the matrix product sums as one fused chain). The kernel itself declines
    /// the baseline SIMD path, whose matrix product does not fuse multiply and add.
    fn direct3(&self, h: usize, w: usize) -> Option<Direct3> {
        self.direct3_shape(h, w).filter(Direct3::matches_gemm)
    }

    /// The shape of a dense 3×3 convolution (whose passes the direct kernels may run, each where the
    /// matrix product would sum in the same order: the forward and ∂x at stride 1, ∂W at any stride).
    fn direct3_shape(&self, h: usize, w: usize) -> Option<Direct3> {
        let o = self.opts;
        (self.k == 3 && o.groups == 1).then_some(Direct3 {
            cin: self.cin,
            cout: self.cout,
            h,
            w,
            pad: o.pad,
            stride: o.stride,
            dilation: o.dilation,
        })
    }

    /// The tensor ∂L/∂x is written into: zeros where the backward adds into it (col2im, the depthwise
    /// stencil), or left as the pool hands it out where the direct kernel writes every value.
    pub(crate) fn input_grad_tensor(&self, shape: [usize; 4]) -> Tensor {
        let [_, _, h, w] = shape;
        let overwrites = crate::cpu::level() >= crate::cpu::SimdLevel::Avx2
            && self.direct3_shape(h, w).is_some_and(|d| d.input_grad_matches_gemm());
        if overwrites {
            Tensor::overwritten(shape)
        } else {
            Tensor::zeros(shape)
        }
    }

    /// Length of one chunk's gradient partial sums: the weight (transposed per group), then the bias.
    pub(crate) fn grad_len(&self) -> usize {
        self.weight.len() + self.bias.as_ref().map_or(0, |b| b.len())
    }

    /// One image: `y` [cout, oh·ow] = W · im2col(`x`) (+ bias), group by group; `cols` is scratch of
    /// `scratch_len`.
    pub(crate) fn forward_image(&self, x: &[f32], h: usize, w: usize, y: &mut [f32], cols: &mut [f32]) {
        let g = self.geometry(h, w);
        if self.is_depthwise3() {
            self.depthwise3_forward(x, &g, y, cols);
            self.add_bias(y, g.oh * g.ow);
            return;
        }
        if self.is_depthwise() {
            self.depthwise_forward(x, &g, y);
            self.add_bias(y, g.oh * g.ow);
            return;
        }
        if let Some(d) = self.direct3(h, w)
            && direct3_forward(x, &self.weight.value, &d, cols, y)
        {
            self.add_bias(y, g.oh * g.ow);
            return;
        }
        let groups = self.opts.groups;
        let (kk, p) = (self.cin / groups * self.k * self.k, g.oh * g.ow);
        let cout_g = self.cout / groups;
        let input: &[f32] = if self.is_pointwise() {
            x
        } else {
            im2col(x, &g, cols);
            cols
        };
        for grp in 0..groups {
            matmul(
                Mat::new(&self.weight.value[grp * cout_g * kk..], cout_g, kk),
                Mat::new(&input[grp * kk * p..], kk, p),
                &mut y[grp * cout_g * p..],
                false,
            );
        }
        self.add_bias(y, p);
    }

    fn add_bias(&self, y: &mut [f32], plane: usize) {
        if let Some(b) = &self.bias {
            for (vals, &bias) in y.chunks_exact_mut(plane).zip(&b.value) {
                vals.iter_mut().for_each(|v| *v += bias);
            }
        }
    }

    /// One image: `grads` += [∂L/∂W transposed per group ([cin/g·k·k, cout/g] blocks: the faster
    /// orientation), ∂L/∂bias], and, when asked, `dx` = col2im(Wᵀ · dy), with `dx` zero on entry.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn backward_image(
        &self,
        x: &[f32],
        h: usize,
        w: usize,
        dy: &[f32],
        grads: &mut [f32],
        dx: Option<&mut [f32]>,
        cols: &mut [f32],
        dcols: &mut [f32],
    ) {
        let g = self.geometry(h, w);
        let groups = self.opts.groups;
        let (kk, p) = (self.cin / groups * self.k * self.k, g.oh * g.ow);
        let cout_g = self.cout / groups;
        if self.is_depthwise() {
            // One output per group: the transposed per-group blocks [k², 1] are the weight's own layout.
            let (dw, db) = grads.split_at_mut(self.weight.len());
            for (d, vals) in db.iter_mut().zip(dy.chunks_exact(p)) {
                *d += vals.iter().sum::<f32>();
            }
            if self.is_depthwise3() {
                return self.depthwise3_backward(x, &g, dy, dw, dx, cols, dcols);
            }
            return self.depthwise_backward(x, &g, dy, dw, dx);
        }
        let pointwise = self.is_pointwise();
        let (dw_t, db) = grads.split_at_mut(self.weight.len());
        for (d, vals) in db.iter_mut().zip(dy.chunks_exact(p)) {
            *d += vals.iter().sum::<f32>();
        }
        // The direct 3×3 kernels where they give the products' bits (they decline the baseline path).
        let direct = self.direct3_shape(h, w);
        let level = crate::cpu::level();
        let direct_dw = direct.is_some_and(|d| {
            d.weight_grad_matches_gemm() && direct3_weight_grad_at(level, x, dy, &d, dw_t, cols, dcols)
        });
        if !direct_dw {
            let input: &[f32] = if pointwise {
                x
            } else {
                im2col(x, &g, cols);
                cols
            };
            for grp in 0..groups {
                matmul(
                    Mat::new(&input[grp * kk * p..], kk, p),
                    Mat::transposed(&dy[grp * cout_g * p..], cout_g, p),
                    &mut dw_t[grp * kk * cout_g..],
                    true,
                );
            }
        }
        if let Some(dx) = dx {
            let weights = &self.weight.value;
            if direct.is_some_and(|d| {
                d.input_grad_matches_gemm() && direct3_input_grad_at(level, dy, weights, &d, dx, dcols)
            }) {
                return;
            }
            let target: &mut [f32] = if pointwise { dx } else { dcols };
            for grp in 0..groups {
                matmul(
                    Mat::transposed(&self.weight.value[grp * cout_g * kk..], cout_g, kk),
                    Mat::new(&dy[grp * cout_g * p..], cout_g, p),
                    &mut target[grp * kk * p..],
                    false,
                );
            }
            if !pointwise {
                col2im(dcols, &g, dx);
            }
        }
    }

    /// [N, cin, H, W] → [N, cout, OH, OW]; with `keep`, keeps the input for `backward`.
    pub fn forward(&mut self, x: Tensor, keep: bool) -> Tensor {
        let [n, cin, h, w] = x.shape;
        assert_eq!(cin, self.cin, "conv expects {} input channels", self.cin);
        let (oh, ow) = self.output_size(h, w);
        let per_out = self.cout * oh * ow;
        let mut out = Tensor::overwritten([n, self.cout, oh, ow]);
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

    /// Accumulates ∂L/∂weight (and ∂L/∂bias) and returns ∂L/∂input (skipped when `need_input_grad` is
    /// false).
    pub fn backward(&mut self, dy: &Tensor, need_input_grad: bool) -> Option<Tensor> {
        let x = self.input.take().expect("backward before forward");
        let mut dx = need_input_grad.then(|| self.input_grad_tensor(x.shape));
        let partials = self.backward_images(&x, &dy.data, dx.as_mut());
        self.add_weight_grads(partials);
        dx
    }

    /// Gradient partial sums per chunk of images, and ∂L/∂x into `dx`, for an ordered reduction.
    fn backward_images(&self, x: &Tensor, dy: &[f32], dx: Option<&mut Tensor>) -> Vec<Vec<f32>> {
        let [n, cin, h, w] = x.shape;
        let (oh, ow) = self.output_size(h, w);
        let (per_in, per_out) = (cin * h * w, self.cout * oh * ow);
        image_chunks(dx, n, per_in)
            .into_par_iter()
            .zip(x.data.par_chunks(CHUNK * per_in))
            .zip(dy.par_chunks(CHUNK * per_out))
            .map(|((mut dxs, xs), dys)| {
                let mut grads = vec![0.0; self.grad_len()];
                Workspace::with(|ws| {
                    let len = self.scratch_len(h, w);
                    let [cols, dcols, ..] = ws.buffers([len, len, 0, 0]);
                    for (i, (xi, dyi)) in xs.chunks_exact(per_in).zip(dys.chunks_exact(per_out)).enumerate() {
                        let dxi = dxs.as_deref_mut().map(|d| &mut d[i * per_in..(i + 1) * per_in]);
                        self.backward_image(xi, h, w, dyi, &mut grads, dxi, cols, dcols);
                    }
                });
                grads
            })
            .collect()
    }

    /// Adds per-chunk gradient partials (weight transposed per group, then bias), in chunk order.
    pub(crate) fn add_weight_grads(&mut self, partials: Vec<Vec<f32>>) {
        let groups = self.opts.groups;
        let kk = self.cin / groups * self.k * self.k;
        let cout_g = self.cout / groups;
        let mut sum = vec![0.0f32; self.grad_len()];
        for part in partials {
            sum.iter_mut().zip(part).for_each(|(s, d)| *s += d);
        }
        let (dw_t, db) = sum.split_at(self.weight.len());
        for (o, row) in self.weight.grad.chunks_exact_mut(kk).enumerate() {
            let (grp, og) = (o / cout_g, o % cout_g);
            let block = &dw_t[grp * kk * cout_g..];
            row.iter_mut()
                .enumerate()
                .for_each(|(i, g)| *g += block[i * cout_g + og]);
        }
        if let Some(b) = &mut self.bias {
            b.grad.iter_mut().zip(db).for_each(|(g, d)| *g += d);
        }
    }
}

impl Layer for Conv2d {
    fn describe(&self) -> String {
        "Conv2d".into()
    }

    fn forward(&mut self, x: Tensor, pass: Pass) -> Tensor {
        Conv2d::forward(self, x, pass.keeps())
    }

    fn backward(&mut self, dy: Tensor, need_input_grad: bool) -> Option<Tensor> {
        Conv2d::backward(self, &dy, need_input_grad)
    }

    fn params(&self) -> Vec<Named<&Param>> {
        weight_and_bias(&self.weight, self.bias.as_ref())
    }

    fn params_mut(&mut self) -> Vec<Named<&mut Param>> {
        weight_and_bias(&mut self.weight, self.bias.as_mut())
    }

    fn boxed_clone(&self) -> Box<dyn Layer> {
        Box::new(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::gradcheck::{check_input_gradient, check_param_gradient, random_tensor};
    use rand::SeedableRng;

    /// A test case's options, in the order stride, pad, dilation, groups, bias.
    const fn opts(stride: usize, pad: usize, dilation: usize, groups: usize, bias: bool) -> ConvOptions {
        ConvOptions {
            stride,
            pad,
            dilation,
            groups,
            bias,
        }
    }

    /// Every option: plain, padded, pointwise, stride 2, dilation 2, grouped, depthwise, with bias.
    const CASES: [(usize, usize, usize, ConvOptions); 15] = [
        (3, 4, 4, opts(1, 1, 1, 4, true)),
        (3, 2, 2, opts(1, 0, 1, 2, false)),
        (3, 3, 3, opts(1, 2, 1, 3, false)),
        (3, 3, 3, opts(1, 2, 2, 3, true)),
        (3, 2, 3, opts(1, 0, 1, 1, false)),
        (3, 3, 3, opts(1, 1, 1, 1, false)),
        (1, 4, 3, opts(1, 0, 1, 1, true)),
        (3, 2, 4, opts(2, 1, 1, 1, true)),
        (3, 2, 2, opts(1, 2, 2, 1, false)),
        (3, 4, 6, opts(1, 1, 1, 2, true)),
        (3, 4, 4, opts(2, 1, 1, 4, false)),
        (1, 4, 8, opts(2, 0, 1, 2, false)),
        // Enough channels (8 × 4·9 > 16 × 16 outputs) that the direct kernels compute ∂W as well as ∂x and
        // the forward: stride 1 padded, stride 2, dilation 2.
        (3, 4, 8, opts(1, 1, 1, 1, true)),
        (3, 4, 8, opts(2, 1, 1, 1, false)),
        (3, 4, 8, opts(1, 2, 2, 1, false)),
    ];

    #[test]
    fn gradients_match_finite_differences() {
        for (k, cin, cout, opts) in CASES {
            let mut rng = ChaCha8Rng::seed_from_u64(1);
            let conv = Conv2d::with_options(cin, cout, k, opts, &mut rng);
            let x = random_tensor([5, cin, 7, 6], 2);
            check_input_gradient(
                &x,
                |x| conv.clone().forward(x, false),
                |layer_x, dy| {
                    let mut c = conv.clone();
                    c.forward(layer_x, true);
                    c.backward(dy, true).unwrap()
                },
            );
            let bias = conv.bias.as_ref().map_or(vec![], |b| b.value.clone());
            let nw = conv.weight.len();
            check_param_gradient(
                &[conv.weight.value.clone(), bias].concat(),
                |theta| {
                    let mut c = conv.clone();
                    c.weight.value = theta[..nw].to_vec();
                    if let Some(b) = &mut c.bias {
                        b.value = theta[nw..].to_vec();
                    }
                    c.forward(x.clone(), false)
                },
                |dy| {
                    let mut c = conv.clone();
                    c.forward(x.clone(), true);
                    c.backward(dy, false);
                    [c.weight.grad, c.bias.map_or(vec![], |b| b.grad)].concat()
                },
            );
        }
    }

    /// The definition, summed directly: y[o, oy, ox] = b[o] + Σ W[o, i, ky, kx]·x[g·cin/g + i, oy·s + ky·d − p, ox·s + kx·d − p].
    #[test]
    fn equals_the_direct_sum_for_every_option() {
        for (k, cin, cout, opts) in CASES {
            let mut conv = Conv2d::with_options(cin, cout, k, opts, &mut ChaCha8Rng::seed_from_u64(3));
            let (h, w) = (9, 8);
            let x = random_tensor([2, cin, h, w], 4);
            let y = conv.forward(x.clone(), false);
            let [_, _, oh, ow] = y.shape;
            let (cin_g, cout_g) = (cin / opts.groups, cout / opts.groups);
            for n in 0..2 {
                for o in 0..cout {
                    for oy in 0..oh {
                        for ox in 0..ow {
                            let mut sum = conv.bias.as_ref().map_or(0.0, |b| b.value[o]);
                            for i in 0..cin_g {
                                let c = o / cout_g * cin_g + i;
                                for ky in 0..k {
                                    for kx in 0..k {
                                        let iy = (oy * opts.stride + ky * opts.dilation) as isize - opts.pad as isize;
                                        let ix = (ox * opts.stride + kx * opts.dilation) as isize - opts.pad as isize;
                                        if iy < 0 || ix < 0 || iy >= h as isize || ix >= w as isize {
                                            continue;
                                        }
                                        let xv = x.data[((n * cin + c) * h + iy as usize) * w + ix as usize];
                                        sum += conv.weight.value[((o * cin_g + i) * k + ky) * k + kx] * xv;
                                    }
                                }
                            }
                            let got = y.data[((n * cout + o) * oh + oy) * ow + ox];
                            assert!((got - sum).abs() < 1e-4, "{opts:?} k{k}: {got} vs {sum}");
                        }
                    }
                }
            }
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
