//! Any small network on TensorFlow Playground's data sets, exactly: the data ([`data`]), the network and
//! its training rule ([`net`]), and a whole experiment — a setup trained epoch by epoch from its seed, with
//! the losses, accuracies and pictures (the output and every neuron over the plane) that `nnlab backprop
//! boundary` draws and the web playground shows. The same setup gives the same numbers everywhere.

pub mod data;
pub mod net;

pub use data::{FEATURES, Feature, Point, Shape, generate, parse_features, parse_points};
pub use net::{PlayNet, Regularization};

use crate::error::BackpropError;
use crate::mlp::Activation;

/// The half-width of the plane TF Playground draws: x1, x2 ∈ [−6, 6].
pub const PLANE: f64 = 6.0;

/// Most hidden layers and units per layer accepted (the web page offers up to 6 × 8).
pub const MAX_LAYERS: usize = 10;
/// Most units in one hidden layer.
pub const MAX_UNITS: usize = 64;

/// Everything an experiment is made of (TF Playground's defaults in [`Setup::default`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Setup {
    /// The input features.
    pub features: Vec<Feature>,
    /// Hidden layer sizes (empty: inputs straight to the output).
    pub hidden: Vec<usize>,
    /// The hidden units' activation.
    pub activation: Activation,
    /// Learning rate.
    pub lr: f64,
    /// Points per update.
    pub batch_size: usize,
    /// Regulariser.
    pub regularization: Regularization,
    /// Its rate.
    pub reg_rate: f64,
    /// Percentage of the points used for training (the rest test).
    pub train_percent: usize,
    /// The seed of the data and of the initial weights.
    pub seed: u64,
}

impl Default for Setup {
    fn default() -> Self {
        Self {
            features: vec![Feature::X1, Feature::X2],
            hidden: vec![4, 2],
            activation: Activation::Tanh,
            lr: 0.03,
            batch_size: 10,
            regularization: Regularization::None,
            reg_rate: 0.0,
            train_percent: 50,
            seed: 1,
        }
    }
}

impl Setup {
    /// Checks every setting, naming the one at fault.
    pub fn check(&self) -> Result<(), BackpropError> {
        let bad = |m: String| Err(BackpropError::BadData(m));
        if self.features.is_empty() {
            return bad("features: pick at least one".into());
        }
        if self.hidden.len() > MAX_LAYERS {
            return bad(format!(
                "hidden: at most {MAX_LAYERS} hidden layers, got {}",
                self.hidden.len()
            ));
        }
        if let Some(k) = self.hidden.iter().position(|&n| n == 0 || n > MAX_UNITS) {
            return bad(format!(
                "hidden: layer {} has {} neurons; each needs 1 to {MAX_UNITS}",
                k + 1,
                self.hidden[k]
            ));
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return bad(format!("lr: must be a number > 0, got {}", self.lr));
        }
        if self.batch_size == 0 {
            return bad("batch size: must be at least 1".into());
        }
        if !(self.reg_rate.is_finite() && self.reg_rate >= 0.0) {
            return bad(format!("regularization rate: must be ≥ 0, got {}", self.reg_rate));
        }
        if !(10..=90).contains(&self.train_percent) {
            return bad(format!("train percent: 10 to 90, got {}", self.train_percent));
        }
        Ok(())
    }

    /// A point's feature vector.
    pub fn inputs(&self, x: f64, y: f64) -> Vec<f64> {
        self.features.iter().map(|f| f.at(x, y)).collect()
    }
}

/// One epoch's numbers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EpochStats {
    /// Epoch, from 1 (0: before training).
    pub epoch: usize,
    /// Mean ½(output − label)² over the training points.
    pub train_loss: f64,
    /// The same over the test points.
    pub test_loss: f64,
    /// Share of training points on the right side.
    pub train_accuracy: f64,
    /// Share of test points on the right side.
    pub test_accuracy: f64,
}

/// A setup with its data, trained epoch by epoch.
#[derive(Debug, Clone)]
pub struct Experiment {
    /// The settings.
    pub setup: Setup,
    /// Training points.
    pub train: Vec<Point>,
    /// Test points.
    pub test: Vec<Point>,
    /// The network as it stands.
    pub net: PlayNet,
    /// Epoch 0 (untrained), then one record per epoch trained.
    pub history: Vec<EpochStats>,
    train_inputs: Vec<(Vec<f64>, f64)>,
    test_inputs: Vec<(Vec<f64>, f64)>,
}

