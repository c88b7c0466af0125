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
    /// x (no nonlinearity; TF Playground's "linear").
    Linear,
}

impl FromStr for Activation {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "sigmoid" => Ok(Self::Sigmoid),
            "tanh" => Ok(Self::Tanh),
            "relu" => Ok(Self::Relu),
            "linear" => Ok(Self::Linear),
            other => Err(format!(
                "unknown activation '{other}' (expected sigmoid, tanh, relu or linear)"
            )),
        }
    }
}

impl Activation {
    /// f(x).
    pub fn apply(self, x: f64) -> f64 {
        match self {
            Self::Sigmoid => sigmoid(x),
            Self::Tanh => x.tanh(),
            Self::Relu => x.max(0.0),
            Self::Linear => x,
        }
    }

    /// The derivative expressed through the activation's output a (and its input x for ReLU).
    pub fn derivative(self, x: f64, a: f64) -> f64 {
        match self {
            Self::Sigmoid => a * (1.0 - a),
            Self::Tanh => 1.0 - a * a,
            Self::Linear => 1.0,
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

/// One training example: an input vector and its target vector.
#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    /// One value per input unit.
    pub inputs: Vec<f64>,
    /// One value per output unit.
    pub targets: Vec<f64>,
}

/// How a network's biases are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BiasLayout {
    /// No biases (the worksheet).
    None,
    /// One bias per layer, shared by its units (`b1` for the first layer after the input, …).
    PerLayer,
    /// One bias per unit (`b1_1` is layer 1's first unit), as `torch.nn.Linear` has.
    PerUnit,
}

/// A fully connected network. Weights are numbered as in the worksheet: layer by layer, then by the
/// receiving unit, then by the sending unit (so a 2-2-2 network's w1..w8 are the worksheet's). Its
/// parameters are the weights followed by the biases, in that order everywhere (gradients, names).
#[derive(Debug, Clone, PartialEq)]
pub struct Mlp {
    layers: Vec<usize>,
    activation: Activation,
    weights: Vec<f64>,
    biases: Vec<f64>,
    bias_layout: BiasLayout,
}

/// One step of gradient descent on an [`Mlp`].
#[derive(Debug, Clone, PartialEq)]
pub struct MlpIteration {
    /// Iteration number, starting at 1.
    pub iter: usize,
    /// Weights used in this row's forward pass.
    pub weights: Vec<f64>,
    /// Biases used in this row's forward pass (empty without biases).
    pub biases: Vec<f64>,
    /// Activations of the output layer, one vector per example.
    pub outputs: Vec<Vec<f64>>,
    /// Σ over the examples of Σ½(t − a)² over the outputs.
    pub e_total: f64,
    /// ∂E_total/∂w for every weight (summed over the examples).
    pub gradients: Vec<f64>,
    /// ∂E_total/∂b for every bias (summed over the examples; empty without biases).
    pub bias_gradients: Vec<f64>,
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

    /// A network with the given weights (in worksheet numbering) and no biases.
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
            biases: Vec::new(),
            bias_layout: BiasLayout::None,
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

    /// The same network with these biases: one value per layer after the input (shared by the layer's
    /// units) or one per unit; the count decides which.
    pub fn with_biases(self, biases: Vec<f64>) -> Result<Self, BackpropError> {
        let per_layer = self.layers.len() - 1;
        let per_unit: usize = self.layers[1..].iter().sum();
        let bias_layout = if biases.len() == per_layer {
            BiasLayout::PerLayer
        } else if biases.len() == per_unit {
            BiasLayout::PerUnit
        } else {
            return Err(BackpropError::BadBiasCount {
                layers: per_layer,
                units: per_unit,
                got: biases.len(),
            });
        };
        let named = Self {
            biases,
            bias_layout,
            ..self
        };
        for (name, b) in named.bias_names().iter().zip(&named.biases) {
            ensure_finite(name, *b)?;
        }
        Ok(named)
    }

    /// The same network with one bias per unit drawn like PyTorch's `nn.Linear` does,
    /// U(−1/√fan_in, 1/√fan_in), from its own ChaCha8 stream of `seed` (the weights' draws are unchanged).
    pub fn with_seeded_biases(self, seed: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(1);
        let biases = self
            .layers
            .windows(2)
            .flat_map(|pair| {
                let bound = 1.0 / (pair[0] as f64).sqrt();
                (0..pair[1])
                    .map(|_| rng.random_range(-bound..bound))
                    .collect::<Vec<_>>()
            })
            .collect();
        Self {
            biases,
            bias_layout: BiasLayout::PerUnit,
            ..self
        }
    }

