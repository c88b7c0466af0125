//! What the CPU offers and which code paths the engine runs on it, chosen at run time: one binary runs
//! AVX-512 kernels where the CPU has AVX-512, AVX2/FMA kernels where it has those, and plain x86-64 code
//! elsewhere. The level can be capped (the CLI reads `NNLAB_SIMD`), so the paths can be compared on one
//! machine and the bit-identical training test can pin the AVX2 path wherever it exists.

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU8, Ordering};

/// A family of code paths, from the plain x86-64 baseline up. Ordered: a higher level needs more features.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SimdLevel {
    /// Plain x86-64 (SSE2) code and `gemm`'s scalar kernels: what a CPU without AVX2/FMA runs.
    Baseline,
    /// AVX2 + FMA: `gemm`'s `fma` kernels and the engine's loops compiled for AVX2.
    Avx2,
    /// AVX-512F (with AVX2 + FMA): `gemm`'s `avx512f` kernels and the engine's loops compiled for AVX-512.
    Avx512,
}

impl SimdLevel {
    /// Every level, lowest first.
    pub const ALL: [SimdLevel; 3] = [SimdLevel::Baseline, SimdLevel::Avx2, SimdLevel::Avx512];

    /// The name used by `NNLAB_SIMD` and printed by `bench`: `baseline`, `avx2`, `avx512`.
    pub fn name(self) -> &'static str {
        match self {
            SimdLevel::Baseline => "baseline",
            SimdLevel::Avx2 => "avx2",
            SimdLevel::Avx512 => "avx512",
        }
    }

    /// The `gemm` kernel family this level runs: `scalar`, `fma` or `avx512f`.
    pub fn gemm_kernel(self) -> &'static str {
        match self {
            SimdLevel::Baseline => "scalar",
            SimdLevel::Avx2 => "fma",
            SimdLevel::Avx512 => "avx512f",
        }
    }

    fn from_u8(v: u8) -> Self {
        Self::ALL[v as usize]
    }
}

impl fmt::Display for SimdLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A `NNLAB_SIMD`-style level name that is not one of `baseline`, `avx2`, `avx512`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown SIMD level '{0}' (expected baseline, avx2 or avx512)")]
pub struct UnknownLevel(pub String);

impl FromStr for SimdLevel {
    type Err = UnknownLevel;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "baseline" | "none" | "scalar" => Ok(SimdLevel::Baseline),
            "avx2" | "fma" => Ok(SimdLevel::Avx2),
            "avx512" | "avx512f" => Ok(SimdLevel::Avx512),
            _ => Err(UnknownLevel(s.to_string())),
        }
    }
}

/// A cap above what this CPU can run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("this CPU cannot run the {wanted} path (it supports up to {detected})")]
pub struct Unsupported {
    /// The level asked for.
    pub wanted: SimdLevel,
    /// The highest level the CPU supports.
    pub detected: SimdLevel,
}

/// The highest level this CPU supports (AVX-512 needs AVX-512F/VL, AVX2 and FMA; AVX2 needs AVX2 and FMA),
/// detected once: every dispatched call caps its level with it.
#[inline]
pub fn detected_level() -> SimdLevel {
    static DETECTED: std::sync::OnceLock<SimdLevel> = std::sync::OnceLock::new();
    *DETECTED.get_or_init(detect)
}

