//! The recipe's train transforms, exactly: with probability 0.1 centre-crop 22×22 and resize back to
//! 28×28 (bilinear); rotate by a uniform angle in [−10°, +10°] about the centre (bilinear, 0 fill);
//! optionally shift by whole pixels (0 fill); scale to [0, 1]; normalise with (0.1307, 0.3081). The test
//! transform only scales and normalises.

use rand::{Rng, RngExt};

use super::{MEAN, PIXELS, SIDE, STD};

/// Augmentation strength: the recipe's values are the default.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Augment {
    /// Probability of the centre crop + resize.
    pub crop_probability: f64,
    /// Side of the centre crop.
    pub crop_side: usize,
    /// Largest rotation in degrees (the angle is uniform in ±this).
    pub max_degrees: f64,
    /// Largest translation in pixels (each axis uniform in ±this, whole pixels, 0 fill); 0 = none.
    pub max_shift: u32,
}

impl Default for Augment {
    fn default() -> Self {
        Self {
            crop_probability: 0.1,
            crop_side: 22,
            max_degrees: 10.0,
            max_shift: 0,
        }
    }
}

/// Bilinear sample of `img` (SIDE×SIDE) at continuous pixel-index coordinates, 0 outside.
fn sample_zero(img: &[f32], y: f32, x: f32) -> f32 {
    let (y0, x0) = (y.floor(), x.floor());
    let (dy, dx) = (y - y0, x - x0);
    let (y0, x0) = (y0 as isize, x0 as isize);
    let at = |r: isize, c: isize| {
        if r < 0 || c < 0 || r >= SIDE as isize || c >= SIDE as isize {
            0.0
        } else {
            img[r as usize * SIDE + c as usize]
        }
    };
    (1.0 - dy) * ((1.0 - dx) * at(y0, x0) + dx * at(y0, x0 + 1))
        + dy * ((1.0 - dx) * at(y0 + 1, x0) + dx * at(y0 + 1, x0 + 1))
}

/// Centre crop of `side`×`side`, resized back to 28×28 with bilinear interpolation (half-pixel centres,
/// edges clamped, as PIL and torchvision do when enlarging).
pub fn crop_and_resize(img: &[f32], side: usize) -> Vec<f32> {
    let offset = (SIDE - side) / 2;
    let scale = side as f32 / SIDE as f32;
    let mut out = vec![0.0; PIXELS];
    for r in 0..SIDE {
        let sy = ((r as f32 + 0.5) * scale - 0.5).clamp(0.0, (side - 1) as f32);
        let (y0, dy) = (sy.floor() as usize, sy.fract());
        let y1 = (y0 + 1).min(side - 1);
        for c in 0..SIDE {
            let sx = ((c as f32 + 0.5) * scale - 0.5).clamp(0.0, (side - 1) as f32);
            let (x0, dx) = (sx.floor() as usize, sx.fract());
            let x1 = (x0 + 1).min(side - 1);
            let p = |y: usize, x: usize| img[(offset + y) * SIDE + offset + x];
            out[r * SIDE + c] =
                (1.0 - dy) * ((1.0 - dx) * p(y0, x0) + dx * p(y0, x1)) + dy * ((1.0 - dx) * p(y1, x0) + dx * p(y1, x1));
        }
    }
    out
}

/// Rotation by `degrees` (counter-clockwise, as torchvision) about the image centre, bilinear, 0 fill.
pub fn rotate(img: &[f32], degrees: f64) -> Vec<f32> {
    let (s, c) = (degrees.to_radians() as f32).sin_cos();
    let centre = (SIDE as f32 - 1.0) / 2.0;
    let mut out = vec![0.0; PIXELS];
    for r in 0..SIDE {
        for col in 0..SIDE {
            let (y, x) = (r as f32 - centre, col as f32 - centre);
            // Inverse map: the output pixel comes from the input rotated back by the angle.
            let sx = c * x - s * y + centre;
            let sy = s * x + c * y + centre;
            out[r * SIDE + col] = sample_zero(img, sy, sx);
        }
    }
    out
}

