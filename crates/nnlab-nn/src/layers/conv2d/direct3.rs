//! The forward pass of a dense 3×3 convolution (stride 1 or 2, any dilation) without im2col: the image is
//! read in place, from a zero-bordered copy (stride 2: four phase planes), instead of being unfolded nine
//! times over into columns that the matrix product then packs again (in a profile, im2col and the packing
//! were a quarter of the convolutions' time).
//!
//! Every output is the same sum as the im2col product's, in the same order — one chain over (input channel,
//! kernel row, kernel column), as im2col orders the columns — with each product fused into the sum as the
//! `gemm` crate's AVX2 and AVX-512 micro-kernels fuse it. On those paths the result is bit-identical to the
//! matrix product's (tested), so switching between them changes no number. The kernel is written once over
//! a register type ([`super::vector`]; intrinsics, as the compiler kept a portable version's sums on the
//! stack) and runs with 16-lane registers on the AVX-512 path and 8-lane ones on the AVX2 path; the
//! baseline path keeps the matrix product (its kernel does not fuse).
//!
//! Layout: outputs are computed along the *wide* plane, the zero-bordered source's width per output row,
//! so that the 16 or 32 outputs of a tile read as many consecutive values per tap; the outputs of each row
//! that fall outside the image are computed and dropped.

use super::depthwise::pad_plane;
use crate::cpu::SimdLevel;

/// The most outputs a tile covers along the wide plane (two 16-lane registers, on the AVX-512 path).
const TILE_MAX: usize = 32;

/// The shape of one image's 3×3 stride-1 convolution.
#[derive(Debug, Clone, Copy)]
pub(super) struct Direct3 {
    pub(super) cin: usize,
    pub(super) cout: usize,
    pub(super) h: usize,
    pub(super) w: usize,
    pub(super) pad: usize,
    /// Step between output positions (the forward and ∂x kernels take 1; ∂W any).
    pub(super) stride: usize,
    /// Spacing of the taps.
    pub(super) dilation: usize,
}

impl Direct3 {
    /// Whether the `gemm` crate computes this shape's product as one chain of fused multiply-adds per
    /// output, so that the direct kernel gives the same bits: at most 512 taps (the crate splits longer sums
    /// into blocks on some CPUs), and neither one output pixel nor one output channel (the crate's
    /// matrix–vector paths sum in another order).
    pub(super) fn matches_gemm(&self) -> bool {
        let (oh, ow) = self.out();
        self.stride <= 2 && self.cin * 9 <= 512 && self.cout >= 2 && oh * ow >= 2
    }

    /// Where the forward kernel reads: stride 1 reads the zero-bordered planes; stride 2 reads each
    /// channel's four phase planes (rows and columns of even and odd index), so that a tile of outputs
    /// along a row reads consecutive values for every tap.
    fn source(&self) -> Source {
        let (hp, wp) = self.padded();
        let (oh, _) = self.out();
        if self.stride == 1 {
            return Source {
                plane: hp * wp,
                row: wp,
                wide: oh * wp,
                offsets: std::array::from_fn(|t| self.tap_offset(t, wp)),
            };
        }
        let (ph, pw) = (hp.div_ceil(2), wp.div_ceil(2));
        let offsets = std::array::from_fn(|t| {
            let (dy, dx) = (t / 3 * self.dilation, t % 3 * self.dilation);
            ((dy % 2) * 2 + dx % 2) * ph * pw + dy / 2 * pw + dx / 2
        });
        Source {
            plane: 4 * ph * pw,
            row: pw,
            wide: oh * pw,
            offsets,
        }
    }

    /// Where tap `t` (row-major over the 3 × 3 kernel) reads, relative to its output's first tap, in a
    /// plane whose rows are `row` values apart.
    pub(super) fn tap_offset(&self, t: usize, row: usize) -> usize {
        (t / 3 * row + t % 3) * self.dilation
    }

    /// The zero-bordered input's height and width.
    pub(super) fn padded(&self) -> (usize, usize) {
        (self.h + 2 * self.pad, self.w + 2 * self.pad)
    }

    /// The output's height and width.
    pub(super) fn out(&self) -> (usize, usize) {
        let (hp, wp) = self.padded();
        let span = 2 * self.dilation + 1;
        ((hp - span) / self.stride + 1, (wp - span) / self.stride + 1)
    }

