//! im2col and its adjoint col2im: the columns a convolution's matrix product reads, for any stride,
//! padding and dilation (stride 1 and dilation 1 copy whole row segments), and the geometry they share.

use crate::simd::multiversion;

/// Where one kernel tap reads: the geometry im2col and col2im share.
#[derive(Debug, Clone, Copy)]
pub(super) struct Geometry {
    pub(super) cin: usize,
    pub(super) h: usize,
    pub(super) w: usize,
    pub(super) k: usize,
    pub(super) stride: usize,
    pub(super) pad: usize,
    pub(super) dilation: usize,
    pub(super) oh: usize,
    pub(super) ow: usize,
}

impl Geometry {
    /// The outputs `lo..hi` along an axis of length `n` (output length `on`) whose input position
    /// `o·stride + offset − pad` lies inside the axis.
    pub(super) fn valid(&self, n: usize, on: usize, offset: usize) -> (usize, usize) {
        let lo = if offset >= self.pad {
            0
        } else {
            (self.pad - offset).div_ceil(self.stride)
        };
        let hi = if n + self.pad > offset {
            ((n - 1 + self.pad - offset) / self.stride + 1).min(on)
        } else {
            0
        };
        (lo, hi.max(lo))
    }

    /// Calls `f(tap, oy, lo, hi, start)` for every kernel tap (row of the columns) and output row: the
    /// outputs `lo..hi` of that row read the input from index `start` on (stepping by the stride), and
    /// `start` is `None` when the row's input row lies in the padding.
    #[inline(always)]
    fn for_each_row(&self, mut f: impl FnMut(usize, usize, usize, usize, Option<usize>)) {
        let (k, d, s) = (self.k, self.dilation, self.stride);
        for c in 0..self.cin {
            for ky in 0..k {
                for kx in 0..k {
                    let tap = (c * k + ky) * k + kx;
                    let (lo, hi) = self.valid(self.w, self.ow, kx * d);
                    for oy in 0..self.oh {
                        let iy = oy * s + ky * d;
                        let src = (iy >= self.pad && iy - self.pad < self.h)
                            .then(|| c * self.h * self.w + (iy - self.pad) * self.w + lo * s + kx * d - self.pad);
                        f(tap, oy, lo, hi, src);
                    }
                }
            }
        }
    }
}

/// `im2col` for stride 1 and dilation 1, copying whole row segments: the hot path of most models.
#[inline(always)]
fn im2col_unit(x: &[f32], g: &Geometry, cols: &mut [f32]) {
    let Geometry {
        cin,
        h,
        w,
        k,
        pad,
        oh,
        ow,
        ..
    } = *g;
    for c in 0..cin {
        let plane = &x[c * h * w..][..h * w];
        for ky in 0..k {
            for kx in 0..k {
                let row = &mut cols[((c * k + ky) * k + kx) * oh * ow..][..oh * ow];
                let (lo, hi) = g.valid(w, ow, kx);
                for (oy, out) in row.chunks_exact_mut(ow).enumerate() {
                    let iy = oy + ky;
                    if iy < pad || iy >= h + pad {
                        out.fill(0.0);
                        continue;
                    }
                    let src = &plane[(iy - pad) * w..][..w];
                    // Only rows at the border have padding: skip the (library-call) fills elsewhere.
                    if lo > 0 {
                        out[..lo].fill(0.0);
                    }
                    if hi < ow {
                        out[hi..].fill(0.0);
                    }
                    out[lo..hi].copy_from_slice(&src[lo + kx - pad..hi + kx - pad]);
                }
            }
        }
    }
}

/// `col2im` for stride 1 and dilation 1.
#[inline(always)]
fn col2im_unit(cols: &[f32], g: &Geometry, dx: &mut [f32]) {
    let Geometry {
        cin,
        h,
        w,
        k,
        pad,
        oh,
        ow,
        ..
    } = *g;
    for c in 0..cin {
        let plane = &mut dx[c * h * w..][..h * w];
        for ky in 0..k {
            for kx in 0..k {
                let row = &cols[((c * k + ky) * k + kx) * oh * ow..][..oh * ow];
                let (lo, hi) = g.valid(w, ow, kx);
                for (oy, src) in row.chunks_exact(ow).enumerate() {
                    let iy = oy + ky;
                    if iy < pad || iy >= h + pad {
                        continue;
                    }
                    let dst = &mut plane[(iy - pad) * w..][..w][lo + kx - pad..hi + kx - pad];
                    dst.iter_mut().zip(&src[lo..hi]).for_each(|(d, s)| *d += s);
                }
            }
        }
    }
}

