//! `progress.json` in the run folder: where a run stands, rewritten (atomically) at most twice a second
//! while it trains and once more when it ends, so `nnlab serve` and any other reader can follow it.

use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use nnlab_mnist::training::Progress;

use crate::Result;
use crate::atomic::write_atomic;

/// Seconds between two writes during an epoch.
const EVERY_SECONDS: f64 = 0.5;

/// The name of the progress file in a run folder.
pub const PROGRESS_FILE: &str = "progress.json";

/// Writes a run's progress.json.
pub struct ProgressFile {
    path: PathBuf,
    epochs: usize,
    last_write: Option<Instant>,
}

/// Seconds since 1970 (UTC), as progress.json's `updated` records them.
pub fn unix_seconds() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

impl ProgressFile {
    /// The progress file of the run in `out`, for a run of `epochs` epochs.
    pub fn new(out: &Path, epochs: usize) -> Self {
        Self {
            path: out.join(PROGRESS_FILE),
            epochs,
            last_write: None,
        }
    }

    fn write(&mut self, state: &str, p: Option<&Progress>) -> Result<()> {
        let mut v = serde_json::json!({ "state": state, "epochs": self.epochs, "updated": unix_seconds() });
        if let Some(p) = p {
            v["epoch"] = p.epoch.into();
            v["batch"] = p.batch.into();
            v["batches"] = p.batches.into();
            v["loss"] = p.loss.into();
            v["accuracy"] = p.accuracy.into();
            v["images_per_sec"] = p.images_per_sec.into();
            v["lr"] = f64::from(p.lr).into();
        }
        write_atomic(
            &self.path,
            serde_json::to_string_pretty(&v)
                .expect("a JSON value serialises")
                .as_bytes(),
        )?;
        self.last_write = Some(Instant::now());
        Ok(())
    }

    /// A step finished: written when the last write is older than half a second (or at an epoch's end).
    pub fn step(&mut self, p: &Progress) -> Result<()> {
        let due = self
            .last_write
            .is_none_or(|t| t.elapsed().as_secs_f64() >= EVERY_SECONDS);
        if due || p.batch == p.batches {
            self.write("training", Some(p))?;
        }
        Ok(())
    }

    /// The run ended: `finished`, `interrupted` or `diverged`.
    pub fn end(&mut self, state: &str) -> Result<()> {
        self.write(state, None)
    }
}