    /// Scratch values one image needs: the zero-bordered input (for ∂W), or the forward's source, plus
    /// the reach of the last tile.
    pub(super) fn scratch_len(&self) -> usize {
        let (hp, wp) = self.padded();
        let source = self.source();
        let reach = TILE_MAX + source.offsets.iter().max().expect("nine taps");
        (self.cin * hp * wp + TILE_MAX + self.tap_offset(8, wp)).max(self.cin * source.plane + reach)
    }
}

/// The layout the forward kernel reads its input in.
#[derive(Debug, Clone, Copy)]
struct Source {
    /// Values per input channel.
    plane: usize,
    /// Values between output rows (the wide plane's row length; its first `ow` values are outputs).
    row: usize,
    /// Positions of the wide plane: output rows × `row`.
    wide: usize,
    /// Where each tap reads, relative to its output's position in the channel.
    offsets: [usize; 9],
}

/// The four phase planes of each channel of `x` [cin, h, w] for a stride-2 forward: plane (a, b) holds the
/// zero-bordered input's values at (2r + a, 2c + b), zeros past its edge; then zeros to the buffer's end.
fn phase_planes(x: &[f32], d: &Direct3, out: &mut [f32]) {
    let (hp, wp) = d.padded();
    let (ph, pw) = (hp.div_ceil(2), wp.div_ceil(2));
    let planes = d.cin * 4 * ph * pw;
    for (k, plane) in out[..planes].chunks_exact_mut(ph * pw).enumerate() {
        let (c, a, b) = (k / 4, k % 4 / 2, k % 2);
        for (r, row) in plane.chunks_exact_mut(pw).enumerate() {
            // Bordered row 2r + a is image row 2r + a − pad; bordered column 2·col + b is image column
            // 2·col + b − pad, inside the image for col in lo..hi.
            let i = (2 * r + a).wrapping_sub(d.pad);
            if i >= d.h {
                row.fill(0.0);
                continue;
            }
            let src = &x[(c * d.h + i) * d.w..][..d.w];
            let lo = d.pad.saturating_sub(b).div_ceil(2);
            let hi = (d.w + d.pad - b).div_ceil(2).min(pw);
            row[..lo].fill(0.0);
            for (col, v) in row[lo..hi].iter_mut().enumerate() {
                *v = src[2 * (lo + col) + b - d.pad];
            }
            row[hi..].fill(0.0);
        }
    }
    out[planes..].fill(0.0);
}

/// `level` capped at the CPU's, when it is a path whose products fuse multiply and add (AVX2, AVX-512) and
/// so a path the direct kernels run; `None` on the baseline path, which keeps the matrix products.
pub(super) fn fused_level(level: SimdLevel) -> Option<SimdLevel> {
    let level = level.min(crate::cpu::detected_level());
    (level >= SimdLevel::Avx2).then_some(level)
}

/// `y` [cout, oh·ow] = the 3×3 correlation of `x` [cin, h, w] (zero padding `d.pad`, stride 1 or 2,
/// dilation `d.dilation`) with the weights `wt` [cout, cin, 3, 3], on the engine's SIMD level; `scratch` has
/// `d.scratch_len()` values.
/// Returns `false` (and leaves `y` alone) on the baseline level, where the caller keeps the matrix product.
pub(super) fn direct3_forward(x: &[f32], wt: &[f32], d: &Direct3, scratch: &mut [f32], y: &mut [f32]) -> bool {
    direct3_forward_at(crate::cpu::level(), x, wt, d, scratch, y)
}

