//! A run folder, the one place its files are named, written and read: `config.json` (the recipe, with
//! the model's text), `model.model`, `metrics.json` / `metrics.csv` (every finished epoch, the brief's
//! verdicts, why a run stopped early), `progress.json` (where a run stands while it trains), and the
//! checkpoints `last.safetensors` / `best.safetensors`. `nnlab mnist train` writes it; `compare`,
//! `report`, `serve` and the coming `search` read it through here.

mod progress;
mod read;
mod status;

use std::path::{Path, PathBuf};

use nnlab_mnist::training::metrics::metrics_csv;
use nnlab_mnist::training::{EpochRecord, TrainConfig};
use serde::Serialize;

pub use progress::{PROGRESS_FILE, ProgressFile, unix_seconds};
pub use read::Run;
pub use status::RunStatus;

use crate::atomic::write_atomic;
use crate::brief::BriefResult;
use crate::{AppError, Result};

/// The recipe of the run, with the model's text (`--recipe RUN/config.json` re-creates the run).
pub const CONFIG_FILE: &str = "config.json";
/// The model file the run trained.
pub const MODEL_FILE: &str = "model.model";
/// Every finished epoch, the brief's verdicts and why a run stopped early.
pub const METRICS_FILE: &str = "metrics.json";
/// The same epochs as CSV.
pub const METRICS_CSV_FILE: &str = "metrics.csv";
/// The checkpoint of the newest finished epoch.
pub const LAST_CHECKPOINT: &str = "last.safetensors";
/// The checkpoint of the epoch with the best test (or validation) accuracy.
pub const BEST_CHECKPOINT: &str = "best.safetensors";

/// Why a run ended before its last epoch, as `metrics.json` records it under `stopped`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "reason", rename_all = "lowercase")]
pub enum Stopped {
    /// Ctrl-C (or a stop request) during `epoch`, after `step_in_epoch` steps of it.
    Interrupted {
        /// The epoch that was running.
        epoch: usize,
        /// Steps of it that had finished.
        step_in_epoch: usize,
    },
    /// A loss or gradient became non-finite.
    Diverged {
        /// The epoch that was running.
        epoch: usize,
        /// The step (counted over the whole run) that diverged.
        step: usize,
        /// The learning rate at that step.
        lr: f32,
        /// What was non-finite.
        detail: String,
    },
}

/// A run folder on disk (it need not exist yet: see [`RunFolder::create`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunFolder {
    dir: PathBuf,
}

impl RunFolder {
    /// The run folder at `dir`.
    pub fn at(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// Makes the folder (and its parents); the error names `--out`.
    pub fn create(dir: impl Into<PathBuf>) -> Result<Self> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir)
            .map_err(|e| AppError::invalid(format!("--out {}: cannot create the directory: {e}", dir.display())))?;
        Ok(Self { dir })
    }

    /// Where a run goes when no `--out` is given: `runs/YYYYMMDD-HHMMSS` (UTC, now).
    pub fn default_dir() -> PathBuf {
        PathBuf::from("runs").join(timestamp(unix_seconds() as u64))
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The folder's own name (the run's name in `compare` and the web app).
    pub fn name(&self) -> String {
        self.dir
            .file_name()
            .map_or_else(|| self.dir.display().to_string(), |n| n.to_string_lossy().into_owned())
    }

    /// A file of the run (one of the `*_FILE` / `*_CHECKPOINT` names).
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// `last.safetensors`.
    pub fn last_checkpoint(&self) -> PathBuf {
        self.file(LAST_CHECKPOINT)
    }

    /// `best.safetensors`.
    pub fn best_checkpoint(&self) -> PathBuf {
        self.file(BEST_CHECKPOINT)
    }

    /// Whether the folder holds a run (it has a config.json).
    pub fn is_run(&self) -> bool {
        self.file(CONFIG_FILE).is_file()
    }

    /// Writes what a run starts from: config.json and model.model.
    pub fn write_start(&self, config: &TrainConfig, model_text: &str) -> Result<()> {
        let json = serde_json::to_string_pretty(config).expect("a training config serialises");
        write_atomic(&self.file(CONFIG_FILE), json.as_bytes())?;
        write_atomic(&self.file(MODEL_FILE), model_text.as_bytes())
    }

    /// Writes metrics.json and metrics.csv for the epochs so far, with the brief's verdicts and, for a
    /// run that ended early, why.
    pub fn write_metrics(
        &self,
        records: &[EpochRecord],
        params: usize,
        brief: Option<&BriefResult>,
        stopped: Option<&Stopped>,
    ) -> Result<()> {
        let mut doc = serde_json::json!({ "epochs": records, "params": params });
        if let Some(b) = brief {
            doc["brief"] = serde_json::to_value(b).expect("verdicts serialise");
        }
        if let Some(s) = stopped {
            doc["stopped"] = serde_json::to_value(s).expect("a stop serialises");
        }
        let json = serde_json::to_string_pretty(&doc).expect("metrics serialise");
        write_atomic(&self.file(METRICS_FILE), json.as_bytes())?;
        write_atomic(&self.file(METRICS_CSV_FILE), metrics_csv(records).as_bytes())
    }

    /// The progress file, for a run of `epochs` epochs.
    pub fn progress(&self, epochs: usize) -> ProgressFile {
        ProgressFile::new(&self.dir, epochs)
    }

    /// A JSON file of the run, read loosely for display: `None` when it is missing or unreadable.
    pub fn read_json(&self, name: &str) -> Option<serde_json::Value> {
        serde_json::from_str(&std::fs::read_to_string(self.file(name)).ok()?).ok()
    }
}

