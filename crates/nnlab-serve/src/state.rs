//! What the server knows: the runs folder, the extra checkpoint, and the models loaded so far. Every
//! path a request names is resolved here, and only to a folder directly under `--runs` or to the one
//! checkpoint given on the command line.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use anyhow::{Context, Result};
use nnlab_app::RunFolder;
use nnlab_app::run_folder::CONFIG_FILE;
use nnlab_app::search::record::SEARCH_FILE;
use nnlab_mnist::training::Checkpoint;
use nnlab_model::Network;

use super::ApiError;

/// The checkpoint files a run folder may hold, in the order the picker lists them.
pub const RUN_CHECKPOINTS: [&str; 2] = ["best", "last"];

/// Id of the `--checkpoint` file in the picker and the API.
pub const GIVEN_CHECKPOINT: &str = "checkpoint";

/// One checkpoint the draw page can use.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CheckpointEntry {
    /// `RUN/best`, `RUN/last`, or `checkpoint` for `--checkpoint`.
    pub id: String,
    /// What the picker shows.
    pub label: String,
    /// Test accuracy recorded for it (best epoch's for `best`, last epoch's for `last`), when known.
    pub test_accuracy: Option<f64>,
}

/// A loaded network and the file's modification time it was loaded at.
struct Loaded {
    modified: Option<SystemTime>,
    model: Arc<Mutex<Network>>,
}

/// The one training started over HTTP: its run's name and its stop flag.
#[derive(Debug, Clone)]
pub struct Training {
    /// The run folder's name under `--runs`.
    pub name: String,
    /// Set to stop it after the current step.
    pub stop: Arc<AtomicBool>,
}

/// Shared by every request.
pub struct AppState {
    runs: PathBuf,
    checkpoint: Option<PathBuf>,
    models: Mutex<HashMap<PathBuf, Loaded>>,
    allow_train: bool,
    data_dir: PathBuf,
    training: Mutex<Option<Training>>,
}

impl AppState {
    /// The state for a runs folder and an optional extra checkpoint (both must exist).
    pub fn new(runs: &Path, checkpoint: Option<&Path>) -> Result<Self> {
        let runs = runs
            .canonicalize()
            .with_context(|| format!("--runs {}: cannot resolve it", runs.display()))?;
        let checkpoint = checkpoint
            .map(|c| {
                c.canonicalize()
                    .with_context(|| format!("--checkpoint {}: cannot resolve it", c.display()))
            })
            .transpose()?;
        Ok(Self {
            runs,
            checkpoint,
            models: Mutex::new(HashMap::new()),
            allow_train: false,
            data_dir: PathBuf::from("data/mnist"),
            training: Mutex::new(None),
        })
    }

    /// Allows (or not) training over HTTP, reading MNIST from `data_dir`.
    pub fn with_training(mut self, allow: bool, data_dir: PathBuf) -> Self {
        self.allow_train = allow;
        self.data_dir = data_dir;
        self
    }

    /// Whether `POST /api/runs` may train.
    pub fn allow_train(&self) -> bool {
        self.allow_train
    }

    /// Where a training started over HTTP reads MNIST.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The runs folder (resolved).
    pub fn runs_root(&self) -> &Path {
        &self.runs
    }

