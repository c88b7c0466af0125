//! The backward pass of a dense 3×3 stride-1 convolution without im2col columns: ∂W summed straight from
//! the zero-bordered input and the output gradient, and ∂x as a transposed convolution, one input channel's
//! nine tap rows at a time (a few kilobytes that stay in the L1 cache) instead of the whole image's columns.
//!
//! Both give the matrix products' bits on the fused paths (tested): every ∂W entry is the `gemm` crate's
//! chain of fused multiply-adds over the output pixels, in its depth blocks ([`blocked_depths`]), each block
//! added to the gradient when it ends; every ∂x tap row is its chain over the output channels, folded into
//! the image in col2im's order. Switching between the kernels and the products changes no number, so no
//! pinned result moves. Shapes the crate sums another way (its horizontal kernels for ≤ 16 × 16 outputs,
//! depth ≤ 2) keep the products, as does the baseline path (its kernel does not fuse).

use super::direct3::{Direct3, fused_level, pad_planes};
use crate::cpu::SimdLevel;
use crate::gemm::blocked_depths;

/// The most ∂x values a tile covers along the wide plane (three 16-lane registers, on the AVX-512 path).
const DX_TILE_MAX: usize = 48;

/// Floats per register on `level`'s kernels: 16 on the AVX-512 path, 8 on the AVX2 one.
fn lanes(level: SimdLevel) -> usize {
    if level == SimdLevel::Avx512 { 16 } else { 8 }
}

impl Direct3 {
    fn taps(&self) -> usize {
        self.cin * 9
    }

    fn pixels(&self) -> usize {
        let (oh, ow) = self.out();
        oh * ow
    }

    /// Output channels rounded up to whole registers of `lanes` (the transposed gradient's row length).
    fn cout_lanes(&self, lanes: usize) -> usize {
        self.cout.next_multiple_of(lanes)
    }

    /// Whether `gemm` sums ∂W = columns · dyᵀ (cout × cin·9 outputs after its transposition, depth oh·ow)
    /// on its blocked path: more than 16 × 16 outputs (fewer are summed horizontally), depth above 2 and
    /// more than one output channel (matrix–vector paths).
    pub(super) fn weight_grad_matches_gemm(&self) -> bool {
        self.cout * self.taps() > 256 && self.pixels() > 2 && self.cout >= 2
    }

    /// Whether `gemm` sums ∂columns = Wᵀ · dy (oh·ow × cin·9 outputs, depth cout) as one chain per output:
    /// depth 3 to 512 and more than one output pixel; stride 1 (with a padding of at most 2·dilation, so
    /// the gradient's zero border reaches every tap) or 2.
    pub(super) fn input_grad_matches_gemm(&self) -> bool {
        let strided = self.stride == 2 || (self.stride == 1 && self.pad <= 2 * self.dilation);
        strided && (3..=512).contains(&self.cout) && self.pixels() >= 2
    }

    /// How ∂x reads the zero-bordered output gradient ([`GradLayout`]).
    fn grad_layout(&self) -> GradLayout {
        let (s, d, p) = (self.stride, self.dilation, self.pad);
        let (oh, ow) = self.out();
        // Input row s·i + α reads output row i + (α + p − ky·d)/s where that divides; the border keeps
        // every such row index, down to −d (stride 2) or −(2d − p) (stride 1), at or above zero.
        let border = if s == 1 { 2 * d - p } else { d };
        let shift = |phase: usize, k: usize| (border * s + phase + p - k * d) / s;
        let divides = |phase: usize, k: usize| (phase + p + 2 * d * s - k * d).is_multiple_of(s);
        let mut classes = Vec::new();
        let (mut gh, mut gw) = (border + oh, border + ow);
        for alpha in 0..s {
            for beta in 0..s {
                let (rows, cols) = (
                    (self.h - alpha.min(self.h)).div_ceil(s),
                    (self.w - beta.min(self.w)).div_ceil(s),
                );
                let taps: Vec<(usize, usize, usize)> = (0..9)
                    .filter(|t| divides(alpha, t / 3) && divides(beta, t % 3))
                    .map(|t| (t, shift(alpha, t / 3), shift(beta, t % 3)))
                    .collect();
                for &(_, dr, dc) in &taps {
                    (gh, gw) = (gh.max(rows + dr), gw.max(cols + dc));
                }
                classes.push(GradClass {
                    alpha,
                    beta,
                    rows,
                    cols,
                    taps,
                });
            }
        }
        GradLayout {
            border,
            rows: gh,
            cols: gw,
            classes,
        }
    }

