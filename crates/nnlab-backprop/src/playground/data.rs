//! TensorFlow Playground's four 2-D classification sets with its definitions (dataset.ts: 500 points by
//! default, radius 5 for the circle, padding 0.3 for XOR, variance 0.5…4 for the Gaussians, two arms of
//! radius 5 for the spiral, noise as a fraction), generated from a seed, plus `x1,x2,label` CSV files;
//! and its input features (x1, x2, x1², x2², x1·x2, sin x1, sin x2).

use std::f64::consts::PI;
use std::str::FromStr;

use rand::{Rng, RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::error::BackpropError;

/// One labelled point of the plane (label +1 or −1, as TF Playground's).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// x1.
    pub x: f64,
    /// x2.
    pub y: f64,
    /// +1 or −1.
    pub label: f64,
}

/// A generated data set's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Points inside radius 2.5 (+1) and in the ring 3.5…5 (−1).
    Circle,
    /// The four quadrants, +1 where x1·x2 ≥ 0.
    Xor,
    /// Two Gaussian blobs around (2, 2) (+1) and (−2, −2) (−1).
    Gauss,
    /// Two interleaved spiral arms.
    Spiral,
}

impl FromStr for Shape {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "circle" => Ok(Self::Circle),
            "xor" => Ok(Self::Xor),
            "gauss" | "gaussian" => Ok(Self::Gauss),
            "spiral" => Ok(Self::Spiral),
            other => Err(format!(
                "unknown data set '{other}' (expected circle, xor, gauss, spiral, or a .csv file of x1,x2,label)"
            )),
        }
    }
}

/// Uniform in [a, b).
fn uniform(rng: &mut impl Rng, a: f64, b: f64) -> f64 {
    a + (b - a) * rng.random::<f64>()
}

/// TF Playground's normalRandom: the polar method, mean + √variance · z.
fn normal(rng: &mut impl Rng, mean: f64, variance: f64) -> f64 {
    loop {
        let (v1, v2) = (2.0 * rng.random::<f64>() - 1.0, 2.0 * rng.random::<f64>() - 1.0);
        let s = v1 * v1 + v2 * v2;
        if s > 0.0 && s <= 1.0 {
            return mean + variance.sqrt() * v1 * (-2.0 * s.ln() / s).sqrt();
        }
    }
}

/// `n` points of `shape` with `noise` (0…0.5, TF Playground's 0–50 %), from `seed`, shuffled.
pub fn generate(shape: Shape, n: usize, noise: f64, seed: u64) -> Vec<Point> {
    let rng = &mut ChaCha8Rng::seed_from_u64(seed);
    let mut points = match shape {
        Shape::Circle => circle(rng, n, noise),
        Shape::Xor => xor(rng, n, noise),
        Shape::Gauss => gauss(rng, n, noise),
        Shape::Spiral => spiral(rng, n, noise),
    };
    // Fisher–Yates, as TF Playground shuffles before splitting into training and test points.
    for i in (1..points.len()).rev() {
        let j = rng.random_range(0..=i);
        points.swap(i, j);
    }
    points
}

fn circle(rng: &mut ChaCha8Rng, n: usize, noise: f64) -> Vec<Point> {
    let radius = 5.0;
    let label = |x: f64, y: f64| {
        if (x * x + y * y).sqrt() < radius * 0.5 {
            1.0
        } else {
            -1.0
        }
    };
    let mut out = Vec::with_capacity(n);
    for (k, (r0, r1)) in [(0.0, radius * 0.5), (radius * 0.7, radius)].into_iter().enumerate() {
        let count = if k == 0 { n / 2 } else { n - n / 2 };
        for _ in 0..count {
            let r = uniform(rng, r0, r1);
            let angle = uniform(rng, 0.0, 2.0 * PI);
            let (x, y) = (r * angle.sin(), r * angle.cos());
            let (nx, ny) = (
                uniform(rng, -radius, radius) * noise,
                uniform(rng, -radius, radius) * noise,
            );
            out.push(Point {
                x,
                y,
                label: label(x + nx, y + ny),
            });
        }
    }
    out
}

