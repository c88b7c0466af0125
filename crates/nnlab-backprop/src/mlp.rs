//! Fully connected networks of any layer sizes (no biases, one activation on every unit, loss Σ½(t−a)²),
//! the generalisation of the 2-2-2 worksheet used by `--layers`.

use std::str::FromStr;

use rand::RngExt;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::autograd::Graph;
use crate::error::{BackpropError, ensure_finite};
use crate::network::{Net222, sigmoid};

/// The nonlinearity applied on every unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    /// σ(x) = 1/(1+e^-x), as in the worksheet.
    Sigmoid,
    /// tanh(x).
    Tanh,
    /// max(x, 0).
    Relu,
}

impl FromStr for Activation {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "sigmoid" => Ok(Self::Sigmoid),
            "tanh" => Ok(Self::Tanh),
            "relu" => Ok(Self::Relu),
            other => Err(format!("unknown activation '{other}' (expected sigmoid, tanh or relu)")),
        }
    }
}

impl Activation {
    fn apply(self, x: f64) -> f64 {
        match self {
            Self::Sigmoid => sigmoid(x),
            Self::Tanh => x.tanh(),
            Self::Relu => x.max(0.0),
        }
    }

    /// The derivative expressed through the activation's output a (and its input x for ReLU).
    fn derivative(self, x: f64, a: f64) -> f64 {
        match self {
            Self::Sigmoid => a * (1.0 - a),
            Self::Tanh => 1.0 - a * a,
            Self::Relu => {
                if x > 0.0 {
                    1.0
                } else {
                    0.0
                }
            }
        }
    }
}

/// A fully connected network. Weights are numbered as in the worksheet: layer by layer, then by the
/// receiving unit, then by the sending unit (so a 2-2-2 network's w1..w8 are the worksheet's).
#[derive(Debug, Clone, PartialEq)]
pub struct Mlp {
    layers: Vec<usize>,
    activation: Activation,
    weights: Vec<f64>,
}

/// One step of gradient descent on an [`Mlp`].
#[derive(Debug, Clone, PartialEq)]
pub struct MlpIteration {
    /// Iteration number, starting at 1.
    pub iter: usize,
    /// Weights used in this row's forward pass.
    pub weights: Vec<f64>,
    /// Activations of the output layer.
    pub outputs: Vec<f64>,
    /// Σ½(t − a)² over the outputs.
    pub e_total: f64,
    /// ∂E_total/∂w for every weight.
    pub gradients: Vec<f64>,
}

impl Mlp {
    /// How many weights a network with these layer sizes has.
    pub fn weight_count(layers: &[usize]) -> usize {
        layers.windows(2).map(|w| w[0] * w[1]).sum()
    }

    fn check_layers(layers: &[usize]) -> Result<(), BackpropError> {
        if layers.len() < 2 {
            return Err(BackpropError::BadLayers(
                "need at least an input and an output layer, e.g. 2,3,2".into(),
            ));
        }
        if layers.contains(&0) {
            return Err(BackpropError::BadLayers("every layer needs at least one unit".into()));
        }
        Ok(())
    }

    /// A network with the given weights (in worksheet numbering).
    pub fn new(layers: &[usize], activation: Activation, weights: Vec<f64>) -> Result<Self, BackpropError> {
        Self::check_layers(layers)?;
        let expected = Self::weight_count(layers);
        if weights.len() != expected {
            return Err(BackpropError::WrongCount {
                what: "weights".into(),
                expected,
                got: weights.len(),
            });
        }
        for (k, w) in weights.iter().enumerate() {
            ensure_finite(&format!("w{}", k + 1), *w)?;
        }
        Ok(Self {
            layers: layers.to_vec(),
            activation,
            weights,
        })
    }

    /// A network with weights drawn from U(−1/√fan_in, 1/√fan_in) by a seeded ChaCha8 generator.
    pub fn seeded(layers: &[usize], activation: Activation, seed: u64) -> Result<Self, BackpropError> {
        Self::check_layers(layers)?;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut weights = Vec::with_capacity(Self::weight_count(layers));
        for pair in layers.windows(2) {
            let bound = 1.0 / (pair[0] as f64).sqrt();
            for _ in 0..pair[0] * pair[1] {
                weights.push(rng.random_range(-bound..bound));
            }
        }
        Self::new(layers, activation, weights)
    }

    /// The worksheet's 2-2-2 sigmoid network with its weights.
    pub fn from_net222(net: &Net222) -> Self {
        Self {
            layers: vec![2, 2, 2],
            activation: Activation::Sigmoid,
            weights: net.weights.to_vec(),
        }
    }

