//! SGEMM on the kernel family of a chosen [`SimdLevel`], rather than the one `gemm` picks by itself.
//!
//! The `gemm` crate chooses its micro-kernels once per process from the CPU's features and offers no way
//! to choose them, so a slower path could not be run for comparison, nor one path pinned for a
//! bit-identical test. This is `gemm::gemm`'s own front for f32 (its operand normalisation, then
//! `gemm_basic_generic` with one family's micro-kernels, exactly as `gemm_f32`'s `gemm_def!` instantiates
//! them), with the family chosen by the caller, and with a long depth cut into blocks that do not depend on
//! the CPU's cache ([`depth_pieces`]), so the same product sums in the same order on every CPU. The versions
//! are pinned (`=0.19.0`) because these are the crates' public but low-level items.

use gemm_common::gemm::gemm_basic_generic;
use gemm_common::simd::MixedSimd;

use crate::cpu::SimdLevel;

/// `dst = alpha·dst + beta·lhs·rhs` (dst read only when `read_dst`) with the given strides, on the
/// kernels of `level`.
///
/// # Safety
/// The strides must keep every access of the `m × k`, `k × n` and `m × n` operands inside their buffers,
/// `dst` must not alias `lhs` or `rhs`, and `level` must be at most [`crate::cpu::detected_level`] (the
/// kernels use the instructions of their level).
#[allow(clippy::too_many_arguments)]
pub unsafe fn sgemm(
    level: SimdLevel,
    m: usize,
    n: usize,
    k: usize,
    dst: *mut f32,
    dst_cs: isize,
    dst_rs: isize,
    read_dst: bool,
    lhs: *const f32,
    lhs_cs: isize,
    lhs_rs: isize,
    rhs: *const f32,
    rhs_cs: isize,
    rhs_rs: isize,
    alpha: f32,
    beta: f32,
) {
    debug_assert!(level <= crate::cpu::detected_level());
    debug_assert!(dst_cs > 0 && dst_rs > 0 && lhs_cs > 0 && lhs_rs > 0 && rhs_cs > 0 && rhs_rs > 0);
    // As in `gemm::gemm`: the micro-kernels prefer a column-major destination, so a row-major product
    // is computed as its transpose (all strides here are positive, so no flips are needed).
    let (m, n, dst_cs, dst_rs, lhs, lhs_cs, lhs_rs, rhs, rhs_cs, rhs_rs) = if dst_cs.abs() < dst_rs.abs() {
        (n, m, dst_rs, dst_cs, rhs, rhs_rs, rhs_cs, lhs, lhs_rs, lhs_cs)
    } else {
        (m, n, dst_cs, dst_rs, lhs, lhs_cs, lhs_rs, rhs, rhs_cs, rhs_rs)
    };
    macro_rules! family {
        ($module:ident, $simd:ty, $n:expr) => {{
            use gemm_f32::microkernel::$module::f32::{H_M, H_N, H_UKR, MR_DIV_N, NR, UKR};
            const N: usize = $n;
            let simd = <$simd as MixedSimd<f32, f32, f32, f32>>::try_new().expect("kernel level above the CPU's");
            let horizontal = H_M > 0 && H_N > 0;
            let strides = Strides {
                dst_cs,
                dst_rs,
                lhs_cs,
                lhs_rs,
                rhs_cs,
                rhs_rs,
            };
            let (mut depth, mut read_dst, mut alpha) = (0, read_dst, alpha);
            for piece in depth_pieces(m, n, k, &strides, horizontal) {
                // SAFETY: forwarded from the caller (level supported, accesses in bounds, no aliasing); a
                // piece reads columns `depth..depth + piece` of lhs and the same rows of rhs.
                unsafe {
                    gemm_basic_generic::<_, f32, N, { MR_DIV_N * N }, NR, MR_DIV_N, H_M, H_N>(
                        simd,
                        m,
                        n,
                        piece,
                        dst,
                        dst_cs,
                        dst_rs,
                        read_dst,
                        lhs.wrapping_offset(depth as isize * lhs_cs),
                        lhs_cs,
                        lhs_rs,
                        rhs.wrapping_offset(depth as isize * rhs_rs),
                        rhs_cs,
                        rhs_rs,
                        alpha,
                        beta,
                        false,
                        false,
                        false,
                        |a, b, c| a * b + c,
                        &UKR,
                        &H_UKR,
                        false,
                        gemm_common::Parallelism::None,
                    )
                };
                // Later pieces add to what the first wrote, as gemm's own depth loop does.
                (depth, read_dst, alpha) = (depth + piece, true, 1.0);
            }
        }};
    }
    match level {
        // The lane counts are those `gemm_f32` instantiates (`gemm_def!(f32, 2)`): 1, 4·2 and 8·2.
        SimdLevel::Baseline => family!(scalar, gemm_common::simd::Scalar, 1),
        #[cfg(target_arch = "x86_64")]
        SimdLevel::Avx2 => family!(fma, gemm_common::simd::V3, 8),
        #[cfg(target_arch = "x86_64")]
        SimdLevel::Avx512 => family!(avx512f, gemm_common::simd::V4, 16),
        #[cfg(not(target_arch = "x86_64"))]
        _ => family!(scalar, gemm_common::simd::Scalar, 1),
    }
}

