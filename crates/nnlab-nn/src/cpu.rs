//! What the CPU offers and which kernels the engine runs on it, detected at run time: the matrix
//! products go through the `gemm` crate, which picks its kernel on first use from the features it finds.

/// The SIMD features that matter to the engine, and the GEMM kernel chosen from them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimdPath {
    /// The x86 features found (`avx2`, `fma`, `avx512f`, …), in a fixed order; empty elsewhere.
    pub features: Vec<&'static str>,
    /// The `gemm` crate's f32 kernel family on this CPU: `avx512f`, `fma` (AVX2 + FMA) or `scalar`.
    pub gemm_kernel: &'static str,
    /// Features the CPU has that this build's kernels do not use (e.g. AVX-512 while gemm's `x86-v4`
    /// kernels are not compiled in).
    pub unused: Vec<&'static str>,
}

/// Detects the features and the kernel the engine's GEMM runs on this CPU.
pub fn simd_path() -> SimdPath {
    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    {
        let mut features = Vec::new();
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
        let has = |f: &str| features.contains(&f);
        // The gemm dependency is built without its `x86-v4` feature, so its AVX-512 kernels are absent and
        // it runs its AVX2/FMA kernels wherever `fma` is detected (gemm-common's `init_gemm_fn`).
        let gemm_kernel = if has("fma") { "fma" } else { "scalar" };
        let unused = if has("avx512f") { vec!["avx512f"] } else { Vec::new() };
        SimdPath {
            features,
            gemm_kernel,
            unused,
        }
    }
    #[cfg(not(any(target_arch = "x86", target_arch = "x86_64")))]
    {
        SimdPath {
            features: Vec::new(),
            gemm_kernel: "scalar",
            unused: Vec::new(),
        }
    }
}

impl SimdPath {
    /// One line for logs: `simd: avx2 fma avx512f …; gemm kernels: fma (AVX-512 present, not used)`.
    pub fn describe(&self) -> String {
        let unused = if self.unused.is_empty() {
            String::new()
        } else {
            format!(" ({} present, not used by this build)", self.unused.join(", "))
        };
        format!(
            "simd: {}; gemm kernels: {}{unused}",
            if self.features.is_empty() {
                "none detected".to_string()
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
    fn the_kernel_follows_the_detected_features() {
        let p = simd_path();
        if p.features.contains(&"fma") {
            assert_eq!(p.gemm_kernel, "fma");
        } else {
            assert_eq!(p.gemm_kernel, "scalar");
        }
        assert!(p.describe().starts_with("simd: "));
        assert_eq!(p.unused.contains(&"avx512f"), p.features.contains(&"avx512f"));
    }
}