fn detect() -> SimdLevel {
    #[cfg(target_arch = "x86_64")]
    {
        let v3 = std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma");
        // The direct kernels use AVX-512VL's 32 registers for 8-lane work too; every AVX-512 CPU since
        // Skylake-SP has it (only the Xeon Phi had AVX-512F alone, and runs the AVX2 path).
        let v4 = std::arch::is_x86_feature_detected!("avx512f") && std::arch::is_x86_feature_detected!("avx512vl");
        if v3 && v4 {
            SimdLevel::Avx512
        } else if v3 {
            SimdLevel::Avx2
        } else {
            SimdLevel::Baseline
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        SimdLevel::Baseline
    }
}

/// `u8::MAX` until first use, then the level in effect.
static LEVEL: AtomicU8 = AtomicU8::new(u8::MAX);

/// The level the engine runs at: the detected one, or lower after [`cap_level`].
#[inline]
pub fn level() -> SimdLevel {
    match LEVEL.load(Ordering::Relaxed) {
        u8::MAX => {
            let detected = detected_level();
            // Only the first caller's store matters; a racing `cap_level` wins because it stores after.
            let _ = LEVEL.compare_exchange(u8::MAX, detected as u8, Ordering::Relaxed, Ordering::Relaxed);
            SimdLevel::from_u8(LEVEL.load(Ordering::Relaxed))
        }
        v => SimdLevel::from_u8(v),
    }
}

/// Makes the engine run at `wanted` from now on (for comparing paths); refused above the CPU's level.
/// Returns the level now in effect.
pub fn cap_level(wanted: SimdLevel) -> Result<SimdLevel, Unsupported> {
    let detected = detected_level();
    if wanted > detected {
        return Err(Unsupported { wanted, detected });
    }
    LEVEL.store(wanted as u8, Ordering::Relaxed);
    Ok(wanted)
}

/// The SIMD features that matter to the engine, and the paths chosen from them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimdPath {
    /// The x86 features found (`avx2`, `fma`, `avx512f`, …), in a fixed order; empty elsewhere.
    pub features: Vec<&'static str>,
    /// The level the engine runs at now.
    pub level: SimdLevel,
    /// The highest level the CPU supports (above `level` when capped).
    pub detected: SimdLevel,
    /// The `gemm` f32 kernel family in use: `avx512f`, `fma` (AVX2 + FMA) or `scalar`.
    pub gemm_kernel: &'static str,
}

/// Detects the features and reports the paths the engine runs on this CPU.
pub fn simd_path() -> SimdPath {
    let mut features = Vec::new();
    #[cfg(target_arch = "x86_64")]
    {
        macro_rules! probe {
            ($($name:tt),*) => {$(
                if std::arch::is_x86_feature_detected!($name) {
                    features.push($name);
                }
            )*};
        }
        probe!(
            "sse4.2",
            "avx",
            "avx2",
            "fma",
            "avx512f",
            "avx512bw",
            "avx512vl",
            "avx512vnni"
        );
    }
    let level = level();
    SimdPath {
        features,
        level,
        detected: detected_level(),
        gemm_kernel: level.gemm_kernel(),
    }
}

impl SimdPath {
    /// One line for logs: `simd: avx512 (cpu: avx2 fma avx512f …); gemm kernels: avx512f`, with
    /// `, capped from avx512` when a cap is in effect.
    pub fn describe(&self) -> String {
        let capped = if self.level < self.detected {
            format!(", capped from {}", self.detected)
        } else {
            String::new()
        };
        format!(
            "simd: {}{capped} (cpu: {}); gemm kernels: {}",
            self.level,
            if self.features.is_empty() {
                "no x86 SIMD features detected".to_string()
            } else {
                self.features.join(" ")
            },
            self.gemm_kernel
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_detected_level_follows_the_features() {
        let p = simd_path();
        let has = |f| p.features.contains(&f);
        let expected = if has("avx2") && has("fma") && has("avx512f") {
            SimdLevel::Avx512
        } else if has("avx2") && has("fma") {
            SimdLevel::Avx2
        } else {
            SimdLevel::Baseline
        };
        assert_eq!(p.detected, expected);
        assert!(p.level <= p.detected);
        assert_eq!(p.gemm_kernel, p.level.gemm_kernel());
        assert!(p.describe().starts_with("simd: "));
    }

    #[test]
    fn level_names_parse_and_print() {
        for l in SimdLevel::ALL {
            assert_eq!(l.name().parse::<SimdLevel>(), Ok(l));
        }
        assert_eq!(" AVX512 ".parse::<SimdLevel>(), Ok(SimdLevel::Avx512));
        let err = "sse9".parse::<SimdLevel>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown SIMD level 'sse9' (expected baseline, avx2 or avx512)"
        );
    }

    #[test]
    fn a_cap_above_the_cpu_is_refused() {
        if detected_level() < SimdLevel::Avx512 {
            let err = cap_level(SimdLevel::Avx512).unwrap_err();
            assert_eq!(err.wanted, SimdLevel::Avx512);
            assert!(err.to_string().starts_with("this CPU cannot run the avx512 path"));
        }
    }
}