    /// Scratch the backward kernels need besides the zero-bordered input ([`Direct3::scratch_len`]): the
    /// output gradient transposed to [pixel, channel], or zero-bordered (plus the reach of the last tile)
    /// and, at stride 2, one phase class of four channels of ∂x.
    pub(super) fn backward_scratch_len(&self) -> usize {
        let layout = self.grad_layout();
        let (gh, gw) = (layout.rows, layout.cols);
        let reach = layout
            .classes
            .iter()
            .flat_map(|c| &c.taps)
            .map(|&(_, r, c)| r * gw + c)
            .max()
            .unwrap_or(0);
        let class = if self.stride == 1 {
            0
        } else {
            4 * self.h.div_ceil(2) * self.w.div_ceil(2)
        };
        let bordered = self.cout * gh * gw + DX_TILE_MAX + reach + class;
        (self.pixels() * self.cout_lanes(16)).max(bordered)
    }
}

/// How ∂x reads the zero-bordered output gradient: its border and size, and the input positions split by
/// their phase (row and column modulo the stride), each phase with the taps that reach it.
#[derive(Debug, Clone)]
struct GradLayout {
    border: usize,
    rows: usize,
    cols: usize,
    classes: Vec<GradClass>,
}

/// The input positions (s·i + α, s·j + β): `rows` × `cols` of them, and the taps that reach them, in
/// (row, column) order, each with the bordered gradient's row and column it reads for (i, j) = (0, 0).
#[derive(Debug, Clone)]
struct GradClass {
    alpha: usize,
    beta: usize,
    rows: usize,
    cols: usize,
    taps: Vec<(usize, usize, usize)>,
}

/// Adds ∂L/∂W of one image to `dw_t` ([cin·9, cout], the transposed layout of the matrix product), from the
/// input `x` [cin, h, w] and the output gradient `dy` [cout, oh·ow]; `pad` has `d.scratch_len()` values and
/// `work` `d.backward_scratch_len()`. Returns `false` (touching nothing) on the baseline level.
pub(super) fn direct3_weight_grad_at(
    level: SimdLevel,
    x: &[f32],
    dy: &[f32],
    d: &Direct3,
    dw_t: &mut [f32],
    pad: &mut [f32],
    work: &mut [f32],
) -> bool {
    let Some(level) = fused_level(level) else {
        return false;
    };
    let (p, lanes) = (d.pixels(), d.cout_lanes(lanes(level)));
    assert!(x.len() >= d.cin * d.h * d.w && dy.len() >= d.cout * p && dw_t.len() >= d.taps() * d.cout);
    // Without padding the image is its own zero-bordered plane (∂W reads only inside it).
    let input: &[f32] = if d.pad == 0 {
        &x[..d.cin * d.h * d.w]
    } else {
        let padded = &mut pad[..d.scratch_len()];
        pad_planes(x, d.cin, d.h, d.w, d.pad, padded);
        padded
    };
    let dyt = &mut work[..p * lanes];
    for (o, src) in dy.chunks_exact(p).take(d.cout).enumerate() {
        for (q, &v) in src.iter().enumerate() {
            dyt[q * lanes + o] = v;
        }
    }
    for row in dyt.chunks_exact_mut(lanes) {
        row[d.cout..].fill(0.0);
    }
    let depths = blocked_depths(d.cout, d.taps(), p);
    #[cfg(target_arch = "x86_64")]
    // SAFETY: the level is one the CPU has (capped above); the slices are as long as asserted and made.
    unsafe {
        if level == SimdLevel::Avx512 {
            fma::weight_grad_avx512(input, dyt, d, &depths, dw_t);
        } else {
            fma::weight_grad_avx2(input, dyt, d, &depths, dw_t);
        }
    }
    true
}

