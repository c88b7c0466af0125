//! Checkpoints as safetensors, with the tensor names and shapes of the PyTorch module of the same model
//! file (so a checkpoint loads into it unchanged), the optimizer's momentum buffers, the run's progress,
//! and the model file's text in the metadata: a checkpoint describes itself. A plain PyTorch state_dict
//! (saved with `safetensors.torch.save_file`) loads too, given its model.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use nnlab_model::{ModelError, ModelSpec, Network};
use safetensors::{Dtype, SafeTensors, tensor::TensorView};
use thiserror::Error;

use super::config::TrainConfig;
use super::metrics::EpochRecord;
use crate::model::{check_for_mnist, seed_model};

/// Why a checkpoint could not be written or read.
#[derive(Debug, Error)]
pub enum CheckpointError {
    /// Reading or writing failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Not a safetensors file, or a damaged one.
    #[error("{path}: not a readable safetensors checkpoint: {reason}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The tensors do not fit the model: every missing, mis-shaped and unexpected tensor, named.
    #[error("{path}: does not fit the model '{model}': {problems}")]
    Mismatch {
        /// The file.
        path: PathBuf,
        /// The model's name.
        model: String,
        /// The problems, joined.
        problems: String,
    },
    /// The model (from the metadata or given) cannot be used.
    #[error("{path}: {source}")]
    Model {
        /// The file.
        path: PathBuf,
        /// What is wrong with the model.
        source: ModelError,
    },
    /// A state_dict without a model description, and no model given.
    #[error(
        "{path}: holds no model description (a plain state_dict?): pass --model NAME|FILE to say which model it is"
    )]
    NoModel {
        /// The file.
        path: PathBuf,
    },
}

/// A trained (or training) model with the state needed to resume exactly.
#[derive(Debug, Clone)]
pub struct Checkpoint {
    /// The network, running statistics and momentum buffers included: the model that is evaluated, exported
    /// and predicted with (in a weight-averaged run, the average).
    pub model: Network,
    /// In a weight-averaged run (`ema_decay`), the weights under optimisation with their momentum buffers,
    /// which a resumed run goes on training; stored as `training.<name>` tensors, which a PyTorch
    /// `load_state_dict` of the model skips like the optimizer's. `None` otherwise.
    pub training: Option<Network>,
    /// Epochs completed.
    pub epoch: usize,
    /// Optimizer steps taken.
    pub step: usize,
    /// The recipe of the run, when the checkpoint came from `train`.
    pub config: Option<TrainConfig>,
    /// Metrics of the completed epochs.
    pub records: Vec<EpochRecord>,
}

/// Name prefix of the weights under optimisation in a weight-averaged run's checkpoint.
const TRAINING: &str = "training.";

/// Names a plain `load_state_dict` of the model skips: optimizer state and a weight-averaged run's
/// weights under optimisation.
fn is_extra(name: &str) -> bool {
    name.starts_with("optimizer.") || name.starts_with(TRAINING)
}

