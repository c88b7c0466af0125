//! The forward pass of a dense 3×3 stride-1 convolution without im2col: the image is read in place, from a
//! zero-bordered copy, instead of being unfolded nine times over into columns that the matrix product then
//! packs again (in a profile, im2col and the packing were a quarter of the convolutions' time).
//!
//! Every output is the same sum as the im2col product's, in the same order — one chain over (input channel,
//! kernel row, kernel column), as im2col orders the columns — with each product fused into the sum as the
//! `gemm` crate's AVX2 and AVX-512 micro-kernels fuse it. On those paths the result is bit-identical to the
//! matrix product's (tested), so switching between them changes no number. The kernel uses AVX2 + FMA
//! intrinsics (the compiler kept a portable version's sums on the stack) and runs on the AVX-512 path with
//! its 32 registers; the baseline path keeps the matrix product (its kernel does not fuse).
//!
//! Layout: outputs are computed along the *wide* plane, the zero-bordered source's width per output row,
//! so that the 16 or 24 outputs of a tile read as many consecutive values per tap; the outputs of each row
//! that fall outside the image are computed and dropped.

use super::depthwise::pad_plane;
use crate::cpu::SimdLevel;

/// The most outputs a tile covers along the wide plane (three AVX vectors, on the AVX-512 path).
const TILE_MAX: usize = 24;

/// The shape of one image's 3×3 stride-1 convolution.
#[derive(Debug, Clone, Copy)]
pub(super) struct Direct3 {
    pub(super) cin: usize,
    pub(super) cout: usize,
    pub(super) h: usize,
    pub(super) w: usize,
    pub(super) pad: usize,
}

impl Direct3 {
    /// Whether the `gemm` crate computes this shape's product as one chain of fused multiply-adds per
    /// output, so that the direct kernel gives the same bits: at most 512 taps (the crate splits longer sums
    /// into blocks on some CPUs), and neither one output pixel nor one output channel (the crate's
    /// matrix–vector paths sum in another order).
    pub(super) fn matches_gemm(&self) -> bool {
        let (oh, ow) = self.out();
        self.cin * 9 <= 512 && self.cout >= 2 && oh * ow >= 2
    }

    fn padded(&self) -> (usize, usize) {
        (self.h + 2 * self.pad, self.w + 2 * self.pad)
    }

    fn out(&self) -> (usize, usize) {
        let (hp, wp) = self.padded();
        (hp - 2, wp - 2)
    }

    /// Scratch values one image needs: the zero-bordered input, plus the reach of the last tile.
    pub(super) fn scratch_len(&self) -> usize {
        let (hp, wp) = self.padded();
        self.cin * hp * wp + TILE_MAX + 2 * wp + 2
    }
}

/// `y` [cout, oh·ow] = the 3×3 stride-1 correlation of `x` [cin, h, w] (zero padding `d.pad`) with the
/// weights `wt` [cout, cin, 3, 3], on the engine's SIMD level; `scratch` has `d.scratch_len()` values.
/// Returns `false` (and leaves `y` alone) on the baseline level, where the caller keeps the matrix product.
pub(super) fn direct3_forward(x: &[f32], wt: &[f32], d: &Direct3, scratch: &mut [f32], y: &mut [f32]) -> bool {
    direct3_forward_at(crate::cpu::level(), x, wt, d, scratch, y)
}