/// Writes every value of ∂L/∂x of one image into `dx` [cin, h, w] from `dy` [cout, oh·ow] and the weights
/// `wt` [cout, cin, 3, 3]; `work` has `d.backward_scratch_len()` values. Returns `false` (touching nothing)
/// on the baseline level.
///
/// ∂x is the full correlation of the zero-bordered `dy` with the kernel turned by 180° (at stride 2, phase
/// by phase of the input positions, each with the taps that reach it), computed along the bordered plane's
/// rows like the forward pass, in col2im's order: per input value, tap by tap in (row, column) order, the
/// tap's chain over the output channels, added to the running sum. A tap that falls on the border sums
/// zeros (+0, as a chain from +0 cannot give −0) and adding +0 changes no sum, exactly as col2im skipping
/// it.
pub(super) fn direct3_input_grad_at(
    level: SimdLevel,
    dy: &[f32],
    wt: &[f32],
    d: &Direct3,
    dx: &mut [f32],
    work: &mut [f32],
) -> bool {
    let Some(level) = fused_level(level) else {
        return false;
    };
    let (p, (oh, ow)) = (d.pixels(), d.out());
    let layout = d.grad_layout();
    let (gh, gw) = (layout.rows, layout.cols);
    assert!(d.input_grad_matches_gemm() && dy.len() >= d.cout * p && wt.len() >= d.cout * d.taps());
    assert!(dx.len() >= d.cin * d.h * d.w);
    let work = &mut work[..d.backward_scratch_len()];
    let class_len = if d.stride == 1 {
        0
    } else {
        4 * d.h.div_ceil(2) * d.w.div_ceil(2)
    };
    let (bordered, class_out) = work.split_at_mut(work.len() - class_len);
    let (planes, reach) = bordered.split_at_mut(d.cout * gh * gw);
    for (o, plane) in planes.chunks_exact_mut(gh * gw).enumerate() {
        bordered_plane(&dy[o * p..][..p], (oh, ow), layout.border, gw, plane);
    }
    reach.fill(0.0);
    let bordered = &*bordered;
    let plane = gh * gw;
    for class in &layout.classes {
        let (rows, cols) = (class.rows, class.cols);
        let mut first = 0;
        for c in [4, 2, 1] {
            let c = if level < SimdLevel::Avx512 { c.min(2) } else { c };
            while first + c <= d.cin {
                // Stride 1: the one class is the whole image, written in place; stride 2: a class of `c`
                // channels, then spread over every other row and column.
                let out: &mut [f32] = if d.stride == 1 {
                    &mut dx[first * rows * cols..]
                } else {
                    &mut class_out[..]
                };
                let geometry = Plane {
                    plane,
                    pitch: gw,
                    rows,
                    cols,
                };
                #[cfg(target_arch = "x86_64")]
                // SAFETY: the level is one the CPU has (capped above); the slices are as long as asserted.
                unsafe {
                    match (level, c) {
                        (SimdLevel::Avx512, 4) => {
                            fma::input_grad_avx512::<4>(bordered, wt, d, first, class, geometry, out)
                        }
                        (SimdLevel::Avx512, 2) => {
                            fma::input_grad_avx512::<2>(bordered, wt, d, first, class, geometry, out)
                        }
                        (SimdLevel::Avx512, _) => {
                            fma::input_grad_avx512::<1>(bordered, wt, d, first, class, geometry, out)
                        }
                        (_, 2) => fma::input_grad_avx2::<2>(bordered, wt, d, first, class, geometry, out),
                        _ => fma::input_grad_avx2::<1>(bordered, wt, d, first, class, geometry, out),
                    }
                }
                if d.stride != 1 {
                    for (k, values) in class_out.chunks_exact(rows * cols).take(c).enumerate() {
                        let channel = &mut dx[(first + k) * d.h * d.w..][..d.h * d.w];
                        for (i, row) in values.chunks_exact(cols).enumerate() {
                            let at = (2 * i + class.alpha) * d.w + class.beta;
                            for (j, &v) in row.iter().enumerate() {
                                channel[at + 2 * j] = v;
                            }
                        }
                    }
                }
                first += c;
            }
        }
    }
    true
}

/// Where a ∂x kernel reads and writes: values per channel of the bordered gradient, its row length, and
/// the rows × columns of input positions it computes.
#[derive(Debug, Clone, Copy)]
struct Plane {
    plane: usize,
    pitch: usize,
    rows: usize,
    cols: usize,
}