    /// Layer sizes, input layer first.
    pub fn layers(&self) -> &[usize] {
        &self.layers
    }

    /// The weights, in worksheet numbering.
    pub fn weights(&self) -> &[f64] {
        &self.weights
    }

    /// The activation used on every unit.
    pub fn activation(&self) -> Activation {
        self.activation
    }

    /// Checks that inputs and targets fit the first and last layer and are finite.
    pub fn check_example(&self, inputs: &[f64], targets: &[f64]) -> Result<(), BackpropError> {
        let (n_in, n_out) = (self.layers[0], *self.layers.last().expect("layers checked"));
        for (what, values, expected) in [("inputs", inputs, n_in), ("targets", targets, n_out)] {
            if values.len() != expected {
                return Err(BackpropError::WrongCount {
                    what: what.into(),
                    expected,
                    got: values.len(),
                });
            }
            for v in values {
                ensure_finite(what, *v)?;
            }
        }
        Ok(())
    }

    /// Net inputs and activations of every layer after the input layer.
    fn forward_layers(&self, inputs: &[f64], weights: &[f64]) -> Vec<(Vec<f64>, Vec<f64>)> {
        let mut layers = Vec::with_capacity(self.layers.len() - 1);
        let mut previous = inputs.to_vec();
        let mut offset = 0;
        for &n_out in &self.layers[1..] {
            let n_in = previous.len();
            let nets: Vec<f64> = (0..n_out)
                .map(|j| (0..n_in).map(|i| weights[offset + j * n_in + i] * previous[i]).sum())
                .collect();
            let acts: Vec<f64> = nets.iter().map(|&x| self.activation.apply(x)).collect();
            offset += n_in * n_out;
            previous = acts.clone();
            layers.push((nets, acts));
        }
        layers
    }

    /// E_total = Σ½(t − a)² for the given weights.
    pub fn loss(&self, inputs: &[f64], targets: &[f64], weights: &[f64]) -> f64 {
        let layers = self.forward_layers(inputs, weights);
        let outputs = &layers.last().expect("at least one layer").1;
        outputs.iter().zip(targets).map(|(a, t)| 0.5 * (t - a).powi(2)).sum()
    }

    /// The output layer's activations.
    pub fn outputs(&self, inputs: &[f64]) -> Vec<f64> {
        self.forward_layers(inputs, &self.weights)
            .pop()
            .expect("at least one layer")
            .1
    }

    /// Gradients by the layer-wise chain rule (the delta rule): δ of a unit = (Σ δ·w downstream)·f'(net).
    pub fn backprop_gradients(&self, inputs: &[f64], targets: &[f64]) -> Vec<f64> {
        let layers = self.forward_layers(inputs, &self.weights);
        let mut grads = vec![0.0; self.weights.len()];
        let (nets, acts) = layers.last().expect("at least one layer");
        let mut delta: Vec<f64> = (0..acts.len())
            .map(|j| (acts[j] - targets[j]) * self.activation.derivative(nets[j], acts[j]))
            .collect();
        let mut offset = self.weights.len();
        for l in (0..layers.len()).rev() {
            let below: &[f64] = if l == 0 { inputs } else { &layers[l - 1].1 };
            let n_in = below.len();
            offset -= n_in * delta.len();
            for (j, d) in delta.iter().enumerate() {
                for (i, a) in below.iter().enumerate() {
                    grads[offset + j * n_in + i] = d * a;
                }
            }
            if l > 0 {
                let (nets_below, acts_below) = &layers[l - 1];
                delta = (0..n_in)
                    .map(|i| {
                        let back: f64 = delta
                            .iter()
                            .enumerate()
                            .map(|(j, d)| d * self.weights[offset + j * n_in + i])
                            .sum();
                        back * self.activation.derivative(nets_below[i], acts_below[i])
                    })
                    .collect();
            }
        }
        grads
    }

