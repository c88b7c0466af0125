//! Checkpoints as safetensors, with the tensor names and shapes of the PyTorch reference model (so a
//! checkpoint loads into it unchanged), plus the optimizer's momentum buffers and the run's progress.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use safetensors::{Dtype, SafeTensors, tensor::TensorView};
use thiserror::Error;

use super::config::TrainConfig;
use super::metrics::EpochRecord;
use crate::model::Cnn;

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
    /// A tensor the model needs is absent.
    #[error("{path}: tensor '{name}' is missing (not a checkpoint of this model)")]
    Missing {
        /// The file.
        path: PathBuf,
        /// Tensor name.
        name: String,
    },
    /// A tensor has another shape or type than the model's.
    #[error("{path}: tensor '{name}' has shape {found:?} ({dtype}), the model needs {expected:?} (F32)")]
    Shape {
        /// The file.
        path: PathBuf,
        /// Tensor name.
        name: String,
        /// Shape the model needs.
        expected: Vec<usize>,
        /// Shape found.
        found: Vec<usize>,
        /// Type found.
        dtype: String,
    },
}

/// A trained (or training) model with the state needed to resume exactly.
#[derive(Debug, Clone)]
pub struct Checkpoint {
    /// The network, running statistics and momentum buffers included.
    pub model: Cnn,
    /// Epochs completed.
    pub epoch: usize,
    /// Optimizer steps taken.
    pub step: usize,
    /// The recipe of the run, when the checkpoint came from `train`.
    pub config: Option<TrainConfig>,
    /// Metrics of the completed epochs.
    pub records: Vec<EpochRecord>,
}

fn f32_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// Every tensor of the model as (name, dtype, shape, bytes), PyTorch names, then momentum buffers.
fn tensors(model: &mut Cnn) -> Vec<(String, Dtype, Vec<usize>, Vec<u8>)> {
    let mut out = Vec::new();
    let mut momentum = Vec::new();
    for (name, p) in model.named_params_mut() {
        out.push((name.clone(), Dtype::F32, p.shape.clone(), f32_bytes(&p.value)));
        momentum.push((
            format!("optimizer.{name}.momentum_buffer"),
            Dtype::F32,
            p.shape.clone(),
            f32_bytes(&p.velocity),
        ));
    }
    for (prefix, bn) in model.batch_norms_mut() {
        let c = bn.running_mean.len();
        out.push((
            format!("{prefix}.2.running_mean"),
            Dtype::F32,
            vec![c],
            f32_bytes(&bn.running_mean),
        ));
        out.push((
            format!("{prefix}.2.running_var"),
            Dtype::F32,
            vec![c],
            f32_bytes(&bn.running_var),
        ));
        out.push((
            format!("{prefix}.2.num_batches_tracked"),
            Dtype::I64,
            vec![],
            bn.batches_tracked.to_le_bytes().to_vec(),
        ));
    }
    out.extend(momentum);
    out
}

impl Checkpoint {
    /// Serialises the checkpoint to safetensors bytes.
    pub fn to_bytes(&mut self) -> Vec<u8> {
        let tensors = tensors(&mut self.model);
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
        meta.insert("format".to_string(), "nnlab-mnist-cnn-v1".to_string());
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

    /// Reads and validates a checkpoint: every tensor present with the model's shape.
    pub fn load(path: &Path) -> Result<Checkpoint, CheckpointError> {
        let bytes = std::fs::read(path).map_err(|source| CheckpointError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_bytes(path, &bytes)
    }

    /// Parses checkpoint bytes; `path` is used in messages.
    pub fn from_bytes(path: &Path, bytes: &[u8]) -> Result<Checkpoint, CheckpointError> {
        let format_err = |reason: String| CheckpointError::Format {
            path: path.to_path_buf(),
            reason,
        };
        let st = SafeTensors::deserialize(bytes).map_err(|e| format_err(e.to_string()))?;
        let (_, metadata) = SafeTensors::read_metadata(bytes).map_err(|e| format_err(e.to_string()))?;
        let meta = metadata.metadata().clone().unwrap_or_default();
        let mut model = Cnn::new(0);
        let expected = tensors(&mut model);
        let mut values: HashMap<String, Vec<u8>> = HashMap::new();
        for (name, dtype, shape, _) in &expected {
            let optional = name.starts_with("optimizer.");
            let view = match st.tensor(name) {
                Ok(v) => v,
                Err(_) if optional => continue,
                Err(_) => {
                    return Err(CheckpointError::Missing {
                        path: path.to_path_buf(),
                        name: name.clone(),
                    });
                }
            };
            if view.dtype() != *dtype || view.shape() != shape.as_slice() {
                return Err(CheckpointError::Shape {
                    path: path.to_path_buf(),
                    name: name.clone(),
                    expected: shape.clone(),
                    found: view.shape().to_vec(),
                    dtype: format!("{:?}", view.dtype()),
                });
            }
            values.insert(name.clone(), view.data().to_vec());
        }
        let floats = |b: &[u8]| {
            b.chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect::<Vec<f32>>()
        };
        for (name, p) in model.named_params_mut() {
            p.value = floats(&values[&name]);
            if let Some(v) = values.get(&format!("optimizer.{name}.momentum_buffer")) {
                p.velocity = floats(v);
            }
        }
        for (prefix, bn) in model.batch_norms_mut() {
            bn.running_mean = floats(&values[&format!("{prefix}.2.running_mean")]);
            bn.running_var = floats(&values[&format!("{prefix}.2.running_var")]);
            let t = &values[&format!("{prefix}.2.num_batches_tracked")];
            bn.batches_tracked = i64::from_le_bytes(t[..8].try_into().expect("8 bytes"));
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

    #[test]
    fn round_trips_every_tensor_and_rejects_damage() {
        let mut model = Cnn::new(4);
        model.c3.bn.running_var[2] = 0.25;
        model.c3.bn.batches_tracked = 17;
        model.fc.weight.velocity[3] = 0.5;
        let mut ck = Checkpoint {
            model,
            epoch: 3,
            step: 700,
            config: None,
            records: Vec::new(),
        };
        let bytes = ck.to_bytes();
        let mut back = Checkpoint::from_bytes(Path::new("x"), &bytes).unwrap();
        assert_eq!((back.epoch, back.step), (3, 700));
        assert_eq!(back.model.c3.bn.running_var[2], 0.25);
        assert_eq!(back.model.c3.bn.batches_tracked, 17);
        assert_eq!(back.model.fc.weight.velocity[3], 0.5);
        let a: Vec<Vec<f32>> = ck.model.params_mut().iter().map(|p| p.value.clone()).collect();
        let b: Vec<Vec<f32>> = back.model.params_mut().iter().map(|p| p.value.clone()).collect();
        assert_eq!(a, b);
        let err = Checkpoint::from_bytes(Path::new("x"), &bytes[..bytes.len() / 2]).unwrap_err();
        assert!(matches!(err, CheckpointError::Format { .. }), "{err}");
    }
}