impl Experiment {
    /// Splits `points` (already shuffled) into training and test points and builds the network.
    pub fn new(setup: Setup, points: Vec<Point>) -> Result<Self, BackpropError> {
        setup.check()?;
        let n_train = (points.len() * setup.train_percent / 100).max(1).min(points.len() - 1);
        let (train, test) = points.split_at(n_train);
        let with_inputs = |pts: &[Point]| {
            pts.iter()
                .map(|p| (setup.inputs(p.x, p.y), p.label))
                .collect::<Vec<_>>()
        };
        let net = PlayNet::new(setup.features.len(), &setup.hidden, setup.activation, setup.seed);
        let mut e = Self {
            train_inputs: with_inputs(train),
            test_inputs: with_inputs(test),
            train: train.to_vec(),
            test: test.to_vec(),
            net,
            history: Vec::new(),
            setup,
        };
        e.history.push(e.stats(0));
        Ok(e)
    }

    fn stats(&self, epoch: usize) -> EpochStats {
        EpochStats {
            epoch,
            train_loss: self.net.loss(&self.train_inputs),
            test_loss: self.net.loss(&self.test_inputs),
            train_accuracy: self.net.accuracy(&self.train_inputs),
            test_accuracy: self.net.accuracy(&self.test_inputs),
        }
    }

    /// Trains `epochs` more epochs, recording each.
    pub fn run(&mut self, epochs: usize) {
        let s = &self.setup;
        let (lr, batch, reg, rate) = (s.lr, s.batch_size, s.regularization, s.reg_rate);
        for _ in 0..epochs {
            self.net.train_epoch(&self.train_inputs, lr, batch, reg, rate);
            let epoch = self.history.len();
            self.history.push(self.stats(epoch));
        }
    }

    /// The output over a `res`×`res` grid of the plane, row by row from the top (x2 = +6) and left
    /// (x1 = −6), at cell centres.
    pub fn output_grid(&self, res: usize) -> Vec<f64> {
        grid(res)
            .map(|(x, y)| self.net.output(&self.setup.inputs(x, y)))
            .collect()
    }

    /// Every unit's output over the grid (the inputs' features first, then layer by layer): one picture
    /// per neuron, as TF Playground draws them in the network.
    pub fn neuron_grids(&self, res: usize) -> Vec<Vec<Vec<f64>>> {
        let traces: Vec<_> = grid(res)
            .map(|(x, y)| self.net.trace(&self.setup.inputs(x, y)))
            .collect();
        self.net
            .layers
            .iter()
            .enumerate()
            .map(|(l, &units)| (0..units).map(|j| traces.iter().map(|t| t[l].1[j]).collect()).collect())
            .collect()
    }
}

/// The cell centres of a `res`×`res` grid over [−6, 6]², row by row from the top.
pub fn grid(res: usize) -> impl Iterator<Item = (f64, f64)> {
    let step = 2.0 * PLANE / res as f64;
    (0..res * res).map(move |k| {
        let (row, col) = (k / res, k % res);
        (-PLANE + (col as f64 + 0.5) * step, PLANE - (row as f64 + 0.5) * step)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xor_with_x1x2_alone_is_learned_without_a_hidden_layer() {
        let setup = Setup {
            features: vec![Feature::X1X2],
            hidden: vec![],
            ..Setup::default()
        };
        let mut e = Experiment::new(setup, generate(Shape::Xor, 500, 0.0, 1)).unwrap();
        assert_eq!((e.train.len(), e.test.len()), (250, 250));
        e.run(50);
        let last = e.history.last().unwrap();
        assert!(last.test_accuracy >= 0.98, "{last:?}");
        assert!(last.test_loss < e.history[0].test_loss);
    }

    #[test]
    fn settings_are_checked_by_name() {
        let bad = |s: Setup| {
            Experiment::new(s, generate(Shape::Circle, 20, 0.0, 1))
                .unwrap_err()
                .to_string()
        };
        assert!(
            bad(Setup {
                hidden: vec![4, 0],
                ..Setup::default()
            })
            .contains("layer 2 has 0 neurons")
        );
        assert!(
            bad(Setup {
                features: vec![],
                ..Setup::default()
            })
            .starts_with("features")
        );
        assert!(
            bad(Setup {
                lr: 0.0,
                ..Setup::default()
            })
            .starts_with("lr")
        );
    }
}
