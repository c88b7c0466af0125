//! Inverted dropout: in training each value is kept with probability 1 − p and scaled by 1/(1 − p);
//! in evaluation it is the identity. Masks come from a generator seeded per (call seed, image), so
//! they are reproducible whatever the thread count.

use rayon::prelude::*;

use super::layer::{Layer, Pass};
use crate::layers::Mode;
use crate::{CHUNK, Tensor};

/// Dropout with drop probability `p`.
#[derive(Debug, Clone)]
pub struct Dropout {
    /// Probability of zeroing a value.
    pub p: f32,
    /// Keep flags (1 kept, 0 dropped) of the last training forward.
    keep: Option<Vec<u8>>,
}

/// SplitMix64: a tiny, fast, well-mixed generator, enough for dropout masks.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Dropout {
    /// A dropout layer.
    pub fn new(p: f32) -> Self {
        assert!((0.0..1.0).contains(&p), "dropout probability must be in [0, 1)");
        Self { p, keep: None }
    }

    /// Which values of image `image` survive under `seed`: 1 kept, 0 dropped.
    pub fn image_keep(&self, seed: u64, image: usize, keep: &mut [u8]) {
        let threshold = (self.p as f64 * 65536.0).round() as u64;
        let mut state = seed ^ (image as u64).wrapping_mul(0xD6E8_FEB8_6659_FD93);
        for group in keep.chunks_mut(4) {
            let r = splitmix64(&mut state);
            for (k, v) in group.iter_mut().enumerate() {
                *v = ((r >> (16 * k)) & 0xFFFF >= threshold) as u8;
            }
        }
    }

    /// The factor a kept value is scaled by, 1/(1 − p).
    pub fn keep_scale(&self) -> f32 {
        1.0 / (1.0 - self.p)
    }

    /// Applies the mask in place (training) or nothing (evaluation).
    pub fn forward(&mut self, mut x: Tensor, mode: Mode, seed: u64) -> Tensor {
        if mode == Mode::Eval || self.p == 0.0 {
            self.keep = None;
            return x;
        }
        let per = x.per_image();
        let mut keep = vec![0u8; x.data.len()];
        keep.par_chunks_mut(CHUNK * per).enumerate().for_each(|(chunk, flags)| {
            for (j, k) in flags.chunks_exact_mut(per).enumerate() {
                self.image_keep(seed, chunk * CHUNK + j, k);
            }
        });
        scale_where_kept(&mut x.data, &keep, self.keep_scale());
        self.keep = Some(keep);
        x
    }

    /// ∂L/∂x = ∂L/∂y · mask.
    pub fn backward(&mut self, mut dy: Tensor) -> Tensor {
        if let Some(keep) = self.keep.take() {
            scale_where_kept(&mut dy.data, &keep, self.keep_scale());
        }
        dy
    }
}

/// values · keep · scale, elementwise.
fn scale_where_kept(values: &mut [f32], keep: &[u8], scale: f32) {
    values
        .par_chunks_mut(1 << 14)
        .zip(keep.par_chunks(1 << 14))
        .for_each(|(v, k)| v.iter_mut().zip(k).for_each(|(v, &k)| *v *= k as f32 * scale));
}

impl Layer for Dropout {
    fn describe(&self) -> String {
        "Dropout".into()
    }

    fn forward(&mut self, x: Tensor, pass: Pass) -> Tensor {
        Dropout::forward(self, x, pass.mode, pass.seed)
    }

    fn backward(&mut self, dy: Tensor, _: bool) -> Option<Tensor> {
        Some(Dropout::backward(self, dy))
    }

    fn boxed_clone(&self) -> Box<dyn Layer> {
        Box::new(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::gradcheck::{check_input_gradient, random_tensor};

    #[test]
    fn drops_about_p_scales_the_rest_and_is_identity_in_eval() {
        let x = Tensor::from_vec([8, 1, 50, 50], vec![1.0; 20000]);
        let y = Dropout::new(0.1).forward(x.clone(), Mode::Train, 42);
        let zeros = y.data.iter().filter(|v| **v == 0.0).count() as f64 / 20000.0;
        assert!((zeros - 0.1).abs() < 0.01, "{zeros}");
        assert!(y.data.iter().all(|v| *v == 0.0 || (*v - 1.0 / 0.9).abs() < 1e-6));
        assert_eq!(Dropout::new(0.1).forward(x.clone(), Mode::Eval, 42), x);
        assert_eq!(
            y,
            Dropout::new(0.1).forward(x.clone(), Mode::Train, 42),
            "same seed, same mask"
        );
        assert_ne!(y, Dropout::new(0.1).forward(x, Mode::Train, 43));
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let x = random_tensor([3, 2, 3, 3], 8);
        check_input_gradient(
            &x,
            |x| Dropout::new(0.3).forward(x, Mode::Train, 5),
            |x, dy| {
                let mut d = Dropout::new(0.3);
                d.forward(x, Mode::Train, 5);
                d.backward(dy.clone())
            },
        );
    }
}