    /// The loss and its gradients computed by the autograd engine.
    pub fn autograd_gradients(&self, inputs: &[f64], targets: &[f64]) -> (f64, Vec<f64>) {
        let mut g = Graph::new();
        let weights: Vec<_> = self.weights.iter().map(|&w| g.leaf(w)).collect();
        let mut previous: Vec<_> = inputs.iter().map(|&x| g.leaf(x)).collect();
        let mut offset = 0;
        for &n_out in &self.layers[1..] {
            let n_in = previous.len();
            let mut next = Vec::with_capacity(n_out);
            for j in 0..n_out {
                let terms: Vec<_> = (0..n_in)
                    .map(|i| g.mul(weights[offset + j * n_in + i], previous[i]))
                    .collect();
                let net = g.sum(&terms);
                next.push(match self.activation {
                    Activation::Sigmoid => g.sigmoid(net),
                    Activation::Tanh => g.tanh(net),
                    Activation::Relu => g.relu(net),
                });
            }
            offset += n_in * n_out;
            previous = next;
        }
        let errors: Vec<_> = previous
            .iter()
            .zip(targets)
            .map(|(&a, &t)| {
                let t = g.leaf(t);
                let diff = g.sub(t, a);
                let sq = g.square(diff);
                g.scale(sq, 0.5)
            })
            .collect();
        let loss = g.sum(&errors);
        g.backward(loss);
        (g.data(loss), weights.iter().map(|&w| g.grad(w)).collect())
    }

    /// Gradients by central finite differences with step `eps`, independent of any chain rule.
    pub fn finite_difference_gradients(&self, inputs: &[f64], targets: &[f64], eps: f64) -> Vec<f64> {
        (0..self.weights.len())
            .map(|k| {
                let (mut up, mut down) = (self.weights.clone(), self.weights.clone());
                up[k] += eps;
                down[k] -= eps;
                (self.loss(inputs, targets, &up) - self.loss(inputs, targets, &down)) / (2.0 * eps)
            })
            .collect()
    }

    /// Gradient descent with autograd gradients, updating all weights at once each iteration.
    pub fn descend(
        &self,
        inputs: &[f64],
        targets: &[f64],
        lr: f64,
        iterations: usize,
    ) -> Result<Vec<MlpIteration>, BackpropError> {
        crate::descent::validate_schedule(lr, iterations)?;
        self.check_example(inputs, targets)?;
        let mut current = self.clone();
        let mut rows = Vec::with_capacity(iterations);
        for iter in 1..=iterations {
            let (e_total, gradients) = current.autograd_gradients(inputs, targets);
            rows.push(MlpIteration {
                iter,
                weights: current.weights.clone(),
                outputs: current.outputs(inputs),
                e_total,
                gradients: gradients.clone(),
            });
            for (w, g) in current.weights.iter_mut().zip(&gradients) {
                *w -= lr * g;
            }
        }
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_2_2_2_network_agrees_with_the_worksheet_formulas() {
        let net = Net222::default();
        let mlp = Mlp::from_net222(&net);
        let (i, t) = (net.inputs, net.targets);
        let closed = net.gradients(&net.forward());
        let (loss, auto) = mlp.autograd_gradients(&i, &t);
        assert_eq!(loss, net.forward().e_total);
        for k in 0..8 {
            assert!((auto[k] - closed[k]).abs() <= 1e-15 * closed[k].abs().max(1e-300) * 8.0 + 1e-19);
        }
        assert_eq!(mlp.backprop_gradients(&i, &t).len(), 8);
    }

    #[test]
    fn three_derivations_agree_on_deeper_networks() {
        for act in [Activation::Sigmoid, Activation::Tanh, Activation::Relu] {
            let mlp = Mlp::seeded(&[3, 4, 3, 2], act, 7).unwrap();
            let (i, t) = ([0.5, -0.2, 0.9], [0.1, 0.8]);
            let bp = mlp.backprop_gradients(&i, &t);
            let (_, ag) = mlp.autograd_gradients(&i, &t);
            let fd = mlp.finite_difference_gradients(&i, &t, 1e-6);
            for k in 0..bp.len() {
                assert!((bp[k] - ag[k]).abs() < 1e-14, "{act:?} w{}", k + 1);
                assert!(
                    (bp[k] - fd[k]).abs() < 1e-8,
                    "{act:?} w{}: {} vs {}",
                    k + 1,
                    bp[k],
                    fd[k]
                );
            }
        }
    }

    #[test]
    fn seeded_weights_are_reproducible() {
        let a = Mlp::seeded(&[2, 3, 2], Activation::Sigmoid, 42).unwrap();
        let b = Mlp::seeded(&[2, 3, 2], Activation::Sigmoid, 42).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.weights().len(), 12);
        assert!(a.weights().iter().all(|w| w.abs() < 1.0 / 2f64.sqrt()));
    }

    #[test]
    fn rejects_bad_shapes() {
        assert!(Mlp::seeded(&[2], Activation::Sigmoid, 1).is_err());
        assert!(Mlp::seeded(&[2, 0, 1], Activation::Sigmoid, 1).is_err());
        let mlp = Mlp::seeded(&[2, 3, 2], Activation::Sigmoid, 1).unwrap();
        assert!(mlp.check_example(&[1.0], &[0.0, 1.0]).is_err());
    }
}