/// The strides of one product, after `sgemm`'s transposition to a column-major destination.
struct Strides {
    dst_cs: isize,
    dst_rs: isize,
    lhs_cs: isize,
    lhs_rs: isize,
    rhs_cs: isize,
    rhs_rs: isize,
}

/// The depth of each call `sgemm` makes for an `m × k` by `k × n` product, so that every CPU sums in the
/// same order. `gemm` splits a long depth into blocks sized from the L1 cache it detects (on its blocked
/// path: 512 on a 32 KiB 8-way L1, 1,024 on a 48 KiB 12-way one), and each block's partial sums are added
/// to the destination separately, so the same product rounds differently on another CPU. Its other paths
/// (tiny products summed horizontally in blocks of 1,024, matrix-vector products, depth ≤ 2, and
/// products up to 64 × 64 with blocks of 512) do not depend on the CPU and are left whole. On the blocked
/// path the depth is cut here exactly as a 32 KiB 8-way L1 (AMD Zen 2–4, most Intel cores before Ice
/// Lake) makes gemm cut it — ⌈k / 512⌉ equal blocks — and each block is one call that gemm no longer
/// splits, as every CPU's blocks are at least 512 deep.
fn depth_pieces(m: usize, n: usize, k: usize, s: &Strides, horizontal: bool) -> Vec<usize> {
    const BLOCK: usize = 512;
    let whole = m == 0
        || n == 0
        || k <= BLOCK
        || (horizontal && s.lhs_cs == 1 && s.rhs_rs == 1 && m * n <= 16 * 16)
        || (n <= 1 && s.lhs_rs == 1 && s.dst_rs == 1)
        || (n <= 1 && s.lhs_cs == 1 && s.rhs_rs == 1)
        || (m <= 1 && s.rhs_cs == 1 && s.dst_cs == 1)
        || (m <= 1 && s.rhs_rs == 1 && s.lhs_cs == 1)
        || (m <= 64 && n <= 64);
    if whole {
        return vec![k];
    }
    equal_cut(k)
}

/// ⌈k / 512⌉ blocks of equal depth (the last one shorter when 512 does not divide evenly).
fn equal_cut(k: usize) -> Vec<usize> {
    const BLOCK: usize = 512;
    let blocks = k.div_ceil(BLOCK).max(1);
    let depth = k.div_ceil(blocks).max(1);
    let mut pieces = vec![depth; k / depth];
    if !k.is_multiple_of(depth) {
        pieces.push(k % depth);
    }
    pieces
}

