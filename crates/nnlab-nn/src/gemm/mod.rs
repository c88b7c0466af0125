//! A safe front for the `gemm` crate's SGEMM on row-major matrices, optionally transposed, on the kernel
//! family of the engine's SIMD level ([`crate::cpu::level`]).

mod kernels;

pub(crate) use kernels::blocked_depths;

use crate::cpu::{self, SimdLevel};

/// A row-major matrix view, or the transpose of one.
#[derive(Debug, Clone, Copy)]
pub struct Mat<'a> {
    data: &'a [f32],
    rows: usize,
    cols: usize,
    row_stride: isize,
    col_stride: isize,
}

impl<'a> Mat<'a> {
    /// `rows × cols`, stored row-major.
    pub fn new(data: &'a [f32], rows: usize, cols: usize) -> Self {
        assert!(
            data.len() >= rows * cols,
            "matrix {rows}×{cols} needs {} values, has {}",
            rows * cols,
            data.len()
        );
        Self {
            data,
            rows,
            cols,
            row_stride: cols as isize,
            col_stride: 1,
        }
    }

    /// The transpose of a row-major `rows × cols` matrix (so this view is `cols × rows`).
    pub fn transposed(data: &'a [f32], rows: usize, cols: usize) -> Self {
        assert!(data.len() >= rows * cols);
        Self {
            data,
            rows: cols,
            cols: rows,
            row_stride: 1,
            col_stride: cols as isize,
        }
    }
}

/// `c = a·b` (or `c += a·b` when `accumulate`), with `c` row-major `a.rows × b.cols`, single-threaded,
/// on the kernels of the engine's current SIMD level.
pub fn matmul(a: Mat, b: Mat, c: &mut [f32], accumulate: bool) {
    matmul_at(cpu::level(), a, b, c, accumulate);
}

/// [`matmul`] on the kernels of `level` (for comparing paths); a level above the CPU's runs the CPU's.
pub fn matmul_at(level: SimdLevel, a: Mat, b: Mat, c: &mut [f32], accumulate: bool) {
    assert_eq!(a.cols, b.rows, "inner dimensions differ");
    let (m, n, k) = (a.rows, b.cols, a.cols);
    assert!(c.len() >= m * n);
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            c[..m * n].fill(0.0);
        }
        return;
    }
    let level = level.min(cpu::detected_level());
    // SAFETY: the asserts above guarantee every index the strides reach lies inside the slices, `c` does
    // not alias `a` or `b` (it is borrowed mutably), and the level is one this CPU supports.
    unsafe {
        kernels::sgemm(
            level,
            m,
            n,
            k,
            c.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            a.data.as_ptr(),
            a.col_stride,
            a.row_stride,
            b.data.as_ptr(),
            b.col_stride,
            b.row_stride,
            1.0,
            1.0,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_a_naive_product_in_every_orientation() {
        let (m, k, n) = (3, 4, 5);
        let a: Vec<f32> = (0..m * k).map(|i| i as f32 * 0.5 - 2.0).collect();
        let b: Vec<f32> = (0..k * n).map(|i| (i as f32).sin()).collect();
        let naive = |i: usize, j: usize| (0..k).map(|p| a[i * k + p] * b[p * n + j]).sum::<f32>();
        let mut c = vec![0.0; m * n];
        matmul(Mat::new(&a, m, k), Mat::new(&b, k, n), &mut c, false);
        for i in 0..m {
            for j in 0..n {
                assert!((c[i * n + j] - naive(i, j)).abs() < 1e-4);
            }
        }
        // aᵀ stored as k×m, bᵀ stored as n×k.
        let at: Vec<f32> = (0..k * m).map(|x| a[(x % m) * k + x / m]).collect();
        let bt: Vec<f32> = (0..n * k).map(|x| b[(x % k) * n + x / k]).collect();
        let mut c2 = vec![1.0; m * n];
        matmul(Mat::transposed(&at, k, m), Mat::transposed(&bt, n, k), &mut c2, true);
        for i in 0..m {
            for j in 0..n {
                assert!((c2[i * n + j] - 1.0 - naive(i, j)).abs() < 1e-4);
            }
        }
    }
}