/// `dy` (oh × ow) into a zero plane of rows `pitch` long, `border` rows and columns in.
fn bordered_plane(dy: &[f32], (oh, ow): (usize, usize), border: usize, pitch: usize, out: &mut [f32]) {
    out.fill(0.0);
    for (row, src) in out[border * pitch..]
        .chunks_exact_mut(pitch)
        .zip(dy.chunks_exact(ow))
        .take(oh)
    {
        row[border..border + ow].copy_from_slice(src);
    }
}

#[cfg(target_arch = "x86_64")]
mod fma {
    use super::super::direct3::store_tile;
    use super::{DX_TILE_MAX, Direct3, GradClass, Plane};
    use crate::vector::{Vector, Ymm, Zmm};

    /// ∂Wᵀ on a CPU with AVX-512: 16-lane registers, all nine taps of up to three registers of channels
    /// (27 of the 32 registers hold sums).
    ///
    /// # Safety
    /// The CPU must have AVX-512F/VL, AVX2 and FMA; the slices as `direct3_weight_grad_at` makes them.
    #[target_feature(enable = "avx512f,avx512vl,avx2,fma")]
    pub(super) unsafe fn weight_grad_avx512(pad: &[f32], dyt: &[f32], d: &Direct3, depths: &[usize], dw: &mut [f32]) {
        // SAFETY: forwarded.
        unsafe { weight_grad::<Zmm, true>(pad, dyt, d, depths, dw) }
    }

