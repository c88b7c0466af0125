//! TensorFlow Playground's network, worked in f64: fully connected, one bias per unit, the chosen
//! activation on the hidden units and tanh on the one output (labels ±1), loss ½(output − label)², and its
//! training rule (nn.ts): per point, backpropagate and accumulate; every `batch_size` points, move each bias
//! and weight by −lr × its mean accumulated gradient, then weights by −lr × rate × the regulariser's
//! derivative (an L1 step that crosses zero leaves the weight at 0, dead). Initial weights are uniform in
//! [−0.5, 0.5) from the seed, biases 0.1, as TF Playground's.

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::mlp::Activation;

/// The regulariser of the weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Regularization {
    /// None.
    None,
    /// |w|.
    L1,
    /// ½w².
    L2,
}

/// A network of TF Playground's kind.
#[derive(Debug, Clone, PartialEq)]
pub struct PlayNet {
    /// Units per layer, the inputs first and the one output last.
    pub layers: Vec<usize>,
    /// The hidden units' activation (the output's is tanh).
    pub activation: Activation,
    /// Per layer after the input: weights[j * n_in + i] from unit i below to unit j.
    pub weights: Vec<Vec<f64>>,
    /// Per layer after the input: one bias per unit.
    pub biases: Vec<Vec<f64>>,
    dead: Vec<Vec<bool>>,
    acc_w: Vec<Vec<f64>>,
    acc_b: Vec<Vec<f64>>,
    accumulated: usize,
}

/// Each layer's net inputs and outputs for one point (layer 0: the inputs, as both).
pub type Trace = Vec<(Vec<f64>, Vec<f64>)>;

impl PlayNet {
    /// Inputs → hidden sizes → one output, initialised from `seed`.
    pub fn new(inputs: usize, hidden: &[usize], activation: Activation, seed: u64) -> Self {
        let rng = &mut ChaCha8Rng::seed_from_u64(seed);
        let mut layers = vec![inputs];
        layers.extend_from_slice(hidden);
        layers.push(1);
        let pairs: Vec<(usize, usize)> = layers.windows(2).map(|w| (w[0], w[1])).collect();
        let weights = pairs
            .iter()
            .map(|&(n_in, n_out)| (0..n_in * n_out).map(|_| rng.random::<f64>() - 0.5).collect())
            .collect();
        let biases = pairs.iter().map(|&(_, n_out)| vec![0.1; n_out]).collect();
        let zeros_w: Vec<Vec<f64>> = pairs.iter().map(|&(a, b)| vec![0.0; a * b]).collect();
        let zeros_b: Vec<Vec<f64>> = pairs.iter().map(|&(_, b)| vec![0.0; b]).collect();
        Self {
            layers,
            activation,
            dead: pairs.iter().map(|&(a, b)| vec![false; a * b]).collect(),
            weights,
            biases,
            acc_w: zeros_w,
            acc_b: zeros_b,
            accumulated: 0,
        }
    }

    /// How many weights (not biases) the network has.
    pub fn weight_count(&self) -> usize {
        self.weights.iter().map(Vec::len).sum()
    }

    /// The activation of layer `l` (counted after the input): the hidden one, tanh on the output.
    fn activation_of(&self, l: usize) -> Activation {
        if l + 2 == self.layers.len() {
            Activation::Tanh
        } else {
            self.activation
        }
    }

    /// Every layer's net inputs and outputs for one input vector.
    pub fn trace(&self, inputs: &[f64]) -> Trace {
        let mut out: Trace = vec![(inputs.to_vec(), inputs.to_vec())];
        for l in 0..self.weights.len() {
            let below = &out[l].1;
            let n_in = below.len();
            let act = self.activation_of(l);
            let nets: Vec<f64> = (0..self.layers[l + 1])
                .map(|j| self.biases[l][j] + (0..n_in).map(|i| self.weights[l][j * n_in + i] * below[i]).sum::<f64>())
                .collect();
            let outs = nets.iter().map(|&x| act.apply(x)).collect();
            out.push((nets, outs));
        }
        out
    }

    /// The output (in (−1, 1)) for one input vector.
    pub fn output(&self, inputs: &[f64]) -> f64 {
        self.trace(inputs).last().expect("an output layer").1[0]
    }

    /// ∂(½(output − label)²)/∂ every weight and bias for one point, layer by layer: (weights, biases).
    pub fn gradients(&self, inputs: &[f64], label: f64) -> (Vec<Vec<f64>>, Vec<Vec<f64>>) {
        let trace = self.trace(inputs);
        let n = self.weights.len();
        let mut gw: Vec<Vec<f64>> = self.weights.iter().map(|w| vec![0.0; w.len()]).collect();
        let mut gb: Vec<Vec<f64>> = self.biases.iter().map(|b| vec![0.0; b.len()]).collect();
        // ∂loss/∂output of the output unit, then δ = ∂loss/∂net layer by layer downwards.
        let mut output_der = vec![trace[n].1[0] - label];
        for l in (0..n).rev() {
            let (nets, outs) = &trace[l + 1];
            let act = self.activation_of(l);
            let delta: Vec<f64> = (0..outs.len())
                .map(|j| output_der[j] * act.derivative(nets[j], outs[j]))
                .collect();
            let below = &trace[l].1;
            let n_in = below.len();
            for (j, d) in delta.iter().enumerate() {
                gb[l][j] = *d;
                for (i, a) in below.iter().enumerate() {
                    gw[l][j * n_in + i] = d * a;
                }
            }
            output_der = (0..n_in)
                .map(|i| (0..delta.len()).map(|j| self.weights[l][j * n_in + i] * delta[j]).sum())
                .collect();
        }
        (gw, gb)
    }

