//! The network flags every backprop command shares, and their validation.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
pub use nnlab_app::backprop_input::{
    Layers, Numbers, exactly, parse_iterations, parse_layers, parse_lr, parse_lrs, parse_numbers,
};
use nnlab_backprop::dataset::{BUILT_IN, built_in, parse_csv};
use nnlab_backprop::table::BiasColumns;
use nnlab_backprop::{Activation, Dataset, Example, Mlp, Net222};

/// The network: the worksheet's 2-2-2 by default, any fully connected shape with `--layers`.
#[derive(Debug, Clone, Args)]
pub struct NetArgs {
    /// Inputs i1,i2 (default 0.05,0.1); with --layers, one per input unit.
    #[arg(long, value_name = "I1,I2", allow_hyphen_values = true, value_parser = parse_numbers)]
    pub inputs: Option<Numbers>,
    /// Targets t1,t2 (default 0.5,0.5); with --layers, one per output unit.
    #[arg(long, value_name = "T1,T2", allow_hyphen_values = true, value_parser = parse_numbers)]
    pub targets: Option<Numbers>,
    /// Starting weights w1..w8 (default 0.15,0.2,0.25,0.3,0.4,0.45,0.5,0.55); numbered layer by layer,
    /// then by receiving unit, then by sending unit.
    #[arg(long, value_name = "W1,..,W8", allow_hyphen_values = true, value_parser = parse_numbers)]
    pub weights: Option<Numbers>,
    /// Any fully connected network instead of 2-2-2, e.g. 2,3,2 (seeded weights unless --weights is given).
    #[arg(long, value_name = "N0,N1,..", value_parser = parse_layers)]
    pub layers: Option<Layers>,
    /// Activation on every unit of a --layers network.
    #[arg(long, default_value = "sigmoid", value_parser = ["sigmoid", "tanh", "relu"])]
    pub activation: String,
    /// Seed for the initial weights (and learned biases) of a --layers or --data network.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Biases: b1,b2 for the worksheet (b1 shared by the hidden units, b2 by the outputs); with --layers,
    /// one per layer or one per unit. Fixed unless --learn-biases.
    #[arg(long, value_name = "B1,B2", allow_hyphen_values = true, value_parser = parse_numbers)]
    pub biases: Option<Numbers>,
    /// Compute ∂E/∂b and update the biases like the weights (biases start at 0 on the worksheet, and are
    /// seeded one per unit on a --layers/--data network, when --biases is not given).
    #[arg(long)]
    pub learn_biases: bool,
    /// Several examples instead of --inputs/--targets: a CSV file with header x1,..,xn,t1,..,tm, or a
    /// built-in truth table (xor, and, or). E_total sums over them; each iteration is one full-batch step.
    #[arg(long, value_name = "FILE.csv|xor|and|or")]
    pub data: Option<String>,
}

/// The worksheet network and which bias columns it shows.
pub struct Worksheet {
    /// Inputs, targets, weights and biases.
    pub net: Net222,
    /// None without --biases/--learn-biases, so every output stays the worksheet's.
    pub bias: BiasColumns,
}

impl Worksheet {
    /// Whether the biases are updated by gradient descent.
    pub fn learn_biases(&self) -> bool {
        self.bias == BiasColumns::Learned
    }
}

/// Either the worksheet network or a general one with its examples.
pub enum Network {
    /// The 2-2-2 worksheet network.
    Worksheet(Worksheet),
    /// A --layers or --data network with its examples.
    Layers {
        /// The network.
        mlp: Mlp,
        /// One example (--inputs/--targets) or the examples of --data.
        examples: Vec<Example>,
        /// Whether the biases are updated by gradient descent.
        learn_biases: bool,
    },
}

/// [`exactly`] for a flag of numbers, the error naming the flag.
fn exactly_flag<const N: usize>(flag: &str, values: &Option<Numbers>, default: [f64; N]) -> Result<[f64; N]> {
    exactly(values.as_ref().map(|n| n.0.as_slice()), default).map_err(|e| anyhow::anyhow!("{flag}: {e}"))
}

impl NetArgs {
    /// The worksheet network; refuses --layers and --data for commands that only know 2-2-2.
    pub fn worksheet(&self) -> Result<Worksheet> {
        if self.layers.is_some() {
            bail!("--layers: this command works on the 2-2-2 worksheet network only");
        }
        if self.data.is_some() {
            bail!("--data: this command works on the 2-2-2 worksheet network with one example only");
        }
        let d = Net222::default();
        let net = Net222::new(
            exactly_flag("--inputs", &self.inputs, d.inputs)?,
            exactly_flag("--targets", &self.targets, d.targets)?,
            exactly_flag("--weights", &self.weights, d.weights)?,
        )?;
        let net = match &self.biases {
            Some(Numbers(b)) if b.len() == 2 => net.with_biases([b[0], b[1]])?,
            Some(Numbers(b)) => bail!(
                "--biases: the worksheet network has one bias per layer (b1 hidden, b2 output), so give 2 numbers, got {}; for one per unit use --layers 2,2,2",
                b.len()
            ),
            None => net,
        };
        Ok(Worksheet {
            net,
            bias: BiasColumns::for_run(self.biases.is_some(), self.learn_biases),
        })
    }