fn f32_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// Every tensor of the model as (name, dtype, shape, bytes), PyTorch names behind `prefix` (empty for the
/// model itself, `training.` for the weights under optimisation of a weight-averaged run), then — with
/// `optimizer` — the optimizer's state under the names of PyTorch's optimizer state: SGD's
/// `momentum_buffer`, or Adam's `exp_avg` and `exp_avg_sq` (`adam`).
fn tensors(
    model: &mut Network,
    prefix: &str,
    optimizer: bool,
    adam: bool,
) -> Vec<(String, Dtype, Vec<usize>, Vec<u8>)> {
    let mut out = Vec::new();
    let mut momentum = Vec::new();
    for (name, p) in model.named_params_mut() {
        out.push((
            format!("{prefix}{name}"),
            Dtype::F32,
            p.shape.clone(),
            f32_bytes(&p.value),
        ));
        if !optimizer {
            continue;
        }
        let state = |suffix: &str, values: &[f32]| {
            (
                format!("optimizer.{name}.{suffix}"),
                Dtype::F32,
                p.shape.clone(),
                f32_bytes(values),
            )
        };
        if adam {
            let second = if p.second.is_empty() {
                vec![0.0; p.len()]
            } else {
                p.second.clone()
            };
            momentum.push(state("exp_avg", &p.velocity));
            momentum.push(state("exp_avg_sq", &second));
        } else {
            momentum.push(state("momentum_buffer", &p.velocity));
        }
    }
    for (key, bn) in model.batch_norms_mut() {
        let c = bn.running_mean.len();
        out.push((
            format!("{prefix}{key}.running_mean"),
            Dtype::F32,
            vec![c],
            f32_bytes(&bn.running_mean),
        ));
        out.push((
            format!("{prefix}{key}.running_var"),
            Dtype::F32,
            vec![c],
            f32_bytes(&bn.running_var),
        ));
        out.push((
            format!("{prefix}{key}.num_batches_tracked"),
            Dtype::I64,
            vec![],
            bn.batches_tracked.to_le_bytes().to_vec(),
        ));
    }
    out.extend(momentum);
    out
}