/// [`direct3_forward`] on the kernel of `level` (capped at the CPU's): AVX-512 (16-lane registers: four
/// channels × 32 outputs of sums) or AVX2 (8-lane registers: four channels × 16 outputs).
pub(super) fn direct3_forward_at(
    level: SimdLevel,
    x: &[f32],
    wt: &[f32],
    d: &Direct3,
    scratch: &mut [f32],
    y: &mut [f32],
) -> bool {
    let Some(level) = fused_level(level) else {
        return false;
    };
    let (oh, ow) = d.out();
    assert!(d.stride <= 2, "the direct forward kernel runs strides 1 and 2");
    assert!(x.len() >= d.cin * d.h * d.w && wt.len() >= d.cout * d.cin * 9 && y.len() >= d.cout * oh * ow);
    let padded = &mut scratch[..d.scratch_len()];
    if d.stride == 1 {
        pad_planes(x, d.cin, d.h, d.w, d.pad, padded);
    } else {
        phase_planes(x, d, padded);
    }
    #[cfg(target_arch = "x86_64")]
    {
        // Channel blocks of 8 (AVX-512's 32 registers hold 8 × 2 of sums), 4, 2, then 1.
        let mut first = 0;
        for c in [8, 4, 2, 1] {
            if c == 8 && level < SimdLevel::Avx512 {
                continue;
            }
            while first + c <= d.cout {
                // SAFETY: the level is one the CPU has (capped above); the slices are as long as asserted.
                unsafe {
                    match (level, c) {
                        (SimdLevel::Avx512, 8) => fma::block_avx512::<8>(padded, wt, d, first, y),
                        (SimdLevel::Avx512, 4) => fma::block_avx512::<4>(padded, wt, d, first, y),
                        (SimdLevel::Avx512, 2) => fma::block_avx512::<2>(padded, wt, d, first, y),
                        (SimdLevel::Avx512, _) => fma::block_avx512::<1>(padded, wt, d, first, y),
                        (_, 4) => fma::block_avx2::<4>(padded, wt, d, first, y),
                        (_, 2) => fma::block_avx2::<2>(padded, wt, d, first, y),
                        _ => fma::block_avx2::<1>(padded, wt, d, first, y),
                    }
                }
                first += c;
            }
        }
        true
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = y;
        false
    }
}

/// `channels` planes of `h`×`w` with a zero border `p` wide ([`pad_plane`] each), one after the other, then
/// zeros for the reach of the last tile (read, never kept).
pub(super) fn pad_planes(x: &[f32], channels: usize, h: usize, w: usize, p: usize, padded: &mut [f32]) {
    let plane = (h + 2 * p) * (w + 2 * p);
    for (c, out) in padded[..channels * plane].chunks_exact_mut(plane).enumerate() {
        pad_plane(&x[c * h * w..][..h * w], h, w, p, out);
    }
    padded[channels * plane..].fill(0.0);
}