/// [`direct3_forward`] on the kernel of `level` (capped at the CPU's): AVX-512 (32 registers: four
/// channels × 24 outputs of sums) or AVX2 (16 registers: four channels × 16 outputs).
pub(super) fn direct3_forward_at(
    level: SimdLevel,
    x: &[f32],
    wt: &[f32],
    d: &Direct3,
    scratch: &mut [f32],
    y: &mut [f32],
) -> bool {
    let level = level.min(crate::cpu::detected_level());
    if level < SimdLevel::Avx2 {
        return false;
    }
    let (oh, ow) = d.out();
    assert!(x.len() >= d.cin * d.h * d.w && wt.len() >= d.cout * d.cin * 9 && y.len() >= d.cout * oh * ow);
    let padded = &mut scratch[..d.scratch_len()];
    pad_planes(x, d.cin, d.h, d.w, d.pad, padded);
    #[cfg(target_arch = "x86_64")]
    {
        // Channel blocks of 4, then 2, then 1.
        let mut first = 0;
        for c in [4, 2, 1] {
            while first + c <= d.cout {
                // SAFETY: the level is one the CPU has (capped above); the slices are as long as asserted.
                unsafe {
                    match (level, c) {
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
fn pad_planes(x: &[f32], channels: usize, h: usize, w: usize, p: usize, padded: &mut [f32]) {
    let plane = (h + 2 * p) * (w + 2 * p);
    for (c, out) in padded[..channels * plane].chunks_exact_mut(plane).enumerate() {
        pad_plane(&x[c * h * w..][..h * w], h, w, p, out);
    }
    padded[channels * plane..].fill(0.0);
}

#[cfg(target_arch = "x86_64")]
mod fma {
    use std::arch::x86_64::{
        __m256, _mm256_fmadd_ps, _mm256_loadu_ps, _mm256_set1_ps, _mm256_setzero_ps, _mm256_storeu_ps,
    };

    use super::{Direct3, TILE_MAX};

    /// Output channels `first..first + C`, 24 outputs a tile, on a CPU with AVX-512 (its 32
    /// registers hold the sums, the inputs and a weight).
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
        unsafe { block::<C, 3>(padded, wt, d, first, out) }
    }

    /// Output channels `first..first + C`, 16 outputs a tile, on a CPU with AVX2 (16 registers).
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
        unsafe { block::<C, 2>(padded, wt, d, first, out) }
    }

    /// Output channels `first..first + C`, tile by tile of `8·V` outputs along the wide plane of the
    /// zero-bordered input `padded`: `C` × `V` AVX registers of sums, one chain per output over (input
    /// channel, tap), each tap `V` loads of inputs and `C` broadcast weights.
    ///
    /// # Safety
    /// The CPU must have AVX2 and FMA (the callers' target features).
    #[inline(always)]
    unsafe fn block<const C: usize, const V: usize>(
        padded: &[f32],
        wt: &[f32],
        d: &Direct3,
        first: usize,
        out: &mut [f32],
    ) {
        let tile = 8 * V;
        let taps = d.cin * 9;
        let ((sh, sw), (oh, ow)) = (d.padded(), d.out());
        let (plane, wide) = (sh * sw, oh * sw);
        let weights: [&[f32]; C] = std::array::from_fn(|c| &wt[(first + c) * taps..][..taps]);
        let mut lanes = [[0.0f32; TILE_MAX]; C];
        for start in (0..wide).step_by(tile) {
            // SAFETY (every intrinsic below): the callers enable AVX2 and FMA; every load reads a slice of
            // `tile` values and every store writes one.
            let mut acc: [[__m256; V]; C] = [[unsafe { _mm256_setzero_ps() }; V]; C];
            for ci in 0..d.cin {
                let base = ci * plane + start;
                for ky in 0..3 {
                    for kx in 0..3 {
                        let input = &padded[base + ky * sw + kx..][..tile];
                        let v: [__m256; V] =
                            std::array::from_fn(|j| unsafe { _mm256_loadu_ps(input[8 * j..].as_ptr()) });
                        let tap = ci * 9 + ky * 3 + kx;
                        for c in 0..C {
                            let wv = unsafe { _mm256_set1_ps(weights[c][tap]) };
                            for j in 0..V {
                                acc[c][j] = unsafe { _mm256_fmadd_ps(v[j], wv, acc[c][j]) };
                            }
                        }
                    }
                }
            }
            for (lane, sums) in lanes.iter_mut().zip(acc) {
                for (chunk, s) in lane.chunks_exact_mut(8).zip(sums) {
                    unsafe { _mm256_storeu_ps(chunk.as_mut_ptr(), s) };
                }
            }
            // Keep the outputs that fall inside the image, a row's run at a time.
            let (n, mut l) = (tile.min(wide - start), 0);
            while l < n {
                let (oy, ox) = ((start + l) / sw, (start + l) % sw);
                if ox >= ow {
                    l += sw - ox;
                    continue;
                }
                let run = (ow - ox).min(n - l);
                for (c, lane) in lanes.iter().enumerate() {
                    out[(first + c) * oh * ow + oy * ow + ox..][..run].copy_from_slice(&lane[l..l + run]);
                }
                l += run;
            }
        }
    }
}

#[cfg(test)]
mod tests {
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

    fn geometry(d: &Direct3) -> Geometry {
        let (oh, ow) = d.out();
        Geometry {
            cin: d.cin,
            h: d.h,
            w: d.w,
            k: 3,
            stride: 1,
            pad: d.pad,
            dilation: 1,
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
            for (i, &(cin, cout, h, w, pad)) in SHAPES.iter().enumerate() {
                let d = Direct3 { cin, cout, h, w, pad };
                assert!(d.matches_gemm());
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
                assert_eq!(bits(&got), bits(&want), "{level}: {cin}→{cout} {h}×{w} pad {pad}");
            }
        }
    }

    #[test]
    fn shapes_the_gemm_crate_sums_another_way_are_left_to_it() {
        let d = |cin, cout, h, w, pad| Direct3 { cin, cout, h, w, pad };
        assert!(d(56, 8, 8, 8, 0).matches_gemm());
        assert!(!d(57, 8, 8, 8, 0).matches_gemm());
        assert!(!d(8, 1, 8, 8, 0).matches_gemm());
        assert!(!d(8, 8, 3, 3, 0).matches_gemm());
    }

    /// The baseline path leaves the convolution to the matrix product.
    #[test]
    fn the_baseline_path_declines() {
        let d = Direct3 {
            cin: 2,
            cout: 3,
            h: 5,
            w: 5,
            pad: 1,
        };
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
