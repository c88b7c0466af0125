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

/// log Σ exp(z) of one row of logits, computed stably around its maximum.
fn log_sum_exp(row: &[f32]) -> f64 {
    let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let sum: f64 = row.iter().map(|&z| ((z - max) as f64).exp()).sum();
    max as f64 + sum.ln()
}

/// The softmax of each row of `k` logits, as exp of the log-softmax: exactly the probabilities that
/// `nll_loss`'s `log_probs` give, with no labels needed (for classifying).
pub fn softmax_rows(logits: &[f32], k: usize) -> Vec<Vec<f32>> {
    logits
        .chunks_exact(k)
        .map(|row| {
            let log_z = log_sum_exp(row);
            row.iter().map(|&z| ((z as f64 - log_z) as f32).exp()).collect()
        })
        .collect()
}

/// Mean NLL of log-softmax(`logits`) at `labels`.
pub fn nll_loss(logits: &Tensor, labels: &[u8]) -> NllOutput {
    smoothed_nll_loss(logits, labels, 0.0)
}

/// Cross-entropy against targets smoothed as PyTorch's `CrossEntropyLoss(label_smoothing=ε)` does: the
/// label gets 1 − ε + ε/K, every class ε/K; loss = −Σ target·log p, averaged over the batch; its gradient
/// is (softmax − target)/N. With ε = 0 it is exactly `nll_loss`.
pub fn smoothed_nll_loss(logits: &Tensor, labels: &[u8], epsilon: f64) -> NllOutput {
    let (n, k) = (logits.n(), logits.per_image());
    assert_eq!(labels.len(), n);
    let mut grad = Tensor::zeros(logits.shape);
    let mut log_probs = vec![0.0f32; n * k];
    let mut predictions = Vec::with_capacity(n);
    let mut loss = 0.0f64;
    for (i, row) in logits.data.chunks_exact(k).enumerate() {
        let log_z = log_sum_exp(row);
        let label = labels[i] as usize;
        loss -= row[label] as f64 - log_z;
        let uniform = epsilon / k as f64;
        if epsilon != 0.0 {
            // −Σ_j target_j·log p_j = (1 − ε)·(−log p_label) + ε/K·Σ_j (−log p_j).
            let sum_neg_lp: f64 = row.iter().map(|&z| log_z - z as f64).sum();
            loss += -epsilon * (log_z - row[label] as f64) + uniform * sum_neg_lp;
        }
        let mut best = 0;
        for (j, &z) in row.iter().enumerate() {
            let lp = z as f64 - log_z;
            log_probs[i * k + j] = lp as f32;
            let target = if j == label { 1.0 - epsilon } else { 0.0 } + if epsilon != 0.0 { uniform } else { 0.0 };
            grad.data[i * k + j] = ((lp.exp() - target) / n as f64) as f32;
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
    fn softmax_rows_are_the_exponentiated_log_probabilities() {
        let logits = Tensor::from_vec([2, 3, 1, 1], vec![1.0, -2.0, 0.5, 3.0, 3.0, -1.0]);
        let rows = softmax_rows(&logits.data, 3);
        let lp = nll_loss(&logits, &[0, 1]).log_probs;
        let expected: Vec<f32> = lp.iter().map(|l| l.exp()).collect();
        assert_eq!(rows.concat(), expected);
        assert!((rows[1].iter().sum::<f32>() - 1.0).abs() < 1e-6);
    }

    #[test]
    fn label_smoothing_matches_its_definition_and_finite_differences() {
        let logits = Tensor::from_vec([2, 3, 1, 1], vec![1.0, 2.0, 3.0, 0.5, -1.0, 0.0]);
        let labels = [2, 0];
        let eps = 0.1;
        let out = smoothed_nll_loss(&logits, &labels, eps);
        // By the definition: targets (1 − ε)·one-hot + ε/3, loss = mean of −Σ target·log softmax.
        let mut expect = 0.0;
        for (i, row) in logits.data.chunks(3).enumerate() {
            let log_z = row.iter().map(|&z| (z as f64).exp()).sum::<f64>().ln();
            for (j, &z) in row.iter().enumerate() {
                let target = if j == labels[i] as usize { 1.0 - eps } else { 0.0 } + eps / 3.0;
                expect -= target * (z as f64 - log_z);
            }
        }
        assert!(
            (out.loss - expect / 2.0).abs() < 1e-9,
            "{} vs {}",
            out.loss,
            expect / 2.0
        );
        let h = 1e-3f32;
        for i in 0..6 {
            let (mut up, mut down) = (logits.clone(), logits.clone());
            up.data[i] += h;
            down.data[i] -= h;
            let fd = (smoothed_nll_loss(&up, &labels, eps).loss - smoothed_nll_loss(&down, &labels, eps).loss)
                / (2.0 * h as f64);
            assert!(
                (fd - out.grad.data[i] as f64).abs() < 1e-4,
                "{i}: {fd} vs {}",
                out.grad.data[i]
            );
        }
        assert_eq!(smoothed_nll_loss(&logits, &labels, 0.0), nll_loss(&logits, &labels));
    }

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
