//! A TensorFlow Playground experiment from its settings as text — the flags of `nnlab backprop boundary`
//! and the query of the web playground's `GET /api/boundary`, with the same names — and its results as one
//! JSON document (the run's `metrics.json`), so the CLI and the web give the same numbers for the same setup.

use std::collections::HashMap;
use std::path::Path;

use nnlab_backprop::Activation;
use nnlab_backprop::playground::{Experiment, Regularization, Setup, Shape, generate, parse_features, parse_points};
use serde_json::{Value, json};

use crate::{AppError, Result};

/// Most points a data set may have (generated or read).
pub const MAX_POINTS: usize = 5000;
/// Most epochs one request may train.
pub const MAX_EPOCHS: usize = 100_000;

/// The settings, as given (TF Playground's defaults in [`BoundaryRequest::default`]).
#[derive(Debug, Clone, PartialEq)]
pub struct BoundaryRequest {
    /// `circle`, `xor`, `gauss`, `spiral`, or a CSV file of `x1,x2,label`.
    pub data: String,
    /// Comma-separated features: x1 x2 x1sq x2sq x1x2 sinx1 sinx2.
    pub features: String,
    /// Comma-separated hidden layer sizes ("" for none).
    pub hidden: String,
    /// sigmoid, tanh, relu or linear.
    pub activation: String,
    /// Learning rate.
    pub lr: f64,
    /// Points per update.
    pub batch_size: usize,
    /// Epochs to train (0: the network as initialised).
    pub epochs: usize,
    /// Noise in percent (0–50), as TF Playground's slider.
    pub noise: f64,
    /// Seed of the data and the initial weights.
    pub seed: u64,
    /// Points generated.
    pub points: usize,
    /// Percentage used for training.
    pub train_percent: usize,
    /// none, l1 or l2.
    pub regularization: String,
    /// Regularisation rate.
    pub reg_rate: f64,
}

impl Default for BoundaryRequest {
    fn default() -> Self {
        Self {
            data: "circle".into(),
            features: "x1,x2".into(),
            hidden: "4,2".into(),
            activation: "tanh".into(),
            lr: 0.03,
            batch_size: 10,
            epochs: 500,
            noise: 0.0,
            seed: 1,
            points: 500,
            train_percent: 50,
            regularization: "none".into(),
            reg_rate: 0.0,
        }
    }
}

/// Every setting's name, as flag (`--batch-size`) and query key (`batch_size`).
pub const KEYS: [&str; 13] = [
    "data",
    "features",
    "hidden",
    "activation",
    "lr",
    "batch_size",
    "epochs",
    "noise",
    "seed",
    "points",
    "train_percent",
    "regularization",
    "reg_rate",
];

fn invalid(key: &str, why: impl std::fmt::Display) -> AppError {
    AppError::invalid(format!("{key}: {why}"))
}

fn number<T: std::str::FromStr>(key: &str, text: &str) -> Result<T> {
    text.trim()
        .parse()
        .map_err(|_| invalid(key, format!("'{text}' is not a valid number")))
}

impl BoundaryRequest {
    /// Settings from a query (keys of [`KEYS`]; missing ones keep the defaults; unknown ones are refused).
    pub fn from_query(query: &HashMap<String, String>) -> Result<Self> {
        let mut r = Self::default();
        for (key, value) in query {
            match key.as_str() {
                "data" => r.data = value.clone(),
                "features" => r.features = value.clone(),
                "hidden" => r.hidden = value.clone(),
                "activation" => r.activation = value.clone(),
                "lr" => r.lr = number(key, value)?,
                "batch_size" => r.batch_size = number(key, value)?,
                "epochs" => r.epochs = number(key, value)?,
                "noise" => r.noise = number(key, value)?,
                "seed" => r.seed = number(key, value)?,
                "points" => r.points = number(key, value)?,
                "train_percent" => r.train_percent = number(key, value)?,
                "regularization" => r.regularization = value.clone(),
                "reg_rate" => r.reg_rate = number(key, value)?,
                other => return Err(invalid(other, format!("unknown setting (known: {})", KEYS.join(", ")))),
            }
        }
        Ok(r)
    }