    /// The training under way, if any.
    pub fn training(&self) -> Option<Training> {
        self.training.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The name of the training under way, if any.
    pub fn training_name(&self) -> Option<String> {
        self.training().map(|t| t.name)
    }

    /// Takes the training slot; false when another training holds it.
    pub fn begin_training(&self, t: Training) -> bool {
        let mut slot = self.training.lock().unwrap_or_else(|e| e.into_inner());
        if slot.is_some() {
            return false;
        }
        *slot = Some(t);
        true
    }

    /// Frees the training slot.
    pub fn end_training(&self) {
        *self.training.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// The folder of run `name`: only a folder directly under `--runs`, after following links; anything
    /// else (`..`, a path, a link leading out, a file) is 404.
    pub fn run_dir(&self, name: &str) -> Result<PathBuf, ApiError> {
        let missing = || ApiError::not_found(format!("no run named '{name}' under the runs folder"));
        let plain = !name.is_empty()
            && name != "."
            && name != ".."
            && !name.contains(['/', '\\', '\0'])
            && !name.starts_with('.');
        if !plain {
            return Err(missing());
        }
        let dir = self.runs.join(name).canonicalize().map_err(|_| missing())?;
        if dir.parent() != Some(self.runs.as_path()) || !dir.is_dir() {
            return Err(missing());
        }
        Ok(dir)
    }

    /// The folders directly under `--runs` that hold `file`, as (name, folder), sorted by name; only the
    /// names [`AppState::run_dir`] accepts.
    fn folders_holding(&self, file: &str) -> Vec<(String, PathBuf)> {
        let mut found: Vec<(String, PathBuf)> = std::fs::read_dir(&self.runs)
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok())
                    .filter_map(|e| e.file_name().to_str().map(str::to_string))
                    .filter_map(|n| self.run_dir(&n).ok().map(|d| (n, d)))
                    .filter(|(_, d)| d.join(file).is_file())
                    .collect()
            })
            .unwrap_or_default();
        found.sort();
        found
    }

    /// Links directly under `--runs` to run folders elsewhere, which the server does not follow (nothing
    /// outside `--runs` is served): (name, why), sorted, so the runs page can say so instead of hiding them.
    pub fn skipped_links(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = std::fs::read_dir(&self.runs)
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok())
                    .filter(|e| e.file_type().is_ok_and(|t| t.is_symlink()))
                    .filter_map(|e| {
                        let name = e.file_name().to_str()?.to_string();
                        let target = e.path().canonicalize().ok()?;
                        let inside = target.parent() == Some(self.runs.as_path());
                        (!inside && target.join(CONFIG_FILE).is_file()).then(|| {
                            let why = format!(
                                "a link to {}, outside the runs folder: the server shows only folders inside it (start it with --runs {} to see that run)",
                                target.display(),
                                target.parent().map_or_else(|| target.display().to_string(), |p| p.display().to_string())
                            );
                            (name, why)
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        out.sort();
        out
    }

    /// The run folders under `--runs` (folders with a config.json), as (name, folder), sorted.
    pub fn run_dirs(&self) -> Vec<(String, PathBuf)> {
        self.folders_holding(CONFIG_FILE)
    }

    /// The search folders under `--runs` (folders with a search.json), as (name, folder), sorted.
    pub fn search_dirs(&self) -> Vec<(String, PathBuf)> {
        self.folders_holding(SEARCH_FILE)
    }

    /// Every checkpoint the draw page can use: each run's best and last, then `--checkpoint`. Blocking
    /// (it reads every run's metrics).
    pub fn checkpoints(&self) -> Vec<CheckpointEntry> {
        let mut out = Vec::new();
        for (name, dir) in self.run_dirs() {
            let run = RunFolder::at(&dir).read().ok();
            for kind in RUN_CHECKPOINTS {
                let path = dir.join(format!("{kind}.safetensors"));
                if !path.is_file() {
                    continue;
                }
                let accuracy = run.as_ref().and_then(|r| {
                    let mut test = r.records.iter().map(|e| e.test_accuracy);
                    if kind == "best" {
                        test.reduce(f64::max)
                    } else {
                        test.next_back()
                    }
                });
                let shown = accuracy.map_or(String::new(), |a| format!(" ({:.2} %)", a * 100.0));
                out.push(CheckpointEntry {
                    id: format!("{name}/{kind}"),
                    label: format!("{name} · {kind}{shown}"),
                    test_accuracy: accuracy,
                });
            }
        }
        if let Some(path) = &self.checkpoint {
            out.push(CheckpointEntry {
                id: GIVEN_CHECKPOINT.into(),
                label: format!("--checkpoint {}", path.display()),
                test_accuracy: None,
            });
        }
        out
    }

    /// The default checkpoint: `--checkpoint` when given, else the one with the best recorded accuracy.
    pub fn default_checkpoint(&self, all: &[CheckpointEntry]) -> Option<String> {
        if self.checkpoint.is_some() {
            return Some(GIVEN_CHECKPOINT.into());
        }
        // The highest recorded accuracy; on a tie the first listed (a run's best before its last).
        all.iter()
            .fold(None::<&CheckpointEntry>, |chosen, e| match chosen {
                Some(c) if c.test_accuracy.unwrap_or(-1.0) >= e.test_accuracy.unwrap_or(-1.0) => Some(c),
                _ => Some(e),
            })
            .map(|e| e.id.clone())
    }

    /// The checkpoint a request names (or the default), as (id, file).
    pub fn resolve_checkpoint(&self, id: Option<&str>) -> Result<(String, PathBuf), ApiError> {
        let id = match id {
            Some(id) => id.to_string(),
            // `--checkpoint` is the default: no need to list (and read the metrics of) every run.
            None if self.checkpoint.is_some() => GIVEN_CHECKPOINT.to_string(),
            None => self.default_checkpoint(&self.checkpoints()).ok_or_else(|| {
                ApiError::not_found(
                    "no checkpoint to predict with: start nnlab serve with --checkpoint FILE, or train a run into the runs folder",
                )
            })?,
        };
        if id == GIVEN_CHECKPOINT
            && let Some(path) = &self.checkpoint
        {
            return Ok((id, path.clone()));
        }
        let unknown = || ApiError {
            field: Some("checkpoint".into()),
            ..ApiError::not_found(format!(
                "no checkpoint '{id}' (use RUN/best, RUN/last or checkpoint; GET /api/checkpoints lists them)"
            ))
        };
        let (run, kind) = id.rsplit_once('/').ok_or_else(unknown)?;
        if !RUN_CHECKPOINTS.contains(&kind) {
            return Err(unknown());
        }
        let path = self
            .run_dir(run)
            .map_err(|_| unknown())?
            .join(format!("{kind}.safetensors"));
        if !path.is_file() {
            return Err(unknown());
        }
        Ok((id, path))
    }

    /// The network of a checkpoint file, loaded once and again whenever the file changes (a run in
    /// progress rewrites its checkpoints after every epoch). Blocking (it may read the file): call it
    /// from [`crate::blocking`]. The cache's lock is not held while a file loads, so a slow load stalls
    /// no request for another model.
    pub fn model(&self, path: &Path) -> Result<Arc<Mutex<Network>>, ApiError> {
        let modified = std::fs::metadata(path).and_then(|m| m.modified()).ok();
        {
            let models = self.models.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(l) = models.get(path)
                && l.modified == modified
            {
                return Ok(l.model.clone());
            }
        }
        let checkpoint = Checkpoint::load(path, None).map_err(|e| ApiError {
            status: axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            field: Some("checkpoint".into()),
            message: format!("the checkpoint cannot be loaded: {e}"),
        })?;
        let model = Arc::new(Mutex::new(checkpoint.model));
        let mut models = self.models.lock().unwrap_or_else(|e| e.into_inner());
        models.insert(
            path.to_path_buf(),
            Loaded {
                modified,
                model: model.clone(),
            },
        );
        Ok(model)
    }
}