/// Moves the image `dy` pixels down and `dx` right, filling with 0.
pub fn translate(img: &[f32], dy: i32, dx: i32) -> Vec<f32> {
    let mut out = vec![0.0; PIXELS];
    for r in 0..SIDE as i32 {
        let sr = r - dy;
        if !(0..SIDE as i32).contains(&sr) {
            continue;
        }
        for c in 0..SIDE as i32 {
            let sc = c - dx;
            if (0..SIDE as i32).contains(&sc) {
                out[(r * SIDE as i32 + c) as usize] = img[(sr * SIDE as i32 + sc) as usize];
            }
        }
    }
    out
}

/// Scales bytes to [0, 1] and normalises: the test transform, written into `out`.
pub fn normalise_into(pixels: &[u8], out: &mut [f32]) {
    for (o, &p) in out.iter_mut().zip(pixels) {
        *o = (p as f32 / 255.0 - MEAN) / STD;
    }
}

impl Augment {
    /// The train transform of one image, written into `out` (784 normalised values).
    pub fn apply_into(&self, pixels: &[u8], rng: &mut impl Rng, out: &mut [f32]) {
        let mut img: Vec<f32> = pixels.iter().map(|&p| p as f32).collect();
        if rng.random::<f64>() < self.crop_probability {
            img = crop_and_resize(&img, self.crop_side);
        }
        let angle = if self.max_degrees > 0.0 {
            rng.random_range(-self.max_degrees..=self.max_degrees)
        } else {
            0.0
        };
        let mut img = rotate(&img, angle);
        // Drawn only when enabled, so the other transforms' random numbers stay as they were.
        if self.max_shift > 0 {
            let m = self.max_shift as i32;
            let (dy, dx) = (rng.random_range(-m..=m), rng.random_range(-m..=m));
            img = translate(&img, dy, dx);
        }
        for (o, v) in out.iter_mut().zip(img) {
            *o = (v / 255.0 - MEAN) / STD;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ramp() -> Vec<f32> {
        (0..PIXELS).map(|i| (i % SIDE) as f32 * 9.0).collect()
    }

    #[test]
    fn zero_rotation_is_the_identity_and_ninety_degrees_turns_rows_into_columns() {
        let img = ramp();
        assert_eq!(rotate(&img, 0.0), img);
        let turned = rotate(&img, 90.0);
        // Counter-clockwise: the left column (x = 0) goes to the bottom row.
        for c in 1..SIDE - 1 {
            assert!((turned[(SIDE - 1) * SIDE + c] - img[c * SIDE]).abs() < 1e-3);
        }
    }

    #[test]
    fn crop_and_resize_enlarges_the_centre() {
        let mut img = vec![0.0; PIXELS];
        img[14 * SIDE + 14] = 255.0;
        let out = crop_and_resize(&img, 22);
        let (argmax, _) = out.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).unwrap();
        let (r, c) = (argmax / SIDE, argmax % SIDE);
        assert!((14..=15).contains(&r) && (14..=15).contains(&c), "{r},{c}");
        assert!(out.iter().sum::<f32>() > 255.0, "enlarging spreads the dot");
    }

    #[test]
    fn translation_moves_whole_pixels_and_fills_with_zero() {
        let mut img = vec![0.0; PIXELS];
        img[5 * SIDE + 7] = 1.0;
        let moved = translate(&img, 2, -3);
        assert_eq!(moved[7 * SIDE + 4], 1.0);
        assert_eq!(moved.iter().sum::<f32>(), 1.0);
        assert_eq!(translate(&img, 0, 0), img);
        assert!(translate(&img, 0, 30).iter().all(|&v| v == 0.0), "shifted out entirely");
    }

    #[test]
    fn normalisation_uses_the_recipe_constants() {
        let mut out = [0.0; 2];
        normalise_into(&[0, 255], &mut out);
        assert!((out[0] + 0.1307 / 0.3081).abs() < 1e-6 && (out[1] - (1.0 - 0.1307) / 0.3081).abs() < 1e-6);
    }
}