/// `out[j] = src[j·stride]`, with the stride a constant for the common stride 2 (so the loop has no
/// bounds checks and compiles to strided loads).
#[inline(always)]
fn gather(out: &mut [f32], src: &[f32], stride: usize) {
    fn fixed<const S: usize>(out: &mut [f32], src: &[f32]) {
        if out.is_empty() {
            return;
        }
        let src = &src[..(out.len() - 1) * S + 1];
        for (j, o) in out.iter_mut().enumerate() {
            *o = src[j * S];
        }
    }
    match stride {
        2 => fixed::<2>(out, src),
        _ => out
            .iter_mut()
            .zip(src.iter().step_by(stride))
            .for_each(|(o, v)| *o = *v),
    }
}

/// `dst[j·stride] += from[j]`: the adjoint of `gather`.
#[inline(always)]
fn scatter_add(dst: &mut [f32], from: &[f32], stride: usize) {
    fn fixed<const S: usize>(dst: &mut [f32], from: &[f32]) {
        if from.is_empty() {
            return;
        }
        let dst = &mut dst[..(from.len() - 1) * S + 1];
        for (j, v) in from.iter().enumerate() {
            dst[j * S] += v;
        }
    }
    match stride {
        2 => fixed::<2>(dst, from),
        _ => dst.iter_mut().step_by(stride).zip(from).for_each(|(d, v)| *d += v),
    }
}

multiversion! {
    /// Unfolds one image [cin, h, w] into columns [cin·k·k, oh·ow] (on the engine's SIMD level).
    pub(super) fn im2col / im2col_at(x: &[f32], g: &Geometry, cols: &mut [f32]) = im2col_body;
}

multiversion! {
    /// Folds columns back into an image, adding into `dx` (which starts at zero): the adjoint of `im2col`
    /// (on the engine's SIMD level).
    pub(super) fn col2im / col2im_at(cols: &[f32], g: &Geometry, dx: &mut [f32]) = col2im_body;
}

#[inline(always)]
fn im2col_body(x: &[f32], g: &Geometry, cols: &mut [f32]) {
    if g.stride == 1 && g.dilation == 1 {
        return im2col_unit(x, g, cols);
    }
    let (p, ow, s) = (g.oh * g.ow, g.ow, g.stride);
    g.for_each_row(|tap, oy, lo, hi, src| {
        let out = &mut cols[tap * p + oy * ow..][..ow];
        match src {
            None => out.fill(0.0),
            Some(start) => {
                if lo > 0 {
                    out[..lo].fill(0.0);
                }
                if hi < ow {
                    out[hi..].fill(0.0);
                }
                if s == 1 {
                    out[lo..hi].copy_from_slice(&x[start..start + hi - lo]);
                } else {
                    gather(&mut out[lo..hi], &x[start..], s);
                }
            }
        }
    });
}

#[inline(always)]
fn col2im_body(cols: &[f32], g: &Geometry, dx: &mut [f32]) {
    if g.stride == 1 && g.dilation == 1 {
        return col2im_unit(cols, g, dx);
    }
    let (p, ow, s) = (g.oh * g.ow, g.ow, g.stride);
    g.for_each_row(|tap, oy, lo, hi, src| {
        if let Some(start) = src {
            let from = &cols[tap * p + oy * ow..][..ow][lo..hi];
            if s == 1 {
                dx[start..start + hi - lo]
                    .iter_mut()
                    .zip(from)
                    .for_each(|(d, v)| *d += v);
            } else {
                scatter_add(&mut dx[start..], from, s);
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpu::{SimdLevel, detected_level};
    use crate::layers::gradcheck::random_tensor;

    /// Every SIMD copy of im2col and col2im gives the baseline's bits, for unit and general geometry.
    #[test]
    fn every_simd_path_unfolds_and_folds_bit_identically() {
        for (k, stride, pad, dilation) in [(3, 1, 0, 1), (3, 1, 1, 1), (3, 2, 1, 1), (3, 1, 2, 2), (1, 1, 0, 1)] {
            let (cin, h, w) = (3, 11, 13);
            let span = dilation * (k - 1) + 1;
            let (oh, ow) = ((h + 2 * pad - span) / stride + 1, (w + 2 * pad - span) / stride + 1);
            let g = Geometry {
                cin,
                h,
                w,
                k,
                stride,
                pad,
                dilation,
                oh,
                ow,
            };
            let x = random_tensor([1, cin, h, w], 7).data.to_vec();
            let d = random_tensor([1, cin * k * k, oh, ow], 8).data.to_vec();
            let run = |level| {
                let mut cols = vec![f32::NAN; cin * k * k * oh * ow];
                im2col_at(level, &x, &g, &mut cols);
                let mut dx = vec![0.0; cin * h * w];
                col2im_at(level, &d, &g, &mut dx);
                (
                    cols.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                    dx.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                )
            };
            let base = run(SimdLevel::Baseline);
            for level in SimdLevel::ALL.into_iter().filter(|&l| l <= detected_level()) {
                assert_eq!(
                    run(level),
                    base,
                    "{level}: k {k} stride {stride} pad {pad} dilation {dilation}"
                );
            }
        }
    }
}
