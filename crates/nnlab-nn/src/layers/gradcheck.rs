//! Central finite differences against each layer's backward: L = Σ y·r for a fixed random r, so
//! ∂L/∂y = r, and the analytic ∂L/∂x (or ∂L/∂θ) must match (L(x+ε) − L(x−ε)) / 2ε.

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::Tensor;

const EPS: f32 = 1e-2;

/// A tensor of U(−1, 1) values.
pub fn random_tensor(shape: [usize; 4], seed: u64) -> Tensor {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n = shape.iter().product();
    Tensor::from_vec(shape, (0..n).map(|_| rng.random_range(-1.0f32..1.0)).collect())
}

fn loss(y: &Tensor, r: &Tensor) -> f64 {
    y.data.iter().zip(&r.data).map(|(a, b)| *a as f64 * *b as f64).sum()
}

fn assert_close(analytic: f32, numeric: f64, what: &str) {
    let (a, n) = (analytic as f64, numeric);
    assert!(
        (a - n).abs() <= 2e-3 + 2e-2 * a.abs().max(n.abs()),
        "{what}: analytic {a}, finite difference {n}"
    );
}

fn probe_indices(n: usize) -> Vec<usize> {
    if n <= 60 {
        (0..n).collect()
    } else {
        (0..60).map(|i| (i * 7919 + 13) % n).collect()
    }
}

/// Checks ∂L/∂x from `grad(x, r)` against finite differences of `f`.
pub fn check_input_gradient(x: &Tensor, f: impl Fn(Tensor) -> Tensor, grad: impl Fn(Tensor, &Tensor) -> Tensor) {
    let y = f(x.clone());
    let r = random_tensor(y.shape, 99);
    let analytic = grad(x.clone(), &r);
    assert_eq!(analytic.shape, x.shape);
    for i in probe_indices(x.data.len()) {
        let (mut up, mut down) = (x.clone(), x.clone());
        up.data[i] += EPS;
        down.data[i] -= EPS;
        let numeric = (loss(&f(up), &r) - loss(&f(down), &r)) / (2.0 * EPS as f64);
        assert_close(analytic.data[i], numeric, &format!("∂L/∂x[{i}]"));
    }
}

/// Checks ∂L/∂θ from `grad(r)` against finite differences of `f(θ)`.
pub fn check_param_gradient(theta: &[f32], f: impl Fn(&[f32]) -> Tensor, grad: impl Fn(&Tensor) -> Vec<f32>) {
    let y = f(theta);
    let r = random_tensor(y.shape, 98);
    let analytic = grad(&r);
    assert_eq!(analytic.len(), theta.len());
    for i in probe_indices(theta.len()) {
        let (mut up, mut down) = (theta.to_vec(), theta.to_vec());
        up[i] += EPS;
        down[i] -= EPS;
        let numeric = (loss(&f(&up), &r) - loss(&f(&down), &r)) / (2.0 * EPS as f64);
        assert_close(analytic[i], numeric, &format!("∂L/∂θ[{i}]"));
    }
}