    /// The worksheet's 2-2-2 sigmoid network with its weights, and with its two shared biases as
    /// parameters when `with_biases` (otherwise they must be zero, as in the worksheet).
    pub fn from_net222(net: &Net222, with_biases: bool) -> Self {
        let plain = Self {
            layers: vec![2, 2, 2],
            activation: Activation::Sigmoid,
            weights: net.weights.to_vec(),
            biases: Vec::new(),
            bias_layout: BiasLayout::None,
        };
        if !with_biases {
            debug_assert_eq!(net.biases, [0.0, 0.0], "a network with biases needs with_biases");
            plain
        } else {
            Self {
                biases: net.biases.to_vec(),
                bias_layout: BiasLayout::PerLayer,
                ..plain
            }
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

    /// The biases (empty without biases), in the order of [`Mlp::bias_names`].
    pub fn biases(&self) -> &[f64] {
        &self.biases
    }

    /// How the biases are laid out.
    pub fn bias_layout(&self) -> BiasLayout {
        self.bias_layout
    }

    /// The activation used on every unit.
    pub fn activation(&self) -> Activation {
        self.activation
    }

    /// Names of the biases: `b1, b2, …` one per layer, or `b1_1, b1_2, …` (layer_unit) one per unit.
    pub fn bias_names(&self) -> Vec<String> {
        match self.bias_layout {
            BiasLayout::None => Vec::new(),
            BiasLayout::PerLayer => (1..self.layers.len()).map(|l| format!("b{l}")).collect(),
            BiasLayout::PerUnit => self.layers[1..]
                .iter()
                .enumerate()
                .flat_map(|(l, &n)| (1..=n).map(move |j| format!("b{}_{j}", l + 1)))
                .collect(),
        }
    }

    /// Names of every parameter: `w1..wN`, then the biases.
    pub fn parameter_names(&self) -> Vec<String> {
        (1..=self.weights.len())
            .map(|k| format!("w{k}"))
            .chain(self.bias_names())
            .collect()
    }

    /// Every parameter: the weights, then the biases.
    pub fn parameters(&self) -> Vec<f64> {
        self.weights.iter().chain(&self.biases).copied().collect()
    }

    /// Index into the biases of layer `l`'s (0-based, after the input) unit `j`, if the network has biases.
    fn bias_index(&self, l: usize, j: usize) -> Option<usize> {
        match self.bias_layout {
            BiasLayout::None => None,
            BiasLayout::PerLayer => Some(l),
            BiasLayout::PerUnit => Some(self.layers[1..1 + l].iter().sum::<usize>() + j),
        }
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

    /// Checks every example against the network, and that there is at least one.
    pub fn check_examples(&self, examples: &[Example]) -> Result<(), BackpropError> {
        if examples.is_empty() {
            return Err(BackpropError::NoExamples);
        }
        examples
            .iter()
            .try_for_each(|e| self.check_example(&e.inputs, &e.targets))
    }

    /// Net inputs and activations of every layer after the input layer, for the parameters `params`
    /// (weights then biases).
    fn forward_layers(&self, inputs: &[f64], params: &[f64]) -> Vec<(Vec<f64>, Vec<f64>)> {
        let (weights, biases) = params.split_at(self.weights.len());
        let mut layers = Vec::with_capacity(self.layers.len() - 1);
        let mut previous = inputs.to_vec();
        let mut offset = 0;
        for (l, &n_out) in self.layers[1..].iter().enumerate() {
            let n_in = previous.len();
            let nets: Vec<f64> = (0..n_out)
                .map(|j| {
                    let dot: f64 = (0..n_in).map(|i| weights[offset + j * n_in + i] * previous[i]).sum();
                    match self.bias_index(l, j) {
                        Some(b) => dot + biases[b],
                        None => dot,
                    }
                })
                .collect();
            let acts: Vec<f64> = nets.iter().map(|&x| self.activation.apply(x)).collect();
            offset += n_in * n_out;
            previous = acts.clone();
            layers.push((nets, acts));
        }
        layers
    }

    /// E_total = Σ over the examples of Σ½(t − a)², for the parameters `params` (weights then biases).
    pub fn loss(&self, examples: &[Example], params: &[f64]) -> f64 {
        examples
            .iter()
            .map(|e| {
                let layers = self.forward_layers(&e.inputs, params);
                let outputs = &layers.last().expect("at least one layer").1;
                outputs
                    .iter()
                    .zip(&e.targets)
                    .map(|(a, t)| 0.5 * (t - a).powi(2))
                    .sum::<f64>()
            })
            .sum()
    }

    /// The output layer's activations.
    pub fn outputs(&self, inputs: &[f64]) -> Vec<f64> {
        self.forward_layers(inputs, &self.parameters())
            .pop()
            .expect("at least one layer")
            .1
    }

    /// One example's gradients for every parameter (weights then biases) by the layer-wise chain rule
    /// (the delta rule): δ of a unit = (Σ δ·w downstream)·f'(net); ∂E/∂b is the δ of the units it feeds.
    pub fn example_gradients(&self, example: &Example) -> Vec<f64> {
        let (inputs, targets) = (&example.inputs, &example.targets);
        let layers = self.forward_layers(inputs, &self.parameters());
        let mut grads = vec![0.0; self.weights.len() + self.biases.len()];
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
                if let Some(b) = self.bias_index(l, j) {
                    grads[self.weights.len() + b] += d;
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

    /// Gradients of the summed loss by the delta rule: the sum of the examples' own gradients.
    pub fn backprop_gradients(&self, examples: &[Example]) -> Vec<f64> {
        let mut total = vec![0.0; self.weights.len() + self.biases.len()];
        for e in examples {
            for (t, g) in total.iter_mut().zip(self.example_gradients(e)) {
                *t += g;
            }
        }
        total
    }

    /// The summed loss and its gradients for every parameter computed by the autograd engine: one graph
    /// in which every example's loss uses the same parameter leaves.
    pub fn autograd_gradients(&self, examples: &[Example]) -> (f64, Vec<f64>) {
        let mut g = Graph::new();
        let weights: Vec<_> = self.weights.iter().map(|&w| g.leaf(w)).collect();
        let biases: Vec<_> = self.biases.iter().map(|&b| g.leaf(b)).collect();
        let mut errors = Vec::new();
        for example in examples {
            let mut previous: Vec<_> = example.inputs.iter().map(|&x| g.leaf(x)).collect();
            let mut offset = 0;
            for (l, &n_out) in self.layers[1..].iter().enumerate() {
                let n_in = previous.len();
                let mut next = Vec::with_capacity(n_out);
                for j in 0..n_out {
                    let mut terms: Vec<_> = (0..n_in)
                        .map(|i| g.mul(weights[offset + j * n_in + i], previous[i]))
                        .collect();
                    if let Some(b) = self.bias_index(l, j) {
                        terms.push(biases[b]);
                    }
                    let net = g.sum(&terms);
                    next.push(match self.activation {
                        Activation::Sigmoid => g.sigmoid(net),
                        Activation::Tanh => g.tanh(net),
                        Activation::Relu => g.relu(net),
                        Activation::Linear => net,
                    });
                }
                offset += n_in * n_out;
                previous = next;
            }
            for (&a, &t) in previous.iter().zip(&example.targets) {
                let t = g.leaf(t);
                let diff = g.sub(t, a);
                let sq = g.square(diff);
                errors.push(g.scale(sq, 0.5));
            }
        }
        let loss = g.sum(&errors);
        g.backward(loss);
        let grads = weights.iter().chain(&biases).map(|&p| g.grad(p)).collect();
        (g.data(loss), grads)
    }

    /// Gradients of the summed loss for every parameter by central finite differences with step `eps`,
    /// independent of any chain rule.
    pub fn finite_difference_gradients(&self, examples: &[Example], eps: f64) -> Vec<f64> {
        let params = self.parameters();
        (0..params.len())
            .map(|k| {
                let (mut up, mut down) = (params.clone(), params.clone());
                up[k] += eps;
                down[k] -= eps;
                (self.loss(examples, &up) - self.loss(examples, &down)) / (2.0 * eps)
            })
            .collect()
    }

    /// Full-batch gradient descent with autograd gradients of the summed loss, updating all weights (and,
    /// with `learn_biases`, all biases) at once each iteration.
    pub fn descend(
        &self,
        examples: &[Example],
        lr: f64,
        iterations: usize,
        learn_biases: bool,
    ) -> Result<Vec<MlpIteration>, BackpropError> {
        crate::descent::validate_schedule(lr, iterations)?;
        self.check_examples(examples)?;
        let mut current = self.clone();
        let mut rows = Vec::with_capacity(iterations);
        let n_w = self.weights.len();
        for iter in 1..=iterations {
            let (e_total, gradients) = current.autograd_gradients(examples);
            rows.push(MlpIteration {
                iter,
                weights: current.weights.clone(),
                biases: current.biases.clone(),
                outputs: examples.iter().map(|e| current.outputs(&e.inputs)).collect(),
                e_total,
                gradients: gradients[..n_w].to_vec(),
                bias_gradients: gradients[n_w..].to_vec(),
            });
            for (w, g) in current.weights.iter_mut().zip(&gradients) {
                *w -= lr * g;
            }
            if learn_biases {
                for (b, g) in current.biases.iter_mut().zip(&gradients[n_w..]) {
                    *b -= lr * g;
                }
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
        let mlp = Mlp::from_net222(&net, false);
        let one = [Example {
            inputs: net.inputs.to_vec(),
            targets: net.targets.to_vec(),
        }];
        let closed = net.gradients(&net.forward());
        let (loss, auto) = mlp.autograd_gradients(&one);
        assert_eq!(loss, net.forward().e_total);
        for k in 0..8 {
            assert!((auto[k] - closed[k]).abs() <= 1e-15 * closed[k].abs().max(1e-300) * 8.0 + 1e-19);
        }
        assert_eq!(mlp.backprop_gradients(&one).len(), 8);
    }

    #[test]
    fn three_derivations_agree_on_deeper_networks() {
        for act in [Activation::Sigmoid, Activation::Tanh, Activation::Relu] {
            let mlp = Mlp::seeded(&[3, 4, 3, 2], act, 7).unwrap();
            let one = [Example {
                inputs: vec![0.5, -0.2, 0.9],
                targets: vec![0.1, 0.8],
            }];
            let bp = mlp.backprop_gradients(&one);
            let (_, ag) = mlp.autograd_gradients(&one);
            let fd = mlp.finite_difference_gradients(&one, 1e-6);
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

    fn xor() -> Vec<Example> {
        [
            ([0.0, 0.0], 0.0),
            ([0.0, 1.0], 1.0),
            ([1.0, 0.0], 1.0),
            ([1.0, 1.0], 0.0),
        ]
        .into_iter()
        .map(|(x, t)| Example {
            inputs: x.to_vec(),
            targets: vec![t],
        })
        .collect()
    }

    #[test]
    fn three_derivations_agree_with_biases_and_several_examples() {
        for act in [Activation::Sigmoid, Activation::Tanh] {
            let per_unit = Mlp::seeded(&[2, 3, 1], act, 3).unwrap().with_seeded_biases(3);
            let per_layer = Mlp::seeded(&[2, 3, 1], act, 3)
                .unwrap()
                .with_biases(vec![0.3, -0.2])
                .unwrap();
            for mlp in [per_unit, per_layer] {
                let bp = mlp.backprop_gradients(&xor());
                let (loss, ag) = mlp.autograd_gradients(&xor());
                let fd = mlp.finite_difference_gradients(&xor(), 1e-6);
                assert_eq!(bp.len(), mlp.parameter_names().len());
                assert_eq!(loss, mlp.loss(&xor(), &mlp.parameters()));
                for k in 0..bp.len() {
                    assert!((bp[k] - ag[k]).abs() < 1e-14, "{act:?} {}", mlp.parameter_names()[k]);
                    assert!((bp[k] - fd[k]).abs() < 1e-8, "{act:?} {}", mlp.parameter_names()[k]);
                }
                // The summed gradient is the sum of the examples' own gradients.
                let by_example: Vec<Vec<f64>> = xor().iter().map(|e| mlp.example_gradients(e)).collect();
                for k in 0..bp.len() {
                    let sum: f64 = by_example.iter().map(|g| g[k]).sum();
                    assert!((sum - bp[k]).abs() < 1e-15);
                }
            }
        }
    }

    #[test]
    fn a_2_2_1_network_with_learned_biases_learns_xor() {
        let mlp = Mlp::seeded(&[2, 2, 1], Activation::Sigmoid, 1)
            .unwrap()
            .with_seeded_biases(1);
        let rows = mlp.descend(&xor(), 2.0, 3000, true).unwrap();
        let last = rows.last().unwrap();
        for (out, e) in last.outputs.iter().zip(xor()) {
            assert!((out[0] - e.targets[0]).abs() < 0.1, "{:?}", last.outputs);
        }
        // The same start without biases does not get there in as many steps.
        let plain = Mlp::seeded(&[2, 2, 1], Activation::Sigmoid, 1).unwrap();
        let rows = plain.descend(&xor(), 2.0, 3000, false).unwrap();
        assert!(rows.last().unwrap().e_total > 0.1);
    }

    #[test]
    fn bias_layouts_and_names() {
        let mlp = Mlp::seeded(&[2, 3, 2], Activation::Sigmoid, 1).unwrap();
        assert_eq!(
            mlp.clone().with_biases(vec![0.1, 0.2]).unwrap().bias_names(),
            ["b1", "b2"]
        );
        let per_unit = mlp.clone().with_biases(vec![0.0; 5]).unwrap();
        assert_eq!(per_unit.bias_names(), ["b1_1", "b1_2", "b1_3", "b2_1", "b2_2"]);
        assert_eq!(per_unit.bias_index(1, 1), Some(4));
        assert_eq!(
            mlp.clone().with_biases(vec![0.0; 3]).unwrap_err().to_string(),
            "biases: the network has 2 layers and 5 units after the input; give 2 values (one per layer) or 5 (one per unit), got 3"
        );
        assert_eq!(mlp.with_seeded_biases(4).biases().len(), 5);
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