fn floats(b: &[u8]) -> Vec<f32> {
    b.chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// Sets `net`'s weights and BatchNorm buffers from the checked tensors named `prefix` + PyTorch name.
fn fill(net: &mut Network, values: &HashMap<String, Vec<u8>>, prefix: &str) {
    for (name, p) in net.named_params_mut() {
        p.value = floats(&values[&format!("{prefix}{name}")]);
    }
    for (key, bn) in net.batch_norms_mut() {
        bn.running_mean = floats(&values[&format!("{prefix}{key}.running_mean")]);
        bn.running_var = floats(&values[&format!("{prefix}{key}.running_var")]);
        let t = &values[&format!("{prefix}{key}.num_batches_tracked")];
        bn.batches_tracked = i64::from_le_bytes(t[..8].try_into().expect("8 bytes"));
    }
}

/// Sets `net`'s optimizer state from the checkpoint: SGD's momentum buffers, or Adam's two moments.
fn fill_optimizer(net: &mut Network, st: &SafeTensors, values: &HashMap<String, Vec<u8>>) {
    for (name, p) in net.named_params_mut() {
        if let Some(v) = values.get(&format!("optimizer.{name}.momentum_buffer")) {
            p.velocity = floats(v);
        }
        // Adam's moments, when the run used Adam or AdamW.
        let moment = |suffix: &str| {
            st.tensor(&format!("optimizer.{name}.{suffix}"))
                .ok()
                .filter(|t| t.dtype() == Dtype::F32 && t.shape() == p.shape.as_slice())
                .map(|t| floats(t.data()))
        };
        if let (Some(m), Some(v)) = (moment("exp_avg"), moment("exp_avg_sq")) {
            p.velocity = m;
            p.second = v;
        }
    }
}

impl Checkpoint {
    /// Serialises the checkpoint to safetensors bytes.
    pub fn to_bytes(&mut self) -> Vec<u8> {
        let adam = self
            .config
            .as_ref()
            .is_some_and(|c| c.optimizer != super::config::OptimizerKind::Sgd);
        let tensors = match &mut self.training {
            None => tensors(&mut self.model, "", true, adam),
            Some(training) => {
                let mut all = tensors(&mut self.model, "", false, adam);
                all.extend(tensors(training, TRAINING, true, adam));
                all
            }
        };
        let views: Vec<(String, TensorView)> = tensors
            .iter()
            .map(|(name, dtype, shape, bytes)| {
                (
                    name.clone(),
                    TensorView::new(*dtype, shape.clone(), bytes).expect("consistent tensor"),
                )
            })
            .collect();
        let mut meta = HashMap::new();
        meta.insert("format".to_string(), "nnlab-model-v1".to_string());
        meta.insert("model".to_string(), self.model.spec().source.clone());
        meta.insert("model_name".to_string(), self.model.spec().name.clone());
        meta.insert("epoch".to_string(), self.epoch.to_string());
        meta.insert("step".to_string(), self.step.to_string());
        meta.insert(
            "metrics".to_string(),
            serde_json::to_string(&self.records).expect("metrics serialise"),
        );
        if let Some(c) = &self.config {
            meta.insert(
                "config".to_string(),
                serde_json::to_string(c).expect("config serialises"),
            );
        }
        safetensors::serialize(views, Some(meta)).expect("safetensors serialisation of valid tensors")
    }

    /// Writes the checkpoint atomically.
    pub fn save(&mut self, path: &Path) -> Result<(), CheckpointError> {
        crate::atomic::write_atomic(path, &self.to_bytes()).map_err(|source| CheckpointError::Io {
            path: path.to_path_buf(),
            source,
        })
    }

    /// Reads and validates a checkpoint: the model from `model` when given, else from the checkpoint's
    /// own description; every tensor present with the model's shape and no tensor the model lacks.
    pub fn load(path: &Path, model: Option<&ModelSpec>) -> Result<Checkpoint, CheckpointError> {
        let bytes = std::fs::read(path).map_err(|source| CheckpointError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_bytes(path, &bytes, model)
    }

    /// The model a checkpoint describes: its own text, or the seed CNN (docs/recipe.md) for checkpoints written before
    /// models were files (format `nnlab-mnist-cnn-v1`).
    fn described_model(path: &Path, meta: &HashMap<String, String>) -> Result<ModelSpec, CheckpointError> {
        let model_err = |source| CheckpointError::Model {
            path: path.to_path_buf(),
            source,
        };
        match (meta.get("model"), meta.get("format").map(String::as_str)) {
            (Some(text), _) => {
                let name = meta.get("model_name").cloned().unwrap_or_else(|| "checkpoint".into());
                ModelSpec::parse(&name, &format!("the model in {}", path.display()), text).map_err(model_err)
            }
            (None, Some("nnlab-mnist-cnn-v1")) => Ok(seed_model()),
            (None, _) => Err(CheckpointError::NoModel {
                path: path.to_path_buf(),
            }),
        }
    }

    /// Parses checkpoint bytes; `path` is used in messages; `model` overrides the checkpoint's own.
    pub fn from_bytes(path: &Path, bytes: &[u8], model: Option<&ModelSpec>) -> Result<Checkpoint, CheckpointError> {
        let format_err = |reason: String| CheckpointError::Format {
            path: path.to_path_buf(),
            reason,
        };
        let st = SafeTensors::deserialize(bytes).map_err(|e| format_err(e.to_string()))?;
        let (_, metadata) = SafeTensors::read_metadata(bytes).map_err(|e| format_err(e.to_string()))?;
        let meta = metadata.metadata().clone().unwrap_or_default();
        let spec = match model {
            Some(m) => m.clone(),
            None => Self::described_model(path, &meta)?,
        };
        check_for_mnist(&spec).map_err(|source| CheckpointError::Model {
            path: path.to_path_buf(),
            source,
        })?;
        let mut model = Network::new(&spec, 0);
        // A weight-averaged run's checkpoint also holds the weights under optimisation, all of them.
        let mut training = st
            .names()
            .iter()
            .any(|n| n.starts_with(TRAINING))
            .then(|| Network::new(&spec, 0));
        let mut expected = tensors(&mut model, "", true, false);
        if let Some(t) = &mut training {
            expected.extend(tensors(t, TRAINING, false, false));
        }
        let mut values: HashMap<String, Vec<u8>> = HashMap::new();
        let (mut missing, mut misshaped) = (Vec::new(), Vec::new());
        for (name, dtype, shape, _) in &expected {
            let optional = name.starts_with("optimizer.");
            let view = match st.tensor(name) {
                Ok(v) => v,
                Err(_) if optional => continue,
                Err(_) => {
                    missing.push(name.clone());
                    continue;
                }
            };
            if view.dtype() != *dtype || view.shape() != shape.as_slice() {
                misshaped.push(format!(
                    "{name} is {:?} {:?}, the model needs {dtype:?} {shape:?}",
                    view.dtype(),
                    view.shape()
                ));
                continue;
            }
            values.insert(name.clone(), view.data().to_vec());
        }
        // A momentum buffer (or a copy under optimisation) mis-shaped along with its parameter says nothing new.
        if misshaped.iter().any(|m| !is_extra(m)) {
            misshaped.retain(|m| !is_extra(m));
        }
        let mut unexpected: Vec<String> = st
            .names()
            .into_iter()
            .filter(|n| !n.starts_with("optimizer.") && !expected.iter().any(|(e, ..)| e == n))
            .map(str::to_string)
            .collect();
        unexpected.sort();
        if !(missing.is_empty() && misshaped.is_empty() && unexpected.is_empty()) {
            let mut problems = Vec::new();
            if !missing.is_empty() {
                problems.push(format!("missing {}", missing.join(", ")));
            }
            problems.extend(misshaped);
            if !unexpected.is_empty() {
                problems.push(format!("not in the model: {}", unexpected.join(", ")));
            }
            return Err(CheckpointError::Mismatch {
                path: path.to_path_buf(),
                model: spec.name.clone(),
                problems: problems.join("; "),
            });
        }
        fill(&mut model, &values, "");
        // The optimizer's state belongs to the weights it optimises.
        match &mut training {
            Some(t) => {
                fill(t, &values, TRAINING);
                fill_optimizer(t, &st, &values);
            }
            None => fill_optimizer(&mut model, &st, &values),
        }
        let number = |key: &str| meta.get(key).and_then(|v| v.parse().ok()).unwrap_or(0);
        let config = match meta.get("config") {
            Some(c) => Some(serde_json::from_str(c).map_err(|e| format_err(format!("bad config metadata: {e}")))?),
            None => None,
        };
        let records = match meta.get("metrics") {
            Some(m) => serde_json::from_str(m).map_err(|e| format_err(format!("bad metrics metadata: {e}")))?,
            None => Vec::new(),
        };
        Ok(Checkpoint {
            model,
            training,
            epoch: number("epoch"),
            step: number("step"),
            config,
            records,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bn<'a>(m: &'a mut Network, key: &str) -> &'a mut nnlab_nn::BatchNorm2d {
        m.batch_norms_mut().into_iter().find(|(k, _)| k == key).unwrap().1
    }

    #[test]
    fn round_trips_every_tensor_with_its_model_and_rejects_damage() {
        let mut model = Network::new(&seed_model(), 4);
        bn(&mut model, "convblock4.2").running_var[2] = 0.25;
        bn(&mut model, "convblock4.2").batches_tracked = 17;
        model.named_params_mut().last_mut().unwrap().1.velocity[3] = 0.5;
        let mut ck = Checkpoint {
            model,
            training: None,
            epoch: 3,
            step: 700,
            config: None,
            records: Vec::new(),
        };
        let bytes = ck.to_bytes();
        let mut back = Checkpoint::from_bytes(Path::new("x"), &bytes, None).unwrap();
        assert_eq!(back.model.spec(), ck.model.spec(), "the model travels in the metadata");
        assert_eq!((back.epoch, back.step), (3, 700));
        assert_eq!(bn(&mut back.model, "convblock4.2").running_var[2], 0.25);
        assert_eq!(bn(&mut back.model, "convblock4.2").batches_tracked, 17);
        assert_eq!(back.model.named_params_mut().last().unwrap().1.velocity[3], 0.5);
        let a: Vec<Vec<f32>> = ck.model.params_mut().iter().map(|p| p.value.clone()).collect();
        let b: Vec<Vec<f32>> = back.model.params_mut().iter().map(|p| p.value.clone()).collect();
        assert_eq!(a, b);
        let err = Checkpoint::from_bytes(Path::new("x"), &bytes[..bytes.len() / 2], None).unwrap_err();
        assert!(matches!(err, CheckpointError::Format { .. }), "{err}");
    }

    #[test]
    fn a_weight_averaged_checkpoint_keeps_the_average_as_the_model_and_the_trained_weights_beside_it() {
        let average = Network::new(&seed_model(), 4);
        let mut training = Network::new(&seed_model(), 5);
        training.named_params_mut()[0].1.velocity[0] = 0.25;
        bn(&mut training, "convblock1.2").running_mean[1] = 3.0;
        let mut ck = Checkpoint {
            model: average,
            training: Some(training),
            epoch: 2,
            step: 9,
            config: None,
            records: Vec::new(),
        };
        let bytes = ck.to_bytes();
        let st = SafeTensors::deserialize(&bytes).unwrap();
        assert!(st.tensor("training.convblock1.0.weight").is_ok());
        assert!(st.tensor("training.convblock1.2.running_mean").is_ok());
        assert!(st.tensor("optimizer.convblock1.0.weight.momentum_buffer").is_ok());
        assert!(
            st.tensor("training.optimizer.convblock1.0.weight.momentum_buffer")
                .is_err()
        );
        let mut back = Checkpoint::from_bytes(Path::new("x"), &bytes, None).unwrap();
        let values = |n: &mut Network| n.params_mut().iter().map(|p| p.value.clone()).collect::<Vec<_>>();
        assert_eq!(
            values(&mut back.model),
            values(&mut ck.model),
            "the average is the model"
        );
        let mut trained = back.training.expect("the weights under optimisation come back");
        assert_eq!(values(&mut trained), values(ck.training.as_mut().unwrap()));
        assert_eq!(
            trained.named_params_mut()[0].1.velocity[0],
            0.25,
            "momentum goes with them"
        );
        assert_eq!(back.model.named_params_mut()[0].1.velocity[0], 0.0);
        assert_eq!(bn(&mut trained, "convblock1.2").running_mean[1], 3.0);

        // Half a copy under optimisation is a damaged checkpoint, named.
        let mut plain = Checkpoint {
            model: Network::new(&seed_model(), 4),
            training: None,
            epoch: 0,
            step: 0,
            config: None,
            records: Vec::new(),
        };
        let plain_bytes = plain.to_bytes();
        let pst = SafeTensors::deserialize(&plain_bytes).unwrap();
        let mut views = pst.tensors();
        views.push(("training.fc.weight".into(), pst.tensor("fc.weight").unwrap()));
        let damaged = safetensors::serialize(views, None).unwrap();
        let err = Checkpoint::from_bytes(Path::new("x"), &damaged, Some(&seed_model()))
            .unwrap_err()
            .to_string();
        assert!(err.contains("missing training.convblock1.0.weight"), "{err}");
    }

    #[test]
    fn another_models_tensors_are_named_one_by_one() {
        let mut ck = Checkpoint {
            model: Network::new(&seed_model(), 1),
            training: None,
            epoch: 1,
            step: 1,
            config: None,
            records: Vec::new(),
        };
        let bytes = ck.to_bytes();
        let other = nnlab_model::shipped("separable").unwrap();
        let err = Checkpoint::from_bytes(Path::new("ck"), &bytes, Some(&other))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("ck: does not fit the model 'separable': missing stem.0.weight, stem.1.weight"),
            "{err}"
        );
        assert!(
            err.contains("not in the model: convblock1.0.weight, convblock1.2.bias"),
            "{err}"
        );
        let narrower = ModelSpec::parse(
            "narrow",
            "n",
            &seed_model()
                .source
                .replace("Linear(32, 10)", "Linear(32, 10, bias=False)"),
        )
        .unwrap();
        let err = Checkpoint::from_bytes(Path::new("ck"), &bytes, Some(&narrower))
            .unwrap_err()
            .to_string();
        assert_eq!(err, "ck: does not fit the model 'narrow': not in the model: fc.bias");
    }
}
