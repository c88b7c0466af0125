//! What a search records in `search.json`: its options (so `--resume` needs nothing else), the counts of
//! points, the rungs, every trial with its choices, size and metric at each rung, the best trial and the
//! test-set verdicts.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::atomic::write_atomic;
use crate::{AppError, Result};

/// The search's settings: the flags of `nnlab mnist search`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchOptions {
    /// The space file as given.
    pub space: String,
    /// The brief, a name or clauses.
    pub brief: String,
    /// The base recipe (a shipped name or a file).
    pub recipe: String,
    /// Training images held out for validation.
    pub validation: usize,
    /// Seeds each survivor of the last rung is trained on.
    pub seeds: usize,
    /// Most trials (a seeded random sample of the admitted points when there are more).
    pub trials: Option<usize>,
    /// Successive halving's reduction factor.
    pub eta: usize,
    /// Engine threads of each training.
    pub threads: usize,
    /// Seeds the winner is trained on with all 60,000 images and judged on the test set.
    pub test_seeds: Vec<u64>,
    /// Smallest receptive field a point must reach.
    pub min_rf: Option<usize>,
    /// Seed of the random sample of points.
    pub sample_seed: u64,
    /// Train on the first N training images only.
    pub train_limit: Option<usize>,
    /// Evaluate on the first N held-out (or test) images only.
    pub test_limit: Option<usize>,
    /// The MNIST folder, passed on to every training.
    pub data_dir: Option<PathBuf>,
    /// Never download.
    pub offline: bool,
    /// How the last rung's seeds are combined (absent in searches recorded before it: the mean).
    #[serde(default)]
    pub rank: Rank,
}

/// How the last rung combines each seed's worst-of-last validation accuracy into a trial's metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rank {
    /// The mean over the seeds.
    #[default]
    Mean,
    /// The worst seed (a trial is as good as its unluckiest seed: the brief must hold on every one).
    Worst,
}

impl Rank {
    /// Combines the seeds' values.
    pub fn combine(self, values: &[f64]) -> f64 {
        match self {
            Rank::Mean => values.iter().sum::<f64>() / values.len().max(1) as f64,
            Rank::Worst => values.iter().copied().fold(f64::INFINITY, f64::min),
        }
    }

    /// What the metric is, in words ("mean" or "worst").
    pub fn word(self) -> &'static str {
        match self {
            Rank::Mean => "mean",
            Rank::Worst => "worst",
        }
    }
}

impl std::str::FromStr for Rank {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "mean" => Ok(Rank::Mean),
            "worst" => Ok(Rank::Worst),
            other => Err(format!("'{other}' (expected mean or worst)")),
        }
    }
}

/// Where a trial stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrialStatus {
    /// Not yet trained.
    Pending,
    /// Trained through the last rung.
    Done,
    /// Dropped by successive halving.
    Pruned,
    /// Outside the brief's budget (or `--min-rf`): never trained.
    OverBudget,
    /// Its model does not build, or a training failed.
    Failed,
    /// The search was stopped before it finished.
    Stopped,
}

/// A trial's result at one rung.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RungResult {
    /// Epochs trained so far.
    pub epochs: usize,
    /// Validation accuracy (%) at that epoch; at the last rung, the mean over seeds of the worst of the
    /// brief's last epochs.
    pub metric: f64,
}

/// One seed of a last-rung trial.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeedResult {
    /// The seed.
    pub seed: u64,
    /// The worst validation accuracy (%) of the brief's last epochs.
    pub worst_last: f64,
}

/// One point of the space, trained or not.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trial {
    /// `t000`, `t001`, … in the order of the space's points.
    pub id: String,
    /// The point's number in the space.
    pub point: usize,
    /// The value of every dimension.
    pub choices: BTreeMap<String, String>,
    /// Trainable parameters.
    pub params: usize,
    /// Multiply-adds per image.
    pub macs: usize,
    /// Receptive field of the last spatial layer.
    pub rf: usize,
    /// Where it stands.
    pub status: TrialStatus,
    /// Its metric at each rung it reached.
    pub rungs: Vec<RungResult>,
    /// Its run folder (seed 1), relative to the search folder.
    pub run_dir: String,
    /// The last rung's seeds.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub seeds: Vec<SeedResult>,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Trial {
    /// The metric of its furthest rung.
    pub fn metric(&self) -> Option<f64> {
        self.rungs.last().map(|r| r.metric)
    }
}

/// The winner.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Best {
    /// Its trial.
    pub id: String,
    /// Trainable parameters.
    pub params: usize,
    /// Its last-rung metric.
    pub metric: f64,
    /// `best.model`, a plain model file.
    pub model_file: String,
    /// `best.toml`, a recipe that `train` accepts (it names best.model).
    pub recipe_file: String,
}

/// The winner trained on all 60,000 images with one seed and judged on the test set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestResult {
    /// The seed.
    pub seed: u64,
    /// Test accuracy (%) of the brief's last epochs.
    pub last: Vec<f64>,
    /// Whether the whole brief is met.
    pub brief_met: bool,
    /// The run folder, relative to the search folder.
    pub run_dir: String,
}

/// How many points the space has and how many the brief admits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Points the space enumerates.
    pub enumerated: usize,
    /// Points within the brief's budget (and `--min-rf`) whose model builds.
    pub admitted: usize,
    /// Points trained (a sample of the admitted when `--trials` is smaller).
    pub trials: usize,
}

/// `search.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchRecord {
    /// The space file.
    pub space: String,
    /// The brief.
    pub brief: String,
    /// The base recipe.
    pub recipe: String,
    /// `running`, `finished` or `stopped`.
    pub state: String,
    /// Every option, for `--resume`.
    pub options: SearchOptions,
    /// Point counts.
    pub counts: Counts,
    /// The epochs each rung trains to.
    pub rung_epochs: Vec<usize>,
    /// Every trial.
    pub trials: Vec<Trial>,
    /// The winner, once the last rung is done.
    pub best: Option<Best>,
    /// The winner's test runs.
    pub test: Vec<TestResult>,
}

/// The record's file in a search folder.
pub const SEARCH_FILE: &str = "search.json";

impl SearchRecord {
    /// Every trial, best first: trained ones by their furthest rung (later rungs first), then by metric (ties
    /// to fewer parameters, then to the lower id); then the untrained. `leaderboard.md` and the web app's
    /// Searches panel show this order.
    pub fn leaderboard(&self) -> Vec<&Trial> {
        let mut order: Vec<&Trial> = self.trials.iter().collect();
        order.sort_by(|a, b| {
            let key = |t: &Trial| (t.rungs.len(), t.metric().unwrap_or(f64::NEG_INFINITY));
            let ((ra, ma), (rb, mb)) = (key(a), key(b));
            rb.cmp(&ra)
                .then(mb.total_cmp(&ma))
                .then(a.params.cmp(&b.params))
                .then(a.id.cmp(&b.id))
        });
        order
    }

    /// Writes `search.json` into `dir` (atomically).
    pub fn save(&self, dir: &Path) -> Result<()> {
        let text = serde_json::to_string_pretty(self).expect("a search record serialises");
        write_atomic(&dir.join(SEARCH_FILE), text.as_bytes())
    }

    /// Reads `dir/search.json`; the error names the file.
    pub fn load(dir: &Path) -> Result<SearchRecord> {
        let path = dir.join(SEARCH_FILE);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            AppError::invalid(format!(
                "--resume {}: no readable {SEARCH_FILE} ({e}); is it a search folder?",
                dir.display()
            ))
        })?;
        serde_json::from_str(&text).map_err(|e| AppError::file(&path, format!("not a search record: {e}")))
    }
}
