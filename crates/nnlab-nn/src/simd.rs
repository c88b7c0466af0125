//! Run-time dispatch of the engine's own loops: [`multiversion!`] turns an `#[inline(always)]` body into
//! a function that runs a copy of it compiled for AVX-512, one compiled for AVX2 + FMA, or the plain
//! x86-64 one, by [`crate::cpu::level`]. The bodies are written so the compiler vectorises them (fixed
//! lane counts for sums, no data-dependent branches), and Rust never fuses `a * b + c` into an FMA on its
//! own, so every copy computes bit-identical results; only the instruction width differs.

/// `multiversion!(fn name / name_at(args) -> R = body;)`: defines `name_at(level, args)`, running a copy
/// of `body` compiled for `level` (capped at the CPU's), and `name(args)` running it at the engine's
/// level. `body` must be `#[inline(always)]` so that it is compiled into each copy.
macro_rules! multiversion {
    (
        $(#[$meta:meta])*
        $vis:vis fn $name:ident / $name_at:ident($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)? = $body:path;
    ) => {
        $(#[$meta])*
        #[allow(clippy::too_many_arguments)]
        #[inline]
        $vis fn $name($($arg: $ty),*) $(-> $ret)? {
            $name_at($crate::cpu::level(), $($arg),*)
        }

        /// As the function without `_at`, on the kernels compiled for `level` (for comparing paths).
        #[allow(clippy::too_many_arguments)]
        $vis fn $name_at(level: $crate::cpu::SimdLevel, $($arg: $ty),*) $(-> $ret)? {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f,avx2,fma")]
                #[allow(clippy::too_many_arguments)]
                fn avx512($($arg: $ty),*) $(-> $ret)? {
                    $body($($arg),*)
                }
                #[target_feature(enable = "avx2,fma")]
                #[allow(clippy::too_many_arguments)]
                fn avx2($($arg: $ty),*) $(-> $ret)? {
                    $body($($arg),*)
                }
                match level.min($crate::cpu::detected_level()) {
                    // SAFETY: the level is capped at what the CPU was detected to support.
                    $crate::cpu::SimdLevel::Avx512 => unsafe { avx512($($arg),*) },
                    // SAFETY: as above.
                    $crate::cpu::SimdLevel::Avx2 => unsafe { avx2($($arg),*) },
                    $crate::cpu::SimdLevel::Baseline => $body($($arg),*),
                }
            }
            #[cfg(not(target_arch = "x86_64"))]
            {
                let _ = level;
                $body($($arg),*)
            }
        }
    };
}

pub(crate) use multiversion;
