//! One register of floats for the engine's hand-written kernels (the direct convolutions, the peak-rate
//! probe), 8 lanes (AVX2) or 16 (AVX-512), so that a
//! kernel is written once and compiled for each width. On CPUs that run 512-bit instructions at full width
//! (this project's AMD EPYC, Zen 5, and Intel's Xeons) a 16-lane fused multiply-add does twice the work of
//! an 8-lane one in the same time. Each output is still one chain of fused multiply-adds whatever the
//! width, so both widths give the same bits.

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::{
    __m256, __m512, _mm256_add_ps, _mm256_broadcast_ss, _mm256_fmadd_ps, _mm256_loadu_ps, _mm256_maskstore_ps,
    _mm256_setr_epi32, _mm256_setzero_ps, _mm256_storeu_ps, _mm512_add_ps, _mm512_fmadd_ps, _mm512_loadu_ps,
    _mm512_mask_storeu_ps, _mm512_set1_ps, _mm512_setzero_ps, _mm512_storeu_ps,
};

/// A register of `LANES` floats and the few operations the direct kernels use.
///
/// # Safety
/// Every method needs the instructions of its width (AVX2 + FMA, or AVX-512F) enabled in the caller, and
/// the pointers must be valid for the lanes read or written.
#[cfg(target_arch = "x86_64")]
pub(crate) trait Vector: Copy {
    /// Floats per register.
    const LANES: usize;
    /// All lanes zero.
    unsafe fn zero() -> Self;
    /// `LANES` floats from `p`.
    unsafe fn load(p: *const f32) -> Self;
    /// One float in every lane.
    unsafe fn splat(v: &f32) -> Self;
    /// `a·b + c`, rounded once.
    unsafe fn mul_add(a: Self, b: Self, c: Self) -> Self;
    /// `a + b`.
    unsafe fn add(a: Self, b: Self) -> Self;
    /// All lanes to `p`.
    unsafe fn store(self, p: *mut f32);
    /// Lanes `lo..hi` to `p + lo .. p + hi`; nothing else is written, so `p` itself may lie before the
    /// buffer (make it with `wrapping_sub`).
    unsafe fn store_lanes(self, p: *mut f32, lo: usize, hi: usize);
}

/// The AVX2 register: eight lanes.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
pub(crate) struct Ymm(__m256);

/// The AVX-512 register: sixteen lanes.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
pub(crate) struct Zmm(__m512);

/// The AVX2 mask of lanes `lo..hi`.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn lanes_mask(lo: usize, hi: usize) -> std::arch::x86_64::__m256i {
    let on = |l: i32| -i32::from((lo..hi).contains(&(l as usize)));
    // SAFETY: only called from AVX2 contexts (the trait's contract).
    unsafe { _mm256_setr_epi32(on(0), on(1), on(2), on(3), on(4), on(5), on(6), on(7)) }
}

// SAFETY (every method of both impls): the trait's contract — the caller enables the width's instructions
// and passes pointers valid for the lanes touched.
#[cfg(target_arch = "x86_64")]
impl Vector for Ymm {
    const LANES: usize = 8;
    #[inline(always)]
    unsafe fn zero() -> Self {
        Self(unsafe { _mm256_setzero_ps() })
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self {
        Self(unsafe { _mm256_loadu_ps(p) })
    }
    #[inline(always)]
    unsafe fn splat(v: &f32) -> Self {
        Self(unsafe { _mm256_broadcast_ss(v) })
    }
    #[inline(always)]
    unsafe fn mul_add(a: Self, b: Self, c: Self) -> Self {
        Self(unsafe { _mm256_fmadd_ps(a.0, b.0, c.0) })
    }
    #[inline(always)]
    unsafe fn add(a: Self, b: Self) -> Self {
        Self(unsafe { _mm256_add_ps(a.0, b.0) })
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f32) {
        unsafe { _mm256_storeu_ps(p, self.0) }
    }
    #[inline(always)]
    unsafe fn store_lanes(self, p: *mut f32, lo: usize, hi: usize) {
        unsafe { _mm256_maskstore_ps(p, lanes_mask(lo, hi), self.0) }
    }
}

#[cfg(target_arch = "x86_64")]
impl Vector for Zmm {
    const LANES: usize = 16;
    #[inline(always)]
    unsafe fn zero() -> Self {
        Self(unsafe { _mm512_setzero_ps() })
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self {
        Self(unsafe { _mm512_loadu_ps(p) })
    }
    #[inline(always)]
    unsafe fn splat(v: &f32) -> Self {
        Self(unsafe { _mm512_set1_ps(*v) })
    }
    #[inline(always)]
    unsafe fn mul_add(a: Self, b: Self, c: Self) -> Self {
        Self(unsafe { _mm512_fmadd_ps(a.0, b.0, c.0) })
    }
    #[inline(always)]
    unsafe fn add(a: Self, b: Self) -> Self {
        Self(unsafe { _mm512_add_ps(a.0, b.0) })
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f32) {
        unsafe { _mm512_storeu_ps(p, self.0) }
    }
    #[inline(always)]
    unsafe fn store_lanes(self, p: *mut f32, lo: usize, hi: usize) {
        let mask = (((1u32 << hi) - 1) & !((1u32 << lo) - 1)) as u16;
        unsafe { _mm512_mask_storeu_ps(p, mask, self.0) }
    }
}
