//! Turns any photo or scan of one digit into an MNIST-style image: grey, light digit on dark, fitted
//! into 20×20 and centred by its centre of mass in 28×28 (as the MNIST images were made).

use thiserror::Error;

use crate::data::{PIXELS, SIDE};

/// Why an image cannot be turned into a digit.
#[derive(Debug, Error, PartialEq)]
pub enum PreprocessError {
    /// Nothing stands out from the background.
    #[error("no digit found (the image is blank or has no contrast)")]
    Blank,
}

/// A grey image, values in [0, 1], row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct Grey {
    /// Width.
    pub width: usize,
    /// Height.
    pub height: usize,
    /// Values in [0, 1].
    pub pixels: Vec<f32>,
}

/// Bilinear sample with edge clamping.
fn sample(g: &Grey, y: f32, x: f32) -> f32 {
    let y = y.clamp(0.0, (g.height - 1) as f32);
    let x = x.clamp(0.0, (g.width - 1) as f32);
    let (y0, x0) = (y.floor() as usize, x.floor() as usize);
    let (y1, x1) = ((y0 + 1).min(g.height - 1), (x0 + 1).min(g.width - 1));
    let (dy, dx) = (y - y0 as f32, x - x0 as f32);
    let p = |r: usize, c: usize| g.pixels[r * g.width + c];
    (1.0 - dy) * ((1.0 - dx) * p(y0, x0) + dx * p(y0, x1)) + dy * ((1.0 - dx) * p(y1, x0) + dx * p(y1, x1))
}

/// Area-averaged resize of the box [top, top+h) × [left, left+w) of `g` to `out_w`×`out_h`.
fn resize_box(g: &Grey, top: usize, left: usize, h: usize, w: usize, out_h: usize, out_w: usize) -> Vec<f32> {
    let (sy, sx) = (h as f32 / out_h as f32, w as f32 / out_w as f32);
    // Supersample each output pixel on a grid fine enough to average the source pixels it covers.
    let n = (sy.max(sx).ceil() as usize).clamp(1, 8) * 2;
    let mut out = vec![0.0; out_h * out_w];
    for r in 0..out_h {
        for c in 0..out_w {
            let mut acc = 0.0;
            for i in 0..n {
                for j in 0..n {
                    let y = top as f32 + (r as f32 + (i as f32 + 0.5) / n as f32) * sy - 0.5;
                    let x = left as f32 + (c as f32 + (j as f32 + 0.5) / n as f32) * sx - 0.5;
                    acc += sample(g, y, x);
                }
            }
            out[r * out_w + c] = acc / (n * n) as f32;
        }
    }
    out
}

/// The MNIST-style 28×28 version of `g` (values in [0, 1], digit light on dark).
pub fn to_mnist(g: &Grey) -> Result<Vec<f32>, PreprocessError> {
    if g.width == 0 || g.height == 0 {
        return Err(PreprocessError::Blank);
    }
    // The border tells the background: a light border means a dark digit on light paper.
    let border: Vec<f32> = (0..g.width)
        .flat_map(|c| [g.pixels[c], g.pixels[(g.height - 1) * g.width + c]])
        .chain((0..g.height).flat_map(|r| [g.pixels[r * g.width], g.pixels[r * g.width + g.width - 1]]))
        .collect();
    let background = border.iter().sum::<f32>() / border.len() as f32;
    let invert = background > 0.5;
    let ink: Vec<f32> = g.pixels.iter().map(|&v| if invert { 1.0 - v } else { v }).collect();
    let bg = if invert { 1.0 - background } else { background };
    // Stretch so the background is 0 and the strongest ink is 1.
    let max = ink.iter().copied().fold(0.0f32, f32::max);
    if max - bg < 0.15 {
        return Err(PreprocessError::Blank);
    }
    let ink: Vec<f32> = ink.iter().map(|&v| ((v - bg) / (max - bg)).clamp(0.0, 1.0)).collect();
    let stretched = Grey {
        width: g.width,
        height: g.height,
        pixels: ink,
    };
    // Bounding box of the ink.
    let threshold = 0.2;
    let (mut top, mut bottom, mut left, mut right) = (usize::MAX, 0, usize::MAX, 0);
    for r in 0..g.height {
        for c in 0..g.width {
            if stretched.pixels[r * g.width + c] > threshold {
                top = top.min(r);
                bottom = bottom.max(r);
                left = left.min(c);
                right = right.max(c);
            }
        }
    }
    if top == usize::MAX {
        return Err(PreprocessError::Blank);
    }
    let (h, w) = (bottom - top + 1, right - left + 1);
    // Fit the longer side into 20 pixels, keeping the aspect ratio.
    let scale = 20.0 / h.max(w) as f32;
    let (out_h, out_w) = (
        ((h as f32 * scale).round() as usize).max(1),
        ((w as f32 * scale).round() as usize).max(1),
    );
    let digit = resize_box(&stretched, top, left, h, w, out_h, out_w);
    // Centre of mass of the resized digit goes to the centre of the 28×28 image.
    let mass: f32 = digit.iter().sum();
    let (mut cy, mut cx) = (0.0, 0.0);
    for r in 0..out_h {
        for c in 0..out_w {
            cy += r as f32 * digit[r * out_w + c];
            cx += c as f32 * digit[r * out_w + c];
        }
    }
    let (cy, cx) = (cy / mass, cx / mass);
    let (oy, ox) = ((13.5 - cy).round() as isize, (13.5 - cx).round() as isize);
    let mut out = vec![0.0f32; PIXELS];
    for r in 0..out_h {
        for c in 0..out_w {
            let (y, x) = (r as isize + oy, c as isize + ox);
            if (0..SIDE as isize).contains(&y) && (0..SIDE as isize).contains(&x) {
                out[y as usize * SIDE + x as usize] = digit[r * out_w + c];
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dark_bar_on_white_becomes_a_centred_light_bar() {
        let (w, h) = (60, 90);
        let mut pixels = vec![1.0; w * h];
        for r in 10..80 {
            for c in 5..15 {
                pixels[r * w + c] = 0.0;
            }
        }
        let out = to_mnist(&Grey {
            width: w,
            height: h,
            pixels,
        })
        .unwrap();
        let mass: f32 = out.iter().sum();
        let cx: f32 = out.iter().enumerate().map(|(i, v)| (i % 28) as f32 * v).sum::<f32>() / mass;
        let cy: f32 = out.iter().enumerate().map(|(i, v)| (i / 28) as f32 * v).sum::<f32>() / mass;
        assert!((cx - 13.5).abs() < 1.0 && (cy - 13.5).abs() < 1.0, "{cx} {cy}");
        let rows_with_ink = (0..28).filter(|r| (0..28).any(|c| out[r * 28 + c] > 0.5)).count();
        assert!((19..=21).contains(&rows_with_ink), "{rows_with_ink}");
        assert!(out[0] == 0.0);
    }

    #[test]
    fn blank_images_are_refused() {
        assert_eq!(
            to_mnist(&Grey {
                width: 5,
                height: 5,
                pixels: vec![0.7; 25]
            }),
            Err(PreprocessError::Blank)
        );
    }
}
