//! Reading a run folder back: its recipe, its epochs, the brief's verdicts and why it stopped.

use std::path::Path;

use nnlab_mnist::training::{EpochRecord, TrainConfig};

use super::{CONFIG_FILE, METRICS_FILE, RunFolder};
use crate::brief::BriefResult;
use crate::{AppError, Result};

/// One run as its folder describes it.
#[derive(Debug, Clone)]
pub struct Run {
    /// The folder's name.
    pub name: String,
    /// The run's recipe (config.json).
    pub config: TrainConfig,
    /// Trainable parameters.
    pub params: usize,
    /// Per-epoch metrics.
    pub records: Vec<EpochRecord>,
    /// The brief's verdicts, for runs trained with briefs.
    pub brief: Option<BriefResult>,
    /// Why the run stopped early, if it did (`interrupted`, `diverged`).
    pub stopped: Option<String>,
}

impl Run {
    /// The epoch with the best test accuracy (the last of equals).
    pub fn best(&self) -> Option<&EpochRecord> {
        self.records
            .iter()
            .max_by(|a, b| a.test_accuracy.total_cmp(&b.test_accuracy))
    }

    /// Seconds of training, summed over the epochs.
    pub fn seconds(&self) -> f64 {
        self.records.iter().map(|r| r.seconds).sum()
    }
}

fn read_json(path: &Path) -> Result<serde_json::Value> {
    let text = std::fs::read_to_string(path).map_err(|_| {
        AppError::file(
            path,
            format!(
                "cannot read it (is {} a run folder written by nnlab mnist train?)",
                path.parent().map_or("it".into(), |p| p.display().to_string())
            ),
        )
    })?;
    serde_json::from_str(&text).map_err(|e| AppError::file(path, format!("not valid JSON: {e}")))
}

impl RunFolder {
    /// Reads metrics.json and config.json; errors name the file.
    pub fn read(&self) -> Result<Run> {
        let dir = self.dir();
        if !dir.is_dir() {
            return Err(AppError::file(
                dir,
                "not a folder (give the run folders that nnlab mnist train wrote)",
            ));
        }
        let metrics_path = self.file(METRICS_FILE);
        let metrics = read_json(&metrics_path)?;
        let records: Vec<EpochRecord> = serde_json::from_value(metrics["epochs"].clone())
            .map_err(|e| AppError::file(&metrics_path, format!("'epochs' is not a list of epoch records: {e}")))?;
        let params = metrics["params"]
            .as_u64()
            .ok_or_else(|| AppError::file(&metrics_path, "no 'params' count"))? as usize;
        let brief = match metrics.get("brief") {
            Some(b) => Some(
                serde_json::from_value(b.clone())
                    .map_err(|e| AppError::file(&metrics_path, format!("'brief' is malformed: {e}")))?,
            ),
            None => None,
        };
        let config_path = self.file(CONFIG_FILE);
        let config: TrainConfig = serde_json::from_value(read_json(&config_path)?)
            .map_err(|e| AppError::file(&config_path, format!("not a training config: {e}")))?;
        let stopped = metrics["stopped"]["reason"].as_str().map(str::to_string);
        Ok(Run {
            name: self.name(),
            config,
            params,
            records,
            brief,
            stopped,
        })
    }
}