/// A run's title, as its curves and its report show it: "MNIST, model M, R recipe, seed S".
pub fn title(config: &TrainConfig) -> String {
    format!(
        "MNIST, model {}, {} recipe, seed {}",
        config.model, config.recipe, config.seed
    )
}

/// UTC time `secs` after 1970 as YYYYMMDD-HHMMSS, for run folder names.
pub fn timestamp(secs: u64) -> String {
    let (days, rem) = ((secs / 86400) as i64, secs % 86400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    format!(
        "{y:04}{m:02}{d:02}-{:02}{:02}{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use nnlab_mnist::training::shipped_recipe;

    fn record(epoch: usize) -> EpochRecord {
        EpochRecord {
            epoch,
            train_loss: 0.5,
            train_accuracy: 0.9,
            test_loss: 0.4,
            test_accuracy: 0.95 + epoch as f64 / 100.0,
            lr: 0.01,
            seconds: 2.0,
            raw_test_loss: None,
            raw_test_accuracy: None,
        }
    }

    #[test]
    fn timestamps_are_civil_utc() {
        assert_eq!(timestamp(0), "19700101-000000");
        assert_eq!(timestamp(1_796_425_200), "20261204-230000");
        assert_eq!(timestamp(951_782_400), "20000229-000000");
    }

    #[test]
    fn a_written_run_reads_back_and_is_known_as_a_run() {
        let root = tempfile::tempdir().unwrap();
        let folder = RunFolder::create(root.path().join("b-run")).unwrap();
        let mut config = shipped_recipe("seed").unwrap();
        config.epochs = 3;
        folder.write_start(&config, "input 1x28x28\n").unwrap();
        let stopped = Stopped::Interrupted {
            epoch: 3,
            step_in_epoch: 7,
        };
        folder
            .write_metrics(&[record(1), record(2)], 123, None, Some(&stopped))
            .unwrap();
        let run = folder.read().unwrap();
        assert_eq!((run.name.as_str(), run.params, run.records.len()), ("b-run", 123, 2));
        assert_eq!(run.stopped.as_deref(), Some("interrupted"));
        assert_eq!(run.config, config);
        assert_eq!(folder.status(), RunStatus::Interrupted);
        assert_eq!(title(&run.config), "MNIST, model seed, seed recipe, seed 1");
        std::fs::create_dir(root.path().join("a-not-a-run")).unwrap();
        RunFolder::create(root.path().join("c-run"))
            .unwrap()
            .write_start(&config, "")
            .unwrap();
        assert!(!RunFolder::at(root.path().join("a-not-a-run")).is_run());
        assert!(RunFolder::at(root.path().join("c-run")).is_run());
        assert_eq!(RunFolder::at(root.path().join("c-run")).status(), RunStatus::Incomplete);
    }

    #[test]
    fn a_folder_without_its_files_is_named_in_the_error() {
        let root = tempfile::tempdir().unwrap();
        let err = RunFolder::at(root.path()).read().unwrap_err().to_string();
        assert!(err.contains("metrics.json: cannot read it"), "{err}");
        let missing = RunFolder::at(root.path().join("nope")).read().unwrap_err().to_string();
        assert!(missing.contains("not a folder"), "{missing}");
    }
}
