//! Log-softmax fused with the mean negative log-likelihood: the loss of the recipe.

use crate::Tensor;

/// Loss, its gradient with respect to the logits, and the predictions.
#[derive(Debug, Clone, PartialEq)]
pub struct NllOutput {
    /// Mean −log p(label).
    pub loss: f64,
    /// ∂loss/∂logits = (softmax − one-hot)/N.
    pub grad: Tensor,
    /// argmax of each row.
    pub predictions: Vec<u8>,
    /// log-probabilities, N × classes.
    pub log_probs: Vec<f32>,
}

/// Mean NLL of log-softmax(`logits`) at `labels`.
pub fn nll_loss(logits: &Tensor, labels: &[u8]) -> NllOutput {
    let (n, k) = (logits.n(), logits.per_image());
    assert_eq!(labels.len(), n);
    let mut grad = Tensor::zeros(logits.shape);
    let mut log_probs = vec![0.0f32; n * k];
    let mut predictions = Vec::with_capacity(n);
    let mut loss = 0.0f64;
    for (i, row) in logits.data.chunks_exact(k).enumerate() {
        let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let sum: f64 = row.iter().map(|&z| ((z - max) as f64).exp()).sum();
        let log_z = max as f64 + sum.ln();
        let label = labels[i] as usize;
        loss -= row[label] as f64 - log_z;
        let mut best = 0;
        for (j, &z) in row.iter().enumerate() {
            let lp = z as f64 - log_z;
            log_probs[i * k + j] = lp as f32;
            grad.data[i * k + j] = ((lp.exp() - if j == label { 1.0 } else { 0.0 }) / n as f64) as f32;
            if z > row[best] {
                best = j;
            }
        }
        predictions.push(best as u8);
    }
    NllOutput {
        loss: loss / n as f64,
        grad,
        predictions,
        log_probs,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loss_and_gradient() {
        let logits = Tensor::from_vec([2, 3, 1, 1], vec![1.0, 2.0, 3.0, 0.0, 0.0, 0.0]);
        let out = nll_loss(&logits, &[2, 0]);
        let expected = (-(3.0f64 - (1f64.exp() + 2f64.exp() + 3f64.exp()).ln()) + 3f64.ln()) / 2.0;
        assert!((out.loss - expected).abs() < 1e-6);
        assert_eq!(out.predictions, [2, 0]);
        let eps = 1e-3f32;
        for i in 0..6 {
            let (mut up, mut down) = (logits.clone(), logits.clone());
            up.data[i] += eps;
            down.data[i] -= eps;
            let fd = (nll_loss(&up, &[2, 0]).loss - nll_loss(&down, &[2, 0]).loss) / (2.0 * eps as f64);
            assert!(
                (fd - out.grad.data[i] as f64).abs() < 1e-4,
                "{i}: {fd} vs {}",
                out.grad.data[i]
            );
        }
    }
}