    /// ∂Wᵀ on a CPU with AVX2: 8-lane registers, three taps of up to three registers, or nine of one (16
    /// registers).
    ///
    /// # Safety
    /// The CPU must have AVX2 and FMA; the slices as `direct3_weight_grad_at` makes them.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn weight_grad_avx2(pad: &[f32], dyt: &[f32], d: &Direct3, depths: &[usize], dw: &mut [f32]) {
        // SAFETY: forwarded.
        unsafe { weight_grad::<Ymm, false>(pad, dyt, d, depths, dw) }
    }

    /// ∂Wᵀ in blocks of up to three registers of output channels.
    #[inline(always)]
    unsafe fn weight_grad<V: Vector, const WIDE: bool>(
        pad: &[f32],
        dyt: &[f32],
        d: &Direct3,
        depths: &[usize],
        dw: &mut [f32],
    ) {
        let registers = d.cout_lanes(V::LANES) / V::LANES;
        let mut first = 0;
        while first < registers {
            let r = (registers - first).min(3);
            // SAFETY (each call): forwarded; `first + r` registers lie inside the transposed gradient's rows.
            unsafe {
                match (WIDE, r) {
                    (true, 3) => weight_block::<V, 9, 3>(pad, dyt, d, depths, dw, first),
                    (true, 2) => weight_block::<V, 9, 2>(pad, dyt, d, depths, dw, first),
                    (false, 3) => weight_block::<V, 3, 3>(pad, dyt, d, depths, dw, first),
                    (false, 2) => weight_block::<V, 3, 2>(pad, dyt, d, depths, dw, first),
                    _ => weight_block::<V, 9, 1>(pad, dyt, d, depths, dw, first),
                }
            }
            first += r;
        }
    }

    /// Output channels of registers `first .. first + R` of every tap's ∂Wᵀ row, `T` taps at a time: per
    /// output pixel `R` loads of the transposed gradient and `T` broadcast inputs feed `T × R` chains, one
    /// per depth block, each added to `dw` when its block ends.
    #[inline(always)]
    unsafe fn weight_block<V: Vector, const T: usize, const R: usize>(
        pad: &[f32],
        dyt: &[f32],
        d: &Direct3,
        depths: &[usize],
        dw: &mut [f32],
        first: usize,
    ) {
        let ((sh, sw), (oh, ow)) = (d.padded(), d.out());
        let (plane, lanes) = (sh * sw, d.cout_lanes(V::LANES));
        assert!(pad.len() >= d.cin * plane && dyt.len() >= oh * ow * lanes && (first + R) * V::LANES <= lanes);
        let offsets: [usize; 9] = std::array::from_fn(|t| d.tap_offset(t, sw));
        let s = d.stride;
        for ci in 0..d.cin {
            for t0 in (0..9).step_by(T) {
                let mut start = 0;
                for &depth in depths {
                    // SAFETY (every vector operation and pointer below): the callers enable the width's
                    // instructions; pixel (oy, ox) reads the input from (oy·s, ox·s) to at most 2·dilation
                    // rows and columns on, inside channel ci's zero-bordered plane, and registers
                    // `first..first + R` of row q of the transposed gradient (both lengths asserted above).
                    let mut acc = [[unsafe { V::zero() }; R]; T];
                    let (mut oy, mut ox) = (start / ow, start % ow);
                    for q in start..start + depth {
                        let input = unsafe { pad.as_ptr().add(ci * plane + (oy * sw + ox) * s) };
                        let grad = unsafe { dyt.as_ptr().add(q * lanes + V::LANES * first) };
                        let g: [V; R] = std::array::from_fn(|j| unsafe { V::load(grad.add(V::LANES * j)) });
                        for (t, sums) in acc.iter_mut().enumerate() {
                            let xv = unsafe { V::splat(&*input.add(offsets[t0 + t])) };
                            for (s, gj) in sums.iter_mut().zip(g) {
                                *s = unsafe { V::mul_add(gj, xv, *s) };
                            }
                        }
                        ox += 1;
                        if ox == ow {
                            (oy, ox) = (oy + 1, 0);
                        }
                    }
                    for (t, sums) in acc.iter().enumerate() {
                        let row = &mut dw[(ci * 9 + t0 + t) * d.cout..][..d.cout];
                        for (j, s) in sums.iter().enumerate() {
                            let mut vals = [0.0f32; 16];
                            unsafe { s.store(vals.as_mut_ptr()) };
                            let o = V::LANES * (first + j);
                            for (r, v) in row.iter_mut().skip(o).zip(&vals[..V::LANES]) {
                                *r += v;
                            }
                        }
                    }
                    start += depth;
                }
            }
        }
    }

    /// ∂x of input channels `first..first + C` on a CPU with AVX-512: 48 values a tile in three 16-lane
    /// registers (C × 3 running sums and as many tap chains in the 32 registers).
    ///
    /// # Safety
    /// The CPU must have AVX-512F/VL, AVX2 and FMA; the slices as `direct3_input_grad_at` makes them.
    #[target_feature(enable = "avx512f,avx512vl,avx2,fma")]
    pub(super) unsafe fn input_grad_avx512<const C: usize>(
        bordered: &[f32],
        wt: &[f32],
        d: &Direct3,
        first: usize,
        class: &GradClass,
        at: Plane,
        out: &mut [f32],
    ) {
        // SAFETY: forwarded.
        unsafe { input_grad::<Zmm, C, 3>(bordered, wt, d, first, class, at, out) }
    }

    /// ∂x of input channels `first..first + C` on a CPU with AVX2: 16 values a tile in two 8-lane registers.
    ///
    /// # Safety
    /// The CPU must have AVX2 and FMA; the slices as `direct3_input_grad_at` makes them.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn input_grad_avx2<const C: usize>(
        bordered: &[f32],
        wt: &[f32],
        d: &Direct3,
        first: usize,
        class: &GradClass,
        at: Plane,
        out: &mut [f32],
    ) {
        // SAFETY: forwarded.
        unsafe { input_grad::<Ymm, C, 2>(bordered, wt, d, first, class, at, out) }
    }

    /// ∂x of input channels `first..first + C` at one phase class's positions, tile by tile of `R`
    /// registers along the wide plane of the zero-bordered gradient: for each tap that reaches the class,
    /// in (row, column) order, `C × R` chains over the output channels (each step `R` loads of the
    /// gradient, `C` broadcast weights), then added to the running sums; written to `out` [C, rows, cols].
    #[inline(always)]
    unsafe fn input_grad<V: Vector, const C: usize, const R: usize>(
        bordered: &[f32],
        wt: &[f32],
        d: &Direct3,
        first: usize,
        class: &GradClass,
        at: Plane,
        out: &mut [f32],
    ) {
        let tile = V::LANES * R;
        debug_assert!(tile <= DX_TILE_MAX);
        let Plane {
            plane,
            pitch,
            rows,
            cols,
        } = at;
        let taps = d.taps();
        let wide = rows * pitch;
        let offsets: Vec<(usize, usize)> = class.taps.iter().map(|&(t, r, c)| (t, r * pitch + c)).collect();
        let reach = offsets.iter().map(|&(_, o)| o).max().unwrap_or(0);
        assert!(bordered.len() >= (d.cout - 1) * plane + wide.next_multiple_of(tile) + reach);
        assert!(wt.len() >= d.cout * taps && out.len() >= C * rows * cols);
        for start in (0..wide).step_by(tile) {
            // SAFETY (every vector operation below): the callers enable the width's instructions; every
            // load reads a slice of `tile` values.
            let mut sums = [[unsafe { V::zero() }; R]; C];
            for &(t, offset) in &offsets {
                let mut chain = [[unsafe { V::zero() }; R]; C];
                for o in 0..d.cout {
                    let grad = &bordered[o * plane + start + offset..][..tile];
                    let g: [V; R] = std::array::from_fn(|j| unsafe { V::load(grad[V::LANES * j..].as_ptr()) });
                    let w = &wt[o * taps + first * 9 + t..];
                    for (c, links) in chain.iter_mut().enumerate() {
                        let wv = unsafe { V::splat(&w[c * 9]) };
                        for (s, gj) in links.iter_mut().zip(g) {
                            *s = unsafe { V::mul_add(gj, wv, *s) };
                        }
                    }
                }
                for (total, links) in sums.iter_mut().zip(chain) {
                    for (s, l) in total.iter_mut().zip(links) {
                        *s = unsafe { V::add(*s, l) };
                    }
                }
            }
            // SAFETY: the callers enable the width's instructions; `out` holds C channels.
            unsafe { store_tile(&sums, start, wide, (pitch, rows, cols), out) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpu::detected_level;
    use crate::gemm::{Mat, matmul_at};
    use crate::layers::conv2d::direct3::tests::{geometry, unit};
    use crate::layers::conv2d::im2col::{col2im_at, im2col};
    use crate::layers::gradcheck::random_tensor;

    /// (cin, cout, h, w, padding).
    type Shape = (usize, usize, usize, usize, usize);

    /// The shipped models' 3×3 shapes and the search spaces' (26×26 and 24×24 planes: depth over 512, cut
    /// in blocks), ragged channel counts, planes narrower than a tile, padding 2, a 2×2 plane, and products
    /// on both sides of gemm's 64 × 64 split.
    const SHAPES: [Shape; 14] = [
        (12, 24, 26, 26, 0),
        (8, 10, 26, 26, 0),
        (10, 16, 24, 24, 0),
        (10, 14, 24, 24, 1),
        (20, 32, 10, 10, 1),
        (16, 16, 5, 5, 1),
        (14, 14, 7, 7, 1),
        (12, 12, 4, 4, 0),
        (3, 30, 4, 9, 1),
        (7, 5, 5, 3, 0),
        (5, 9, 6, 5, 2),
        (56, 8, 8, 8, 1),
        (6, 5, 28, 28, 0),
        (2, 70, 12, 12, 1),
    ];

    /// Dilated shapes (the separable model's `dilated`, padding up to 2·dilation) and strided ones (its
    /// `down`, odd and even sizes, paddings 0 to 3, dilated), as (shape, stride, dilation).
    const OTHER: [(Shape, usize, usize); 9] = [
        ((32, 32, 7, 7, 2), 1, 2),
        ((8, 12, 12, 12, 4), 1, 2),
        ((5, 9, 9, 8, 3), 1, 2),
        ((16, 24, 28, 28, 1), 2, 1),
        ((12, 20, 13, 11, 0), 2, 1),
        ((8, 40, 10, 10, 2), 2, 2),
        ((3, 10, 9, 9, 3), 2, 1),
        ((5, 6, 12, 7, 1), 2, 2),
        ((4, 8, 6, 6, 0), 2, 1),
    ];

    fn bits(v: &[f32]) -> Vec<u32> {
        v.iter().map(|x| x.to_bits()).collect()
    }

    /// On the fused paths both kernels give the im2col products' bits: ∂Wᵀ added to a gradient that
    /// already holds a sum (as over a batch), and ∂x folded into a zeroed image.
    #[test]
    fn backward_equals_the_im2col_products_bit_for_bit() {
        for level in [SimdLevel::Avx2, SimdLevel::Avx512]
            .into_iter()
            .filter(|&l| l <= detected_level())
        {
            let shapes = SHAPES.iter().map(|&s| (s, 1, 1)).chain(OTHER);
            for (i, ((cin, cout, h, w, pad), stride, dilation)) in shapes.enumerate() {
                let d = unit(cin, cout, h, w, pad).strided(stride).dilated(dilation);
                assert!(d.weight_grad_matches_gemm(), "{d:?}");
                assert!(d.input_grad_matches_gemm(), "{d:?}");
                let (oh, ow) = d.out();
                let (kk, p) = (cin * 9, oh * ow);
                let x = random_tensor([1, cin, h, w], 5 + i as u64).data.to_vec();
                let dy = random_tensor([1, cout, oh, ow], 50 + i as u64).data.to_vec();
                let wt = random_tensor([cout, cin, 3, 3], 90 + i as u64).data.to_vec();
                let before = random_tensor([1, 1, kk, cout], 130 + i as u64).data.to_vec();
                let mut cols = vec![f32::NAN; kk * p];
                im2col(&x, &geometry(&d), &mut cols);
                let mut want_dw = before.clone();
                matmul_at(
                    level,
                    Mat::new(&cols, kk, p),
                    Mat::transposed(&dy, cout, p),
                    &mut want_dw,
                    true,
                );
                let mut dcols = vec![f32::NAN; kk * p];
                matmul_at(
                    level,
                    Mat::transposed(&wt, cout, kk),
                    Mat::new(&dy, cout, p),
                    &mut dcols,
                    false,
                );
                let mut want_dx = vec![0.0; cin * h * w];
                col2im_at(level, &dcols, &geometry(&d), &mut want_dx);

                let mut pad_buf = vec![f32::NAN; d.scratch_len()];
                let mut work = vec![f32::NAN; d.backward_scratch_len()];
                let mut got_dw = before.clone();
                assert!(direct3_weight_grad_at(
                    level,
                    &x,
                    &dy,
                    &d,
                    &mut got_dw,
                    &mut pad_buf,
                    &mut work
                ));
                let mut got_dx = vec![f32::NAN; cin * h * w];
                assert!(direct3_input_grad_at(level, &dy, &wt, &d, &mut got_dx, &mut work));
                let what = format!("{level}: {cin}→{cout} {h}×{w} pad {pad} stride {stride} dilation {dilation}");
                assert_eq!(bits(&got_dw), bits(&want_dw), "∂W {what}");
                assert_eq!(bits(&got_dx), bits(&want_dx), "∂x {what}");
            }
        }
    }

    #[test]
    fn shapes_the_gemm_crate_sums_another_way_are_left_to_it() {
        let d = |cin, cout, h, w| unit(cin, cout, h, w, 0);
        // A first layer's ∂W (1 × 9 taps × 12 channels = 108 outputs) is summed horizontally.
        assert!(!d(1, 12, 28, 28).weight_grad_matches_gemm());
        assert!(d(1, 12, 28, 28).input_grad_matches_gemm());
        // Depth ≤ 2 (gevv) for ∂x; a single output pixel.
        assert!(!d(16, 2, 8, 8).input_grad_matches_gemm());
        assert!(!d(16, 16, 3, 3).input_grad_matches_gemm());
        assert!(!d(16, 16, 3, 3).weight_grad_matches_gemm());
    }

    /// The baseline path leaves both gradients to the matrix products.
    #[test]
    fn the_baseline_path_declines() {
        let d = unit(4, 8, 6, 6, 1);
        let (mut pad, mut work) = (vec![0.0; d.scratch_len()], vec![0.0; d.backward_scratch_len()]);
        let mut dw = vec![f32::NAN; 36 * 8];
        let mut dx = vec![f32::NAN; 4 * 36];
        let (x, dy, wt) = (vec![1.0; 4 * 36], vec![1.0; 8 * 36], vec![1.0; 8 * 36]);
        assert!(!direct3_weight_grad_at(
            SimdLevel::Baseline,
            &x,
            &dy,
            &d,
            &mut dw,
            &mut pad,
            &mut work
        ));
        assert!(!direct3_input_grad_at(
            SimdLevel::Baseline,
            &dy,
            &wt,
            &d,
            &mut dx,
            &mut work
        ));
        assert!(dw.iter().chain(&dx).all(|v| v.is_nan()));
    }
}