    /// Adds one point's gradients to the accumulators (one step of [`PlayNet::train_epoch`], public for
    /// the workbook exporter, which replays training point by point).
    pub fn accumulate(&mut self, inputs: &[f64], label: f64) {
        let (gw, gb) = self.gradients(inputs, label);
        for (acc, g) in self.acc_w.iter_mut().zip(gw).chain(self.acc_b.iter_mut().zip(gb)) {
            acc.iter_mut().zip(g).for_each(|(a, g)| *a += g);
        }
        self.accumulated += 1;
    }

    /// The accumulated gradients (weights, biases, per layer) and how many points they hold.
    pub fn accumulated(&self) -> (&[Vec<f64>], &[Vec<f64>], usize) {
        (&self.acc_w, &self.acc_b, self.accumulated)
    }

    /// The update of TF Playground's `updateWeights`, then clears the accumulators.
    pub fn update(&mut self, lr: f64, regularization: Regularization, rate: f64) {
        if self.accumulated == 0 {
            return;
        }
        let count = self.accumulated as f64;
        for l in 0..self.weights.len() {
            for (b, acc) in self.biases[l].iter_mut().zip(&mut self.acc_b[l]) {
                *b -= lr * *acc / count;
                *acc = 0.0;
            }
            for k in 0..self.weights[l].len() {
                let acc = std::mem::take(&mut self.acc_w[l][k]);
                if self.dead[l][k] {
                    continue;
                }
                let w = self.weights[l][k] - lr * acc / count;
                let der = match regularization {
                    Regularization::None => 0.0,
                    Regularization::L1 => w.signum() * (w != 0.0) as u8 as f64,
                    Regularization::L2 => w,
                };
                let next = w - lr * rate * der;
                if regularization == Regularization::L1 && w * next < 0.0 {
                    self.weights[l][k] = 0.0;
                    self.dead[l][k] = true;
                } else {
                    self.weights[l][k] = next;
                }
            }
        }
        self.accumulated = 0;
    }

    /// One epoch over `points` (feature vectors with labels) in order, updating every `batch_size` points
    /// (a last partial batch carries over into the next epoch, as TF Playground's does).
    pub fn train_epoch(
        &mut self,
        points: &[(Vec<f64>, f64)],
        lr: f64,
        batch_size: usize,
        regularization: Regularization,
        rate: f64,
    ) {
        for (i, (inputs, label)) in points.iter().enumerate() {
            self.accumulate(inputs, *label);
            if (i + 1) % batch_size == 0 {
                self.update(lr, regularization, rate);
            }
        }
    }

    /// Mean ½(output − label)² over `points`.
    pub fn loss(&self, points: &[(Vec<f64>, f64)]) -> f64 {
        let total: f64 = points.iter().map(|(x, t)| 0.5 * (self.output(x) - t).powi(2)).sum();
        total / points.len().max(1) as f64
    }

    /// The share of points whose output has the label's sign (0 counts as +1, as TF Playground draws it).
    pub fn accuracy(&self, points: &[(Vec<f64>, f64)]) -> f64 {
        let right = points
            .iter()
            .filter(|(x, t)| (self.output(x) >= 0.0) == (*t > 0.0))
            .count();
        right as f64 / points.len().max(1) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Backprop's gradients equal central finite differences of ½(output − label)², for every
    /// activation, every weight and bias.
    #[test]
    fn gradients_match_finite_differences() {
        let x = [0.7, -1.3, 0.4];
        for act in [
            Activation::Tanh,
            Activation::Sigmoid,
            Activation::Relu,
            Activation::Linear,
        ] {
            let net = PlayNet::new(3, &[4, 3], act, 7);
            let (gw, gb) = net.gradients(&x, -1.0);
            let loss = |n: &PlayNet| 0.5 * (n.output(&x) + 1.0).powi(2);
            let h = 1e-6;
            for l in 0..net.weights.len() {
                for (k, g) in gw[l].iter().enumerate() {
                    let (mut up, mut down) = (net.clone(), net.clone());
                    up.weights[l][k] += h;
                    down.weights[l][k] -= h;
                    let numeric = (loss(&up) - loss(&down)) / (2.0 * h);
                    assert!((numeric - g).abs() < 1e-7, "{act:?} w[{l}][{k}]: {numeric} vs {g}");
                }
                for (j, g) in gb[l].iter().enumerate() {
                    let (mut up, mut down) = (net.clone(), net.clone());
                    up.biases[l][j] += h;
                    down.biases[l][j] -= h;
                    let numeric = (loss(&up) - loss(&down)) / (2.0 * h);
                    assert!((numeric - g).abs() < 1e-7, "{act:?} b[{l}][{j}]");
                }
            }
        }
    }

    #[test]
    fn a_batch_moves_by_the_mean_gradient_and_l1_kills_weights_crossing_zero() {
        let net = PlayNet::new(2, &[2], Activation::Tanh, 3);
        let points = vec![(vec![1.0, 2.0], 1.0), (vec![-0.5, 0.3], -1.0)];
        let mut trained = net.clone();
        trained.train_epoch(&points, 0.1, 2, Regularization::None, 0.0);
        let (g1, _) = net.gradients(&points[0].0, 1.0);
        let (g2, _) = net.gradients(&points[1].0, -1.0);
        let expected = net.weights[0][0] - 0.1 * (g1[0][0] + g2[0][0]) / 2.0;
        assert!((trained.weights[0][0] - expected).abs() < 1e-15);
        let mut l1 = net.clone();
        l1.weights[0][0] = 1e-4;
        l1.train_epoch(&points[..1], 1e-3, 1, Regularization::L1, 1.0);
        assert_eq!(l1.weights[0][0], 0.0);
        assert!(l1.dead[0][0]);
    }
}