fn xor(rng: &mut ChaCha8Rng, n: usize, noise: f64) -> Vec<Point> {
    let padding = 0.3;
    (0..n)
        .map(|_| {
            let mut x = uniform(rng, -5.0, 5.0);
            x += if x > 0.0 { padding } else { -padding };
            let mut y = uniform(rng, -5.0, 5.0);
            y += if y > 0.0 { padding } else { -padding };
            let (nx, ny) = (uniform(rng, -5.0, 5.0) * noise, uniform(rng, -5.0, 5.0) * noise);
            let label = if (x + nx) * (y + ny) >= 0.0 { 1.0 } else { -1.0 };
            Point { x, y, label }
        })
        .collect()
}

fn gauss(rng: &mut ChaCha8Rng, n: usize, noise: f64) -> Vec<Point> {
    // TF Playground scales the variance from 0.5 (no noise) to 4 (noise 0.5).
    let variance = 0.5 + (4.0 - 0.5) * (noise / 0.5);
    let mut out = Vec::with_capacity(n);
    for (k, (cx, cy, label)) in [(2.0, 2.0, 1.0), (-2.0, -2.0, -1.0)].into_iter().enumerate() {
        let count = if k == 0 { n / 2 } else { n - n / 2 };
        for _ in 0..count {
            out.push(Point {
                x: normal(rng, cx, variance),
                y: normal(rng, cy, variance),
                label,
            });
        }
    }
    out
}

fn spiral(rng: &mut ChaCha8Rng, n: usize, noise: f64) -> Vec<Point> {
    let mut out = Vec::with_capacity(n);
    for (k, (delta, label)) in [(0.0, 1.0), (PI, -1.0)].into_iter().enumerate() {
        let count = if k == 0 { n / 2 } else { n - n / 2 };
        for i in 0..count {
            let r = i as f64 / count as f64 * 5.0;
            let t = 1.75 * i as f64 / count as f64 * 2.0 * PI + delta;
            let x = r * t.sin() + uniform(rng, -1.0, 1.0) * noise;
            let y = r * t.cos() + uniform(rng, -1.0, 1.0) * noise;
            out.push(Point { x, y, label });
        }
    }
    out
}

/// Points from a CSV of `x1,x2,label` (a header line is skipped; label 1 is +1, and 0 or −1 is −1); an
/// error names the line.
pub fn parse_points(text: &str, origin: &str) -> Result<Vec<Point>, BackpropError> {
    let mut out = Vec::new();
    for (k, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let numbers: Option<Vec<f64>> = fields
            .iter()
            .map(|f| f.parse::<f64>().ok().filter(|v| v.is_finite()))
            .collect();
        let bad = |why: String| BackpropError::BadData(format!("{origin}:{}: {why}", k + 1));
        let Some(numbers) = numbers else {
            if out.is_empty() && k == 0 {
                continue; // a header
            }
            return Err(bad(format!("'{line}' is not three numbers x1,x2,label")));
        };
        let [x, y, label] = numbers[..] else {
            return Err(bad(format!("{} values; expected three: x1,x2,label", numbers.len())));
        };
        let label = match label {
            1.0 => 1.0,
            0.0 | -1.0 => -1.0,
            other => {
                return Err(bad(format!(
                    "label {other}: expected 1 for one class, 0 or -1 for the other"
                )));
            }
        };
        out.push(Point { x, y, label });
    }
    if out.len() < 2 {
        return Err(BackpropError::BadData(format!("{origin}: needs at least two points")));
    }
    Ok(out)
}