    /// The checked setup, the data's points and the epochs to train; `allow_files` lets `data` name a
    /// CSV file (the CLI; the web server reads no paths).
    pub fn experiment(&self, allow_files: bool) -> Result<(Experiment, usize)> {
        let features = parse_features(&self.features).map_err(|e| invalid("features", e))?;
        let hidden: Vec<usize> = if self.hidden.trim().is_empty() || self.hidden.trim() == "none" {
            Vec::new()
        } else {
            self.hidden
                .split(',')
                .map(|n| number::<usize>("hidden", n))
                .collect::<Result<_>>()?
        };
        let activation: Activation = self.activation.parse().map_err(|e| invalid("activation", e))?;
        let regularization = match self.regularization.as_str() {
            "none" | "" => Regularization::None,
            "l1" | "L1" => Regularization::L1,
            "l2" | "L2" => Regularization::L2,
            other => {
                return Err(invalid(
                    "regularization",
                    format!("'{other}' (expected none, l1 or l2)"),
                ));
            }
        };
        if !(0.0..=50.0).contains(&self.noise) {
            return Err(invalid("noise", format!("{} is outside 0–50 (%)", self.noise)));
        }
        if self.epochs > MAX_EPOCHS {
            return Err(invalid("epochs", format!("{} is over {MAX_EPOCHS}", self.epochs)));
        }
        if !(10..=MAX_POINTS).contains(&self.points) {
            return Err(invalid("points", format!("{} is outside 10–{MAX_POINTS}", self.points)));
        }
        let points = match self.data.parse::<Shape>() {
            Ok(shape) => generate(shape, self.points, self.noise / 100.0, self.seed),
            Err(_) if allow_files && self.data.ends_with(".csv") => read_points(Path::new(&self.data))?,
            Err(e) => return Err(invalid("data", e)),
        };
        let setup = Setup {
            features,
            hidden,
            activation,
            lr: self.lr,
            batch_size: self.batch_size,
            regularization,
            reg_rate: self.reg_rate,
            train_percent: self.train_percent,
            seed: self.seed,
        };
        let experiment = Experiment::new(setup, points).map_err(|e| AppError::invalid(e.to_string()))?;
        Ok((experiment, self.epochs))
    }
}

/// A CSV of `x1,x2,label`, shuffled by nothing (the file's order is kept), at most [`MAX_POINTS`].
fn read_points(path: &Path) -> Result<Vec<nnlab_backprop::playground::Point>> {
    let text = std::fs::read_to_string(path).map_err(|e| invalid("data", format!("{}: {e}", path.display())))?;
    let points =
        parse_points(&text, &path.display().to_string()).map_err(|e| AppError::invalid(format!("data: {e}")))?;
    if points.len() > MAX_POINTS {
        return Err(invalid(
            "data",
            format!("{}: more than {MAX_POINTS} points", path.display()),
        ));
    }
    Ok(points)
}

/// The results: `train_loss`, `test_loss`, `train_accuracy`, `test_accuracy` of the last epoch, `epochs`,
/// `per_epoch` ([{`epoch`, `train_loss`, `test_loss`, `train_accuracy`, `test_accuracy`}], epoch 0 first),
/// `layers` (units per layer), `weights` and `biases` (per layer after the input; weights[j·n_in + i]).
pub fn results_json(e: &Experiment) -> Value {
    let last = e.history.last().expect("epoch 0 is always recorded");
    let per_epoch: Vec<Value> = e
        .history
        .iter()
        .map(|h| {
            json!({ "epoch": h.epoch, "train_loss": h.train_loss, "test_loss": h.test_loss,
                    "train_accuracy": h.train_accuracy, "test_accuracy": h.test_accuracy })
        })
        .collect();
    json!({
        "epochs": last.epoch,
        "train_loss": last.train_loss,
        "test_loss": last.test_loss,
        "train_accuracy": last.train_accuracy,
        "test_accuracy": last.test_accuracy,
        "per_epoch": per_epoch,
        "features": e.setup.features.iter().map(|f| f.name()).collect::<Vec<_>>(),
        "layers": e.net.layers,
        "weights": e.net.weights,
        "biases": e.net.biases,
    })
}

/// A float as Python reads it back exactly (Rust prints the shortest round-tripping digits).
fn py_float(v: f64) -> String {
    let text = format!("{v:?}");
    if text.contains(['.', 'e', 'n', 'i']) {
        text
    } else {
        format!("{text}.0")
    }
}

