//! The ceiling: how many multiply-adds per second this CPU does at most on the engine's SIMD path and a
//! given number of threads, measured rather than taken from a data sheet (clock speeds under load, the
//! width at which 512-bit instructions really run and a virtual machine's share of a core are not known
//! in advance). A model's throughput read against it says how much is left: multiply-adds per image ×
//! images per second ÷ peak.
//!
//! Each thread runs independent chains of fused multiply-adds on registers only — twelve of them, more
//! than the latency × issue rate of any current core, so the chains never wait on each other — and no
//! memory is touched. The baseline path has no fused instruction; it counts a multiply and an add as one.

use std::time::Instant;

use crate::cpu::{self, SimdLevel};

/// One measurement of the peak rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Peak {
    /// Multiply-adds per second, all threads together.
    pub macs_per_sec: f64,
    /// Threads that ran at once.
    pub threads: usize,
    /// Floats per instruction on the path measured.
    pub lanes: usize,
    /// The SIMD path measured.
    pub level: SimdLevel,
}

/// Independent chains per thread.
const CHAINS: usize = 12;

/// The peak multiply-add rate on the engine's SIMD level with `threads` threads running at once: the best
/// of three runs of about `millis` milliseconds each.
pub fn peak_fma_rate(threads: usize, millis: u64) -> Peak {
    peak_fma_rate_at(cpu::level(), threads, millis)
}

/// [`peak_fma_rate`] on the kernels of `level` (capped at the CPU's).
pub fn peak_fma_rate_at(level: SimdLevel, threads: usize, millis: u64) -> Peak {
    let level = level.min(cpu::detected_level());
    let threads = threads.max(1);
    let lanes = lanes(level);
    // Calibrate the rounds so one run takes about `millis` ms on one thread.
    let mut rounds = 1 << 14;
    loop {
        let t = Instant::now();
        std::hint::black_box(burst(level, rounds));
        let ms = t.elapsed().as_secs_f64() * 1e3;
        if ms * 8.0 >= millis as f64 || rounds >= 1 << 30 {
            rounds = ((rounds as f64) * millis as f64 / ms.max(1e-3)).clamp(1.0, (1u64 << 32) as f64) as usize;
            break;
        }
        rounds *= 8;
    }
    let best = (0..3)
        .map(|_| {
            let t = Instant::now();
            std::thread::scope(|s| {
                for _ in 0..threads {
                    s.spawn(|| std::hint::black_box(burst(level, rounds)));
                }
            });
            (threads * rounds * CHAINS * lanes) as f64 / t.elapsed().as_secs_f64()
        })
        .fold(0.0, f64::max);
    Peak {
        macs_per_sec: best,
        threads,
        lanes,
        level,
    }
}

/// Floats per fused multiply-add instruction on `level`.
fn lanes(level: SimdLevel) -> usize {
    match level {
        SimdLevel::Avx512 => 16,
        SimdLevel::Avx2 => 8,
        SimdLevel::Baseline => BASELINE_LANES,
    }
}

/// The baseline loop's lanes: the compiler runs its chains in SSE registers of four.
const BASELINE_LANES: usize = 4;

/// `rounds` rounds of `CHAINS` multiply-adds of `lanes(level)` floats; returns a value the chains feed.
fn burst(level: SimdLevel, rounds: usize) -> f32 {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: the level is capped at the CPU's by the caller, so its instructions exist.
    match level {
        SimdLevel::Avx512 => return unsafe { fma::burst_avx512(rounds) },
        SimdLevel::Avx2 => return unsafe { fma::burst_avx2(rounds) },
        SimdLevel::Baseline => {}
    }
    let _ = level;
    burst_scalar(rounds)
}

/// The baseline: `CHAINS` × 4 independent multiply-then-add chains.
fn burst_scalar(rounds: usize) -> f32 {
    let (a, b) = (std::hint::black_box(0.999_9f32), std::hint::black_box(1e-4f32));
    let mut acc = [[1.0f32; BASELINE_LANES]; CHAINS];
    for _ in 0..rounds {
        for chain in acc.iter_mut() {
            for v in chain.iter_mut() {
                *v = *v * a + b;
            }
        }
    }
    acc.iter().flatten().sum()
}

#[cfg(target_arch = "x86_64")]
mod fma {
    use super::CHAINS;
    use crate::vector::{Vector, Ymm, Zmm};

    /// # Safety
    /// The CPU must have AVX-512F.
    #[target_feature(enable = "avx512f,avx512vl,avx2,fma")]
    pub(super) unsafe fn burst_avx512(rounds: usize) -> f32 {
        // SAFETY: forwarded.
        unsafe { burst::<Zmm>(rounds) }
    }

    /// # Safety
    /// The CPU must have AVX2 and FMA.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn burst_avx2(rounds: usize) -> f32 {
        // SAFETY: forwarded.
        unsafe { burst::<Ymm>(rounds) }
    }

    /// `CHAINS` registers, each `acc = acc·a + b` `rounds` times.
    #[inline(always)]
    unsafe fn burst<V: Vector>(rounds: usize) -> f32 {
        let (a, b) = (std::hint::black_box(0.999_9f32), std::hint::black_box(1e-4f32));
        // SAFETY (every vector operation): the callers enable the width's instructions; stores write
        // a local array of 16 floats.
        let (a, b) = unsafe { (V::splat(&a), V::splat(&b)) };
        let mut acc = [unsafe { V::splat(&1.0) }; CHAINS];
        for _ in 0..rounds {
            for s in acc.iter_mut() {
                *s = unsafe { V::mul_add(*s, a, b) };
            }
        }
        let mut sum = 0.0;
        for s in acc {
            let mut vals = [0.0f32; 16];
            unsafe { s.store(vals.as_mut_ptr()) };
            sum += vals[..V::LANES].iter().sum::<f32>();
        }
        sum
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The probe runs on every path the CPU has, and a wider path is not slower per thread.
    #[test]
    fn every_path_measures_a_positive_rate() {
        let mut last = 0.0;
        for level in SimdLevel::ALL.into_iter().filter(|&l| l <= cpu::detected_level()) {
            let p = peak_fma_rate_at(level, 1, 20);
            assert_eq!((p.level, p.threads), (level, 1));
            assert!(p.macs_per_sec > 1e8, "{level}: {}", p.macs_per_sec);
            // Lanes double from path to path; allow for a busy machine.
            assert!(p.macs_per_sec > 0.5 * last, "{level}: {} after {last}", p.macs_per_sec);
            last = p.macs_per_sec;
        }
    }

    /// The chains compute what they claim (so the compiler cannot drop them): 1 → 1·a + b, repeatedly.
    #[test]
    fn the_chains_compute_the_recurrence() {
        let mut v = 1.0f32;
        for _ in 0..100 {
            v = v * 0.999_9 + 1e-4;
        }
        let want = v * (CHAINS * BASELINE_LANES) as f32;
        assert!((burst_scalar(100) - want).abs() < 1e-3 * want);
    }
}