/// The depth blocks in which [`sgemm`] sums an `m × n` (after its transposition to a column-major
/// destination) product of depth `k` on gemm's blocked path: every output is one chain of fused
/// multiply-adds per block, from zero, added to the destination when the block ends. Up to 64 × 64
/// outputs gemm cuts the depth itself, into 512-deep blocks and the rest; above, [`depth_pieces`] cuts it
/// into equal blocks. Direct kernels that must give the product's bits sum in these blocks.
pub(crate) fn blocked_depths(m: usize, n: usize, k: usize) -> Vec<usize> {
    const BLOCK: usize = 512;
    if m <= 64 && n <= 64 {
        let mut pieces = vec![BLOCK; k / BLOCK];
        if !k.is_multiple_of(BLOCK) {
            pieces.push(k % BLOCK);
        }
        pieces
    } else {
        equal_cut(k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpu::detected_level;

    fn operands(m: usize, k: usize, n: usize) -> (Vec<f32>, Vec<f32>) {
        let a = (0..m * k).map(|i| ((i * 37 % 101) as f32 - 50.0) / 17.0).collect();
        let b = (0..k * n).map(|i| ((i * 53 % 97) as f32 - 48.0) / 13.0).collect();
        (a, b)
    }

    /// Row-major `c = a·b` on `level`.
    fn product(level: SimdLevel, a: &[f32], b: &[f32], m: usize, k: usize, n: usize) -> Vec<f32> {
        let mut c = vec![f32::NAN; m * n];
        // SAFETY: dense row-major operands of exactly these sizes; level checked by the callers.
        unsafe {
            sgemm(
                level,
                m,
                n,
                k,
                c.as_mut_ptr(),
                1,
                n as isize,
                false,
                a.as_ptr(),
                1,
                k as isize,
                b.as_ptr(),
                1,
                n as isize,
                1.0,
                1.0,
            )
        };
        c
    }

    /// Row-major `c (+)= a[:, depth] · b[depth, :]` by `gemm`'s own front (its own kernel choice and
    /// blocking), adding to `c` when `read_dst`: the reference the tests hold `sgemm` to.
    fn gemms_own(
        c: &mut [f32],
        a: &[f32],
        b: &[f32],
        (m, k, n): (usize, usize, usize),
        depth: std::ops::Range<usize>,
        read_dst: bool,
    ) {
        // SAFETY: dense row-major operands of these sizes and a depth range inside 0..k, swapped as `sgemm`
        // (and `gemm::gemm`) does for a row-major destination.
        unsafe {
            gemm_f32::gemm::f32::get_gemm_fn()(
                n,
                m,
                depth.len(),
                c.as_mut_ptr(),
                n as isize,
                1,
                read_dst,
                b.as_ptr().add(depth.start * n),
                n as isize,
                1,
                a.as_ptr().add(depth.start),
                k as isize,
                1,
                1.0,
                1.0,
                false,
                false,
                false,
                gemm_common::Parallelism::None,
            )
        };
    }

    #[test]
    fn every_supported_family_computes_the_product() {
        // Shapes of the engine's convolutions (taps × positions) and odd edges.
        for (m, k, n) in [(16, 72, 576), (10, 9, 676), (1, 1, 1), (7, 130, 33), (32, 16, 121)] {
            let (a, b) = operands(m, k, n);
            for level in SimdLevel::ALL.into_iter().filter(|&l| l <= detected_level()) {
                let c = product(level, &a, &b, m, k, n);
                for i in 0..m {
                    for j in 0..n {
                        let exact: f64 = (0..k).map(|p| a[i * k + p] as f64 * b[p * n + j] as f64).sum();
                        let scale: f64 = (0..k).map(|p| (a[i * k + p] as f64 * b[p * n + j] as f64).abs()).sum();
                        assert!(
                            (c[i * n + j] as f64 - exact).abs() <= 1e-5 * scale.max(1.0),
                            "{level} {m}×{k}×{n} at ({i},{j}): {} vs {exact}",
                            c[i * n + j]
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn the_detected_family_is_gemms_own_choice_bit_for_bit() {
        let (m, k, n) = (16, 90, 484);
        let (a, b) = operands(m, k, n);
        let ours = product(detected_level(), &a, &b, m, k, n);
        let mut theirs = vec![f32::NAN; m * n];
        gemms_own(&mut theirs, &a, &b, (m, k, n), 0..k, false);
        assert!(ours.iter().zip(&theirs).all(|(x, y)| x.to_bits() == y.to_bits()));
    }

    #[test]
    fn a_long_depth_is_cut_as_a_32k_8_way_l1_cuts_it_and_short_or_small_products_stay_whole() {
        let dense = Strides {
            dst_cs: 1,
            dst_rs: 300,
            lhs_cs: 1,
            lhs_rs: 2000,
            rhs_cs: 1,
            rhs_rs: 300,
        };
        assert_eq!(depth_pieces(16, 300, 2000, &dense, true), [500, 500, 500, 500]);
        assert_eq!(depth_pieces(16, 300, 1025, &dense, true), [342, 342, 341]);
        assert_eq!(depth_pieces(16, 300, 512, &dense, true), [512]);
        assert_eq!(
            depth_pieces(16, 64, 5000, &dense, true),
            [5000],
            "gemm's own 512 blocks up to 64 × 64"
        );
        let contiguous_depth = Strides { rhs_rs: 1, ..dense };
        assert_eq!(
            depth_pieces(300, 1, 5000, &contiguous_depth, true),
            [5000],
            "gemm's matrix-vector product"
        );
        assert_eq!(
            depth_pieces(300, 2, 5000, &contiguous_depth, true),
            [500; 10],
            "a blocked product"
        );
    }

    #[test]
    fn the_cut_product_is_gemms_own_added_block_by_block() {
        // 16 × 2000 by 2000 × 300: four blocks of 500, each one call of gemm's own front, added in order.
        let (m, k, n) = (16, 2000, 300);
        let (a, b) = operands(m, k, n);
        let ours = product(detected_level(), &a, &b, m, k, n);
        let mut theirs = vec![f32::NAN; m * n];
        for (block, depth) in (0..k).step_by(500).enumerate() {
            gemms_own(&mut theirs, &a, &b, (m, k, n), depth..depth + 500, block > 0);
        }
        assert!(ours.iter().zip(&theirs).all(|(x, y)| x.to_bits() == y.to_bits()));
    }
}