/// An input feature of TF Playground.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feature {
    /// x1.
    X1,
    /// x2.
    X2,
    /// x1².
    X1Sq,
    /// x2².
    X2Sq,
    /// x1·x2.
    X1X2,
    /// sin x1.
    SinX1,
    /// sin x2.
    SinX2,
}

/// Every feature with its name on the command line, in TF Playground's order.
pub const FEATURES: [(&str, Feature); 7] = [
    ("x1", Feature::X1),
    ("x2", Feature::X2),
    ("x1sq", Feature::X1Sq),
    ("x2sq", Feature::X2Sq),
    ("x1x2", Feature::X1X2),
    ("sinx1", Feature::SinX1),
    ("sinx2", Feature::SinX2),
];

impl Feature {
    /// The feature's value at (x1, x2).
    pub fn at(self, x: f64, y: f64) -> f64 {
        match self {
            Self::X1 => x,
            Self::X2 => y,
            Self::X1Sq => x * x,
            Self::X2Sq => y * y,
            Self::X1X2 => x * y,
            Self::SinX1 => x.sin(),
            Self::SinX2 => y.sin(),
        }
    }

    /// Its name (`x1sq`, …).
    pub fn name(self) -> &'static str {
        FEATURES.iter().find(|(_, f)| *f == self).map_or("?", |(n, _)| n)
    }
}

/// Features from `x1,x2,sinx1` (each known, none twice, at least one).
pub fn parse_features(text: &str) -> Result<Vec<Feature>, String> {
    let mut out = Vec::new();
    for name in text.split(',').map(str::trim) {
        let f = FEATURES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, f)| *f)
            .ok_or_else(|| {
                let known: Vec<&str> = FEATURES.iter().map(|(n, _)| *n).collect();
                format!("unknown feature '{name}' (known: {})", known.join(", "))
            })?;
        if out.contains(&f) {
            return Err(format!("feature '{name}' given twice"));
        }
        out.push(f);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sets_follow_tf_playgrounds_definitions() {
        for shape in [Shape::Circle, Shape::Xor, Shape::Gauss, Shape::Spiral] {
            let points = generate(shape, 500, 0.0, 1);
            assert_eq!(points.len(), 500);
            if shape != Shape::Xor {
                assert_eq!(points.iter().filter(|p| p.label > 0.0).count(), 250, "{shape:?}");
            }
            assert!(
                points
                    .iter()
                    .all(|p| p.x.abs() <= 6.0 && p.y.abs() <= 6.0 || shape == Shape::Gauss)
            );
            assert_eq!(points, generate(shape, 500, 0.0, 1), "same seed, same points");
            assert_ne!(points, generate(shape, 500, 0.0, 2));
        }
        // Without noise every label is the rule's.
        for p in generate(Shape::Circle, 200, 0.0, 3) {
            assert_eq!(p.label > 0.0, (p.x * p.x + p.y * p.y).sqrt() < 2.5);
        }
        for p in generate(Shape::Xor, 200, 0.0, 3) {
            assert_eq!(p.label > 0.0, p.x * p.y >= 0.0);
        }
    }

    #[test]
    fn csv_points_and_features_are_checked() {
        let pts = parse_points("x1,x2,label\n1,2,1\n-1,0.5,0\n", "d.csv").unwrap();
        assert_eq!(pts[1].label, -1.0);
        let e = parse_points("1,2,1\n3,4\n", "d.csv").unwrap_err().to_string();
        assert!(e.contains("d.csv:2"), "{e}");
        let e = parse_points("1,2,1\n3,4,7\n", "d.csv").unwrap_err().to_string();
        assert!(e.contains("d.csv:2") && e.contains("label 7"), "{e}");
        assert_eq!(parse_features("x1,sinx2").unwrap(), [Feature::X1, Feature::SinX2]);
        assert!(parse_features("x1,x3").unwrap_err().contains("unknown feature 'x3'"));
        assert!(parse_features("x1,x1").unwrap_err().contains("twice"));
    }
}