/// Stores a tile of `C` channels' sums along a wide plane (rows `sw` apart, of which the first `ow` values
/// are outputs), starting at wide position `start` of `wide`, into `out` ([C, oh, ow]): each register's
/// lanes a row's run at a time, straight from the register under a mask; lanes past an image row's end are
/// dropped.
///
/// # Safety
/// The CPU must have the instructions of `V`'s width.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub(super) unsafe fn store_tile<V: crate::vector::Vector, const C: usize, const R: usize>(
    acc: &[[V; R]; C],
    start: usize,
    wide: usize,
    (sw, oh, ow): (usize, usize, usize),
    out: &mut [f32],
) {
    let plane_out = oh * ow;
    assert!(out.len() >= C * plane_out);
    for j in 0..R {
        let from = start + V::LANES * j;
        let live = V::LANES.min(wide.saturating_sub(from));
        let mut l = 0;
        while l < live {
            let (oy, ox) = ((from + l) / sw, (from + l) % sw);
            if ox >= ow {
                l += sw - ox;
                continue;
            }
            let run = (ow - ox).min(live - l);
            for (c, sums) in acc.iter().enumerate() {
                // Lane l lands on output (oy, ox): the register's lane 0 sits l values before it.
                let at = out
                    .as_mut_ptr()
                    .wrapping_add(c * plane_out + oy * ow + ox)
                    .wrapping_sub(l);
                // SAFETY: lanes l..l + run land on outputs (oy, ox..ox + run) of channel c, inside `out`
                // (asserted above); no other lane is written. The width's instructions: the caller's.
                unsafe { sums[j].store_lanes(at, l, l + run) };
            }
            l += run;
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod fma {
    use super::{Direct3, Source, TILE_MAX};
    use crate::vector::{Vector, Ymm, Zmm};

    /// Output channels `first..first + C`, 32 outputs a tile in two 16-lane registers, on a CPU with
    /// AVX-512.
    ///
    /// # Safety
    /// The CPU must have AVX-512F/VL, AVX2 and FMA.
    #[target_feature(enable = "avx512f,avx512vl,avx2,fma")]
    pub(super) unsafe fn block_avx512<const C: usize>(
        padded: &[f32],
        wt: &[f32],
        d: &Direct3,
        first: usize,
        out: &mut [f32],
    ) {
        // SAFETY: forwarded.
        unsafe { block::<Zmm, C, 2>(padded, wt, d, first, out) }
    }

    /// Output channels `first..first + C`, 16 outputs a tile in two 8-lane registers, on a CPU with AVX2
    /// (16 registers).
    ///
    /// # Safety
    /// The CPU must have AVX2 and FMA.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn block_avx2<const C: usize>(
        padded: &[f32],
        wt: &[f32],
        d: &Direct3,
        first: usize,
        out: &mut [f32],
    ) {
        // SAFETY: forwarded.
        unsafe { block::<Ymm, C, 2>(padded, wt, d, first, out) }
    }

    /// Output channels `first..first + C`, tile by tile of `R` registers of outputs along the wide plane
    /// of the zero-bordered input `padded`: `C` × `R` registers of sums, one chain per output over (input
    /// channel, tap), each tap `R` loads of inputs and `C` broadcast weights.
    ///
    /// # Safety
    /// The CPU must have the instructions of `V`'s width (the callers' target features).
    #[inline(always)]
    unsafe fn block<V: Vector, const C: usize, const R: usize>(
        padded: &[f32],
        wt: &[f32],
        d: &Direct3,
        first: usize,
        out: &mut [f32],
    ) {
        let tile = V::LANES * R;
        debug_assert!(tile <= TILE_MAX);
        let taps = d.cin * 9;
        let (oh, ow) = d.out();
        let Source {
            plane,
            row: sw,
            wide,
            offsets,
        } = d.source();
        let weights: [&[f32]; C] = std::array::from_fn(|c| &wt[(first + c) * taps..][..taps]);
        let plane_out = oh * ow;
        assert!(out.len() >= (first + C) * plane_out);
        let reach = offsets.iter().max().expect("nine taps");
        assert!(padded.len() >= (d.cin - 1) * plane + wide.next_multiple_of(tile) + reach);
        for start in (0..wide).step_by(tile) {
            // SAFETY (every vector operation below): the callers enable the width's instructions; every
            // load reads a slice of `tile` values.
            let mut acc = [[unsafe { V::zero() }; R]; C];
            for ci in 0..d.cin {
                let base = ci * plane + start;
                for (t, offset) in offsets.iter().enumerate() {
                    let input = &padded[base + offset..][..tile];
                    let v: [V; R] = std::array::from_fn(|j| unsafe { V::load(input[V::LANES * j..].as_ptr()) });
                    let tap = ci * 9 + t;
                    for c in 0..C {
                        let wv = unsafe { V::splat(&weights[c][tap]) };
                        for j in 0..R {
                            acc[c][j] = unsafe { V::mul_add(v[j], wv, acc[c][j]) };
                        }
                    }
                }
            }
            // SAFETY: the callers enable the width's instructions; `out` holds channels up to first + C.
            unsafe { super::store_tile(&acc, start, wide, (sw, oh, ow), &mut out[first * plane_out..]) };
        }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::cpu::detected_level;
    use crate::gemm::{Mat, matmul_at};
    use crate::layers::conv2d::im2col::{Geometry, im2col};
    use crate::layers::gradcheck::random_tensor;

    /// The shipped models' 3×3 shapes, ragged ones (channels not a multiple of 4, planes narrower than a
    /// tile, padding 2) and the longest sum the kernel takes (56 channels: 504 taps).
    const SHAPES: [(usize, usize, usize, usize, usize); 10] = [
        (12, 24, 26, 26, 0),
        (10, 16, 24, 24, 0),
        (20, 32, 10, 10, 1),
        (16, 16, 5, 5, 1),
        (14, 14, 7, 7, 1),
        (1, 10, 28, 28, 0),
        (3, 5, 4, 9, 1),
        (7, 3, 4, 3, 0),
        (5, 6, 6, 5, 2),
        (56, 8, 8, 8, 1),
    ];

    /// A stride-1, dilation-1 shape.
    pub(in crate::layers::conv2d) fn unit(cin: usize, cout: usize, h: usize, w: usize, pad: usize) -> Direct3 {
        Direct3 {
            cin,
            cout,
            h,
            w,
            pad,
            stride: 1,
            dilation: 1,
        }
    }

    impl Direct3 {
        pub(in crate::layers::conv2d) fn dilated(self, dilation: usize) -> Self {
            Self { dilation, ..self }
        }

        pub(in crate::layers::conv2d) fn strided(self, stride: usize) -> Self {
            Self { stride, ..self }
        }
    }

    pub(in crate::layers::conv2d) fn geometry(d: &Direct3) -> Geometry {
        let (oh, ow) = d.out();
        Geometry {
            cin: d.cin,
            h: d.h,
            w: d.w,
            k: 3,
            stride: d.stride,
            pad: d.pad,
            dilation: d.dilation,
            oh,
            ow,
        }
    }

    fn bits(v: &[f32]) -> Vec<u32> {
        v.iter().map(|x| x.to_bits()).collect()
    }

    /// On the fused (AVX2, AVX-512) paths the direct forward gives the im2col product's bits.
    #[test]
    fn forward_equals_the_im2col_product_bit_for_bit() {
        for level in [SimdLevel::Avx2, SimdLevel::Avx512]
            .into_iter()
            .filter(|&l| l <= detected_level())
        {
            // Every third shape dilated; then stride 2 (the separable model's `down`, odd and even planes,
            // dilated).
            let strided = [
                ((16, 24, 28, 28, 1), 1),
                ((12, 20, 13, 11, 0), 1),
                ((8, 40, 10, 10, 2), 2),
                ((3, 5, 9, 7, 1), 1),
            ];
            let dilated = SHAPES.iter().enumerate().map(|(i, &(cin, cout, h, w, pad))| {
                let dilation = if i % 3 == 2 { 2 } else { 1 };
                (unit(cin, cout, h, w, pad + dilation - 1).dilated(dilation), i)
            });
            let strided = strided
                .into_iter()
                .enumerate()
                .map(|(i, ((cin, cout, h, w, pad), dilation))| {
                    (unit(cin, cout, h, w, pad).dilated(dilation).strided(2), 100 + i)
                });
            for (d, i) in dilated.chain(strided) {
                let Direct3 { cin, cout, h, w, .. } = d;
                assert!(d.matches_gemm(), "{d:?}");
                let (oh, ow) = d.out();
                let x = random_tensor([1, cin, h, w], 11 + i as u64).data.to_vec();
                let wt = random_tensor([cout, cin, 3, 3], 31 + i as u64).data.to_vec();
                let mut cols = vec![f32::NAN; cin * 9 * oh * ow];
                im2col(&x, &geometry(&d), &mut cols);
                let mut want = vec![f32::NAN; cout * oh * ow];
                let (w_mat, cols_mat) = (Mat::new(&wt, cout, cin * 9), Mat::new(&cols, cin * 9, oh * ow));
                matmul_at(level, w_mat, cols_mat, &mut want, false);
                let mut scratch = vec![f32::NAN; d.scratch_len()];
                let mut got = vec![f32::NAN; cout * oh * ow];
                assert!(direct3_forward_at(level, &x, &wt, &d, &mut scratch, &mut got));
                assert_eq!(bits(&got), bits(&want), "{level}: {d:?}");
            }
        }
    }

    #[test]
    fn shapes_the_gemm_crate_sums_another_way_are_left_to_it() {
        let d = unit;
        assert!(d(56, 8, 8, 8, 0).matches_gemm());
        assert!(d(8, 8, 8, 8, 1).strided(2).matches_gemm());
        assert!(!d(8, 8, 8, 8, 1).strided(3).matches_gemm());
        assert!(!d(57, 8, 8, 8, 0).matches_gemm());
        assert!(!d(8, 1, 8, 8, 0).matches_gemm());
        assert!(!d(8, 8, 3, 3, 0).matches_gemm());
    }

    /// The baseline path leaves the convolution to the matrix product.
    #[test]
    fn the_baseline_path_declines() {
        let d = unit(2, 3, 5, 5, 1);
        let mut scratch = vec![0.0; d.scratch_len()];
        let mut out = vec![f32::NAN; 3 * 25];
        assert!(!direct3_forward_at(
            SimdLevel::Baseline,
            &[0.0; 50],
            &[0.0; 54],
            &d,
            &mut scratch,
            &mut out
        ));
        assert!(out.iter().all(|v| v.is_nan()));
    }
}
