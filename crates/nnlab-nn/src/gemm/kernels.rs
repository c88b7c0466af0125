//! SGEMM on the kernel family of a chosen [`SimdLevel`], rather than the one `gemm` picks by itself.
//!
//! The `gemm` crate chooses its micro-kernels once per process from the CPU's features and offers no way
//! to choose them, so a slower path could not be run for comparison, nor one path pinned for a
//! bit-identical test. This is `gemm::gemm`'s own front for f32 (its operand normalisation, then
//! `gemm_basic_generic` with one family's micro-kernels, exactly as `gemm_f32`'s `gemm_def!` instantiates
//! them), with the family chosen by the caller. The versions are pinned (`=0.19.0`) because these are the
//! crates' public but low-level items.

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
            // SAFETY: forwarded from the caller (level supported, accesses in bounds, no aliasing).
            unsafe {
                gemm_basic_generic::<_, f32, N, { MR_DIV_N * N }, NR, MR_DIV_N, H_M, H_N>(
                    <$simd as MixedSimd<f32, f32, f32, f32>>::try_new().expect("kernel level above the CPU's"),
                    m,
                    n,
                    k,
                    dst,
                    dst_cs,
                    dst_rs,
                    read_dst,
                    lhs,
                    lhs_cs,
                    lhs_rs,
                    rhs,
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
        // SAFETY: as in `product`, with the operands swapped as `sgemm` (and `gemm::gemm`) does for a
        // row-major destination.
        unsafe {
            gemm_f32::gemm::f32::get_gemm_fn()(
                n,
                m,
                k,
                theirs.as_mut_ptr(),
                n as isize,
                1,
                false,
                b.as_ptr(),
                n as isize,
                1,
                a.as_ptr(),
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
        assert!(ours.iter().zip(&theirs).all(|(x, y)| x.to_bits() == y.to_bits()));
    }
}