/// The trained network as a PyTorch module file: class `Net` (float64 `nn.Linear` layers, the hidden
/// activation, a tanh output), `Net.features(x1, x2)` (the inputs it was trained on) and
/// `trained_state_dict()` / `load_trained()` with the weights written out exactly — the same exchange as
/// the CNNs' `export-pytorch`, for the playground's networks.
pub fn pytorch_module(e: &Experiment) -> String {
    let features: Vec<String> = e.setup.features.iter().map(|f| format!("\"{}\"", f.name())).collect();
    let act = match e.setup.activation {
        Activation::Tanh => "torch.tanh(x)",
        Activation::Relu => "torch.relu(x)",
        Activation::Sigmoid => "torch.sigmoid(x)",
        Activation::Linear => "x",
    };
    let layers: Vec<String> = e
        .net
        .layers
        .windows(2)
        .map(|w| format!("nn.Linear({}, {}, dtype=torch.float64)", w[0], w[1]))
        .collect();
    let mut state = String::new();
    for (l, (w, b)) in e.net.weights.iter().zip(&e.net.biases).enumerate() {
        let n_in = e.net.layers[l];
        let rows: Vec<String> = w
            .chunks(n_in)
            .map(|r| format!("[{}]", r.iter().map(|v| py_float(*v)).collect::<Vec<_>>().join(", ")))
            .collect();
        let bias: Vec<String> = b.iter().map(|v| py_float(*v)).collect();
        state += &format!(
            "        \"layers.{l}.weight\": torch.tensor([{}], dtype=torch.float64),\n        \"layers.{l}.bias\": torch.tensor([{}], dtype=torch.float64),\n",
            rows.join(", "),
            bias.join(", ")
        );
    }
    let last = e.history.last().expect("epoch 0 is recorded");
    format!(
        r#""""A TF Playground network trained by nnlab backprop boundary: features {feat}, layers {shape}, hidden
activation {activation}, tanh output; epoch {epoch}, test accuracy {acc:.4}. Written by nnlab; the weights are exact.

    net = load_trained()
    out = net(Net.features(x1, x2))   # in (-1, 1); the class is its sign
"""
import torch
from torch import nn

FEATURES = [{features}]


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([{layers}])

    @staticmethod
    def features(x1, x2):
        """The network's inputs from the coordinates (float64 tensors of one shape)."""
        x1, x2 = torch.as_tensor(x1, dtype=torch.float64), torch.as_tensor(x2, dtype=torch.float64)
        table = {{"x1": x1, "x2": x2, "x1sq": x1 * x1, "x2sq": x2 * x2, "x1x2": x1 * x2,
                 "sinx1": torch.sin(x1), "sinx2": torch.sin(x2)}}
        return torch.stack([table[f] for f in FEATURES], dim=-1)

    def forward(self, x):
        for layer in self.layers[:-1]:
            x = layer(x)
            x = {act}
        return torch.tanh(self.layers[-1](x))


def trained_state_dict():
    return {{
{state}    }}


def load_trained():
    net = Net()
    net.load_state_dict(trained_state_dict())
    return net.eval()
"#,
        feat = e.setup.features.iter().map(|f| f.name()).collect::<Vec<_>>().join(", "),
        shape = e.net.layers.iter().map(|n| n.to_string()).collect::<Vec<_>>().join("-"),
        activation = format!("{:?}", e.setup.activation).to_lowercase(),
        epoch = last.epoch,
        acc = last.test_accuracy,
        features = features.join(", "),
        layers = layers.join(", "),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_and_the_defaults_make_one_setup_and_bad_settings_are_named() {
        let q: HashMap<String, String> = [("data", "xor"), ("features", "x1x2"), ("hidden", ""), ("epochs", "30")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let (mut e, epochs) = BoundaryRequest::from_query(&q).unwrap().experiment(false).unwrap();
        e.run(epochs);
        let doc = results_json(&e);
        assert_eq!(doc["epochs"], 30);
        assert_eq!(doc["layers"], json!([1, 1]));
        assert!(doc["test_accuracy"].as_f64().unwrap() >= 0.98, "{doc}");
        let err = |pairs: &[(&str, &str)]| {
            let q = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            match BoundaryRequest::from_query(&q).and_then(|r| r.experiment(false)) {
                Err(e) => e.to_string(),
                Ok(_) => panic!("{pairs:?} accepted"),
            }
        };
        assert!(err(&[("data", "moons")]).starts_with("data: unknown data set 'moons'"));
        assert!(err(&[("hidden", "4,0")]).contains("layer 2 has 0 neurons"));
        assert!(err(&[("lr", "fast")]).starts_with("lr: 'fast'"));
        assert!(err(&[("colour", "red")]).starts_with("colour: unknown setting"));
        assert!(
            err(&[("data", "/etc/passwd.csv")]).starts_with("data:"),
            "no files from the web"
        );
    }
}
