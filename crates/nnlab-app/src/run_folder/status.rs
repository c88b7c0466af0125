//! Where a run stands, from its files alone: training (progress.json fresh), finished, interrupted,
//! diverged, killed (progress.json went stale without an end) or incomplete.

use serde::Serialize;

use super::{CONFIG_FILE, METRICS_FILE, PROGRESS_FILE, RunFolder, unix_seconds};

/// A progress.json not rewritten for this long belongs to a run that was killed.
pub const STALE_SECONDS: f64 = 120.0;

/// A run's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    /// It is training now (its progress.json was rewritten within [`STALE_SECONDS`]).
    Training,
    /// Every planned epoch ran.
    Finished,
    /// Stopped by Ctrl-C or a stop request; `--resume` continues it.
    Interrupted,
    /// A loss or gradient became non-finite.
    Diverged,
    /// Its progress.json says training but went stale: the process died.
    Killed,
    /// Fewer epochs than planned, and no progress file says why.
    Incomplete,
}

impl RunStatus {
    /// The status as the API and the pages name it.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Training => "training",
            RunStatus::Finished => "finished",
            RunStatus::Interrupted => "interrupted",
            RunStatus::Diverged => "diverged",
            RunStatus::Killed => "killed",
            RunStatus::Incomplete => "incomplete",
        }
    }
}

impl RunFolder {
    /// Where the run stands now.
    pub fn status(&self) -> RunStatus {
        let config = self.read_json(CONFIG_FILE).unwrap_or_default();
        let metrics = self.read_json(METRICS_FILE);
        if let Some(p) = self.read_json(PROGRESS_FILE) {
            match p["state"].as_str() {
                Some("training") if unix_seconds() - p["updated"].as_f64().unwrap_or(0.0) > STALE_SECONDS => {
                    return RunStatus::Killed;
                }
                Some("training") => return RunStatus::Training,
                Some("interrupted") => return RunStatus::Interrupted,
                Some("diverged") => return RunStatus::Diverged,
                _ => {}
            }
        }
        if let Some(reason) = metrics.as_ref().and_then(|m| m["stopped"]["reason"].as_str()) {
            return if reason == "diverged" {
                RunStatus::Diverged
            } else {
                RunStatus::Interrupted
            };
        }
        let done = metrics
            .as_ref()
            .and_then(|m| m["epochs"].as_array())
            .map_or(0, Vec::len) as u64;
        if Some(done) >= config["epochs"].as_u64() {
            RunStatus::Finished
        } else {
            RunStatus::Incomplete
        }
    }
}
