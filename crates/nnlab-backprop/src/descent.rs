//! Gradient descent on the 2-2-2 network and the learning-rate sweep.

use crate::error::{BackpropError, ensure_finite};
use crate::network::{Forward, Net222};

/// One row of the worksheet: the weights used, the forward pass they give, and the gradients from it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Iteration {
    /// Iteration number, starting at 1.
    pub iter: usize,
    /// The network (with this row's weights) that the forward pass used.
    pub net: Net222,
    /// Forward values and loss.
    pub forward: Forward,
    /// ∂E_total/∂w1..w8 from this row's forward pass.
    pub gradients: [f64; 8],
    /// ∂E_total/∂b1, ∂E_total/∂b2 from this row's forward pass (applied only when biases are learned).
    pub bias_gradients: [f64; 2],
}

/// Checks a learning rate and an iteration count, as every descent needs.
pub fn validate_schedule(lr: f64, iterations: usize) -> Result<(), BackpropError> {
    ensure_finite("learning rate", lr)?;
    if lr <= 0.0 {
        return Err(BackpropError::NonPositiveLearningRate(lr));
    }
    if iterations == 0 {
        return Err(BackpropError::ZeroIterations);
    }
    Ok(())
}

/// Runs `iterations` steps of gradient descent: each computes all eight gradients from its own forward
/// pass, then updates every weight at once, wk ← wk − η·∂E/∂wk (and, with `learn_biases`, each bias
/// the same way; otherwise the biases stay as given).
pub fn descend(net: &Net222, lr: f64, iterations: usize, learn_biases: bool) -> Result<Vec<Iteration>, BackpropError> {
    validate_schedule(lr, iterations)?;
    let mut current = *net;
    let mut rows = Vec::with_capacity(iterations);
    for iter in 1..=iterations {
        let forward = current.forward();
        let gradients = current.gradients(&forward);
        let bias_gradients = current.bias_gradients(&forward);
        rows.push(Iteration {
            iter,
            net: current,
            forward,
            gradients,
            bias_gradients,
        });
        for (w, g) in current.weights.iter_mut().zip(gradients) {
            *w -= lr * g;
        }
        if learn_biases {
            for (b, g) in current.biases.iter_mut().zip(bias_gradients) {
                *b -= lr * g;
            }
        }
    }
    Ok(rows)
}

/// E_total per iteration for each learning rate, in the order given: `result[r][i]` is rate r, iteration i+1.
pub fn sweep(net: &Net222, lrs: &[f64], iterations: usize, learn_biases: bool) -> Result<Vec<Vec<f64>>, BackpropError> {
    if lrs.is_empty() {
        return Err(BackpropError::WrongCount {
            what: "learning rates".into(),
            expected: 1,
            got: 0,
        });
    }
    lrs.iter()
        .map(|&lr| {
            Ok(descend(net, lr, iterations, learn_biases)?
                .iter()
                .map(|r| r.forward.e_total)
                .collect())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn update_is_simultaneous_and_uses_the_previous_rows_gradients() {
        let rows = descend(&Net222::default(), 0.5, 3, false).unwrap();
        for pair in rows.windows(2) {
            for k in 0..8 {
                let expected = pair[0].net.weights[k] - 0.5 * pair[0].gradients[k];
                assert_eq!(pair[1].net.weights[k], expected);
            }
        }
    }

    #[test]
    fn larger_learning_rates_fall_faster_on_the_worksheet() {
        let lrs = [0.1, 0.2, 0.5, 0.8, 1.0, 2.0];
        let curves = sweep(&Net222::default(), &lrs, 68, false).unwrap();
        let finals: Vec<f64> = curves.iter().map(|c| c[67]).collect();
        assert!(finals.windows(2).all(|w| w[1] < w[0]), "{finals:?}");
        assert!(curves.iter().all(|c| c[0] == 0.014181377937891659));
    }

    #[test]
    fn rejects_bad_schedules() {
        let net = Net222::default();
        assert_eq!(
            descend(&net, 0.0, 5, false),
            Err(BackpropError::NonPositiveLearningRate(0.0))
        );
        assert_eq!(descend(&net, 1.0, 0, false), Err(BackpropError::ZeroIterations));
        assert!(descend(&net, f64::INFINITY, 1, false).is_err());
    }

    #[test]
    fn biases_move_only_when_learned() {
        let net = Net222::default().with_biases([0.35, 0.6]).unwrap();
        let fixed = descend(&net, 0.5, 3, false).unwrap();
        assert!(fixed.iter().all(|r| r.net.biases == [0.35, 0.6]));
        let learned = descend(&net, 0.5, 3, true).unwrap();
        for pair in learned.windows(2) {
            for k in 0..2 {
                assert_eq!(
                    pair[1].net.biases[k],
                    pair[0].net.biases[k] - 0.5 * pair[0].bias_gradients[k]
                );
            }
        }
        assert!(learned[2].forward.e_total < fixed[2].forward.e_total);
    }
}
