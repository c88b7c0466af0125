//! Per-epoch metrics, as written to `metrics.json` and `metrics.csv`.

use serde::{Deserialize, Serialize};

/// One epoch's numbers; accuracies are fractions in [0, 1].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// Epoch, starting at 1.
    pub epoch: usize,
    /// Mean training loss over the epoch's batches (augmented, dropout on).
    pub train_loss: f64,
    /// Training accuracy over the epoch's batches.
    pub train_accuracy: f64,
    /// Test loss.
    pub test_loss: f64,
    /// Test accuracy.
    pub test_accuracy: f64,
    /// Learning rate at the epoch's last step.
    pub lr: f64,
    /// Wall time of the epoch (training and evaluation).
    pub seconds: f64,
}

/// The `metrics.json` document; `brief` holds the brief's verdicts so far, `stopped` says why a run ended
/// early (divergence, interrupt).
pub fn metrics_json(
    records: &[EpochRecord],
    params: usize,
    brief: Option<&super::brief::BriefResult>,
    stopped: Option<&serde_json::Value>,
) -> serde_json::Value {
    let mut doc = serde_json::json!({ "epochs": records, "params": params });
    if let Some(b) = brief {
        doc["brief"] = serde_json::to_value(b).expect("verdicts serialise");
    }
    if let Some(s) = stopped {
        doc["stopped"] = s.clone();
    }
    doc
}

/// The `metrics.csv` document.
pub fn metrics_csv(records: &[EpochRecord]) -> String {
    let mut s = String::from("epoch,train_loss,train_accuracy,test_loss,test_accuracy,lr,seconds\n");
    for r in records {
        s.push_str(&format!(
            "{},{},{},{},{},{},{}\n",
            r.epoch, r.train_loss, r.train_accuracy, r.test_loss, r.test_accuracy, r.lr, r.seconds
        ));
    }
    s
}
