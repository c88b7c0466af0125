//! "Which digit is this?", written once for `nnlab mnist predict`, `eval`'s gallery and the web API: an
//! image file, uploaded bytes or 784 pixels → the prepared 28×28 input → the model's ten probabilities.

use std::path::Path;

use nnlab_mnist::data::{CLASSES, MEAN, STD};
use nnlab_mnist::preprocess::{Grey, to_mnist};
use nnlab_model::Network;
use nnlab_nn::{Mode, Tensor, softmax_rows};

use crate::image_input::{decode_bounded, decode_bounded_bytes};
use crate::{AppError, Result};

/// Pixels of one MNIST image.
pub const PIXELS: usize = 28 * 28;

/// What the model answered for one image.
#[derive(Debug, Clone, PartialEq)]
pub struct Classification {
    /// The 28×28 input the model saw, row by row, in [0, 1] with 1 = ink (before normalisation).
    pub input: Vec<f32>,
    /// The probability of each digit 0–9 (a softmax of the logits; they sum to 1).
    pub probabilities: Vec<f32>,
}

impl Classification {
    /// The most probable digit (the first on a tie).
    pub fn digit(&self) -> usize {
        self.ranked()[0].0
    }

    /// Every digit with its probability, most probable first (ties in digit order).
    pub fn ranked(&self) -> Vec<(usize, f32)> {
        let mut ranked: Vec<(usize, f32)> = self.probabilities.iter().copied().enumerate().collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
        ranked
    }
}

/// An image prepared as MNIST's digits are (greyscale, ink bright, centred by mass in a 28×28 frame):
/// 784 values in [0, 1]; the error is a sentence without the input's name (the caller names it).
fn prepare(img: image::DynamicImage) -> Result<Vec<f32>, String> {
    let img = img.to_luma32f();
    let grey = Grey {
        width: img.width() as usize,
        height: img.height() as usize,
        pixels: img.into_raw(),
    };
    to_mnist(&grey).map_err(|e| e.to_string())
}

/// The 28×28 input from an image file, decoded within `max_side` (the error is a sentence without the path).
pub fn prepare_file(path: &Path, max_side: u32) -> Result<Vec<f32>, String> {
    prepare(decode_bounded(path, max_side)?)
}

/// The 28×28 input from an image held in memory (an upload), with the same limits and preparation.
pub fn prepare_bytes(bytes: &[u8], max_side: u32) -> Result<Vec<f32>, String> {
    prepare(decode_bounded_bytes(bytes, max_side)?)
}

/// 784 values in [0, 1] (1 = ink), checked: `field` names them in errors.
pub fn check_pixels(pixels: &[f64], field: &str) -> Result<Vec<f32>> {
    if pixels.len() != PIXELS {
        return Err(AppError::invalid(format!(
            "{field}: expected {PIXELS} numbers (28×28, row by row), got {}",
            pixels.len()
        )));
    }
    pixels
        .iter()
        .enumerate()
        .map(|(k, &x)| {
            if (0.0..=1.0).contains(&x) {
                Ok(x as f32)
            } else {
                Err(AppError::invalid(format!(
                    "{field}[{k}]: {x} is outside [0, 1] (0 = background, 1 = ink)"
                )))
            }
        })
        .collect()
}

/// Normalises inputs as the training data is ((x − mean) / std) into one [N, 1, 28, 28] batch.
fn batch(inputs: &[&[f32]]) -> Tensor {
    let data = inputs.iter().flat_map(|x| x.iter().map(|v| (v - MEAN) / STD)).collect();
    Tensor::from_vec([inputs.len(), 1, 28, 28], data)
}

/// The ten probabilities of each prepared input (in [0, 1], 1 = ink), in one evaluation-mode pass.
pub fn probabilities(model: &mut Network, inputs: &[&[f32]]) -> Vec<Vec<f32>> {
    if inputs.is_empty() {
        return Vec::new();
    }
    let logits = model.forward(batch(inputs), Mode::Eval, 0);
    softmax_rows(&logits.data, CLASSES)
}

/// Classifies one prepared input.
pub fn classify(model: &mut Network, input: Vec<f32>) -> Classification {
    let probabilities = probabilities(model, &[&input]).remove(0);
    Classification { input, probabilities }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nnlab_mnist::seed_model;

    #[test]
    fn probabilities_sum_to_one_and_a_batch_equals_single_images() {
        let mut model = Network::new(&seed_model(), 3);
        let a: Vec<f32> = (0..PIXELS).map(|i| ((i * 7) % 11) as f32 / 10.0).collect();
        let b: Vec<f32> = (0..PIXELS).map(|i| ((i * 5) % 13) as f32 / 12.0).collect();
        let both = probabilities(&mut model, &[&a, &b]);
        let one = classify(&mut model, b.clone());
        assert_eq!(both[1], one.probabilities);
        for p in &both {
            assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-5);
        }
        assert_eq!(one.ranked()[0].0, one.digit());
        assert_eq!(one.input, b);
    }

    #[test]
    fn pixels_are_checked_by_count_and_range() {
        assert!(check_pixels(&[0.5; PIXELS], "pixels").is_ok());
        let short = check_pixels(&[0.5; 3], "pixels").unwrap_err().to_string();
        assert!(short.contains("expected 784"), "{short}");
        let mut bad = vec![0.0; PIXELS];
        bad[9] = 1.5;
        let out = check_pixels(&bad, "pixels").unwrap_err().to_string();
        assert!(out.starts_with("pixels[9]: 1.5 is outside"), "{out}");
    }
}