    /// The examples of --data, checked against the activation's output range.
    fn dataset(&self, source: &str, activation: Activation) -> Result<Dataset> {
        let dataset = match built_in(source) {
            Some(d) => d,
            None if !source.contains('.') && !source.contains('/') && !PathBuf::from(source).exists() => bail!(
                "--data {source}: no such file and not a built-in dataset ({})",
                BUILT_IN.join(", ")
            ),
            None => {
                let text =
                    std::fs::read_to_string(source).with_context(|| format!("--data {source}: cannot read it"))?;
                parse_csv(&text).map_err(|e| anyhow::anyhow!("--data {source}: {e}"))?
            }
        };
        if let Err((k, message)) = dataset.check_targets(activation) {
            match dataset.lines[k] {
                0 => bail!("--data {source}: example {}: {message}", k + 1),
                line => bail!("--data {source}: line {line}: {message}"),
            }
        }
        Ok(dataset)
    }

    /// The network the flags describe: the worksheet, or a general network with --layers or --data.
    pub fn network(&self) -> Result<Network> {
        if self.layers.is_none() && self.data.is_none() {
            return Ok(Network::Worksheet(self.worksheet()?));
        }
        let activation: Activation = self.activation.parse().map_err(anyhow::Error::msg)?;
        let dataset = match &self.data {
            Some(source) => {
                if self.inputs.is_some() || self.targets.is_some() {
                    bail!("--data: the examples come from {source}; drop --inputs and --targets");
                }
                Some(self.dataset(source, activation)?)
            }
            None => None,
        };
        let layers = match (&self.layers, &dataset) {
            (Some(Layers(layers)), Some(d)) => {
                if layers.first() != Some(&d.inputs) || layers.last() != Some(&d.targets) {
                    bail!(
                        "--layers {}: the data has {} inputs and {} targets per example, so the first layer needs {} units and the last {}",
                        layers.iter().map(|l| l.to_string()).collect::<Vec<_>>().join(","),
                        d.inputs,
                        d.targets,
                        d.inputs,
                        d.targets
                    );
                }
                layers.clone()
            }
            (Some(Layers(layers)), None) => layers.clone(),
            // Two hidden units, as in the worksheet: the smallest network that can learn XOR.
            (None, Some(d)) => vec![d.inputs, 2, d.targets],
            (None, None) => unreachable!("handled above"),
        };
        let mlp = match &self.weights {
            Some(Numbers(w)) => Mlp::new(&layers, activation, w.clone()),
            None => Mlp::seeded(&layers, activation, self.seed),
        }
        .map_err(|e| anyhow::anyhow!("--layers/--weights: {e}"))?;
        let mlp = match (&self.biases, self.learn_biases) {
            (Some(Numbers(b)), _) => mlp.with_biases(b.clone()).map_err(|e| anyhow::anyhow!("--{e}"))?,
            (None, true) => mlp.with_seeded_biases(self.seed),
            (None, false) => mlp,
        };
        let examples = match dataset {
            Some(d) => d.examples,
            None => {
                let d = Net222::default();
                let pick = |flag: &str, given: &Option<Numbers>, n: usize, default: [f64; 2]| -> Result<Vec<f64>> {
                    match given {
                        Some(Numbers(v)) if v.len() == n => Ok(v.clone()),
                        Some(Numbers(v)) => bail!("{flag}: the network has {n} units there, got {} numbers", v.len()),
                        None if n == 2 => Ok(default.to_vec()),
                        None => bail!("{flag}: give {n} numbers for a layer of {n} units"),
                    }
                };
                vec![Example {
                    inputs: pick("--inputs", &self.inputs, layers[0], d.inputs)?,
                    targets: pick("--targets", &self.targets, *layers.last().unwrap_or(&0), d.targets)?,
                }]
            }
        };
        Ok(Network::Layers {
            mlp,
            examples,
            learn_biases: self.learn_biases,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_negative_numbers_and_rejects_words() {
        assert_eq!(
            parse_numbers("-0.4, 0.25,1e-3").unwrap(),
            Numbers(vec![-0.4, 0.25, 0.001])
        );
        assert_eq!(parse_numbers("0.1,abc").unwrap_err(), "'abc' is not a number");
        assert!(parse_numbers("NaN").unwrap_err().contains("finite"));
        assert!(parse_numbers("inf").is_err());
        assert!(parse_lr("0").is_err() && parse_lr("-1").is_err() && parse_lr("0.5").is_ok());
        assert!(parse_iterations("0").is_err());
        assert_eq!(parse_layers("2,3,2").unwrap(), Layers(vec![2, 3, 2]));
    }
}
