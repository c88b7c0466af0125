//! PyTorch's default initialisation: weights and biases U(−1/√fan_in, 1/√fan_in).

use rand::RngExt;
use rand_chacha::ChaCha8Rng;

/// `n` values from U(−1/√fan_in, 1/√fan_in).
pub fn uniform_fan_in(rng: &mut ChaCha8Rng, n: usize, fan_in: usize) -> Vec<f32> {
    let bound = 1.0 / (fan_in as f32).sqrt();
    (0..n).map(|_| rng.random_range(-bound..bound)).collect()
}
