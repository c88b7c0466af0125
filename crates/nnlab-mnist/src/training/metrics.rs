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
    /// With weight averaging (`ema_decay`), the test loss of the weights under optimisation, beside the
    /// average's `test_loss`; absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_test_loss: Option<f64>,
    /// With weight averaging, the test accuracy of the weights under optimisation; absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_test_accuracy: Option<f64>,
}

/// Whether the run averaged its weights (`ema_decay`): its records carry the raw test numbers.
pub fn is_weight_averaged(records: &[EpochRecord]) -> bool {
    records.iter().any(|r| r.raw_test_accuracy.is_some())
}

/// How close (in accuracy, a fraction) the average must come to the weights under optimisation to count as
/// having caught up with them: half a percentage point.
const CAUGHT_UP: f64 = 0.005;

/// Index of the first epoch whose numbers show the run's model as it settles: in a weight-averaged run,
/// the first epoch on which the average's test accuracy has come within half a point of that of the weights
/// under optimisation (before it, the average still blends in the first, very different weights and reads
/// far below them); 0 otherwise. Plots leave the epochs before it out of their axis range.
pub fn averaging_caught_up(records: &[EpochRecord]) -> usize {
    records
        .iter()
        .position(|r| r.raw_test_accuracy.is_none_or(|raw| r.test_accuracy >= raw - CAUGHT_UP))
        .unwrap_or(records.len())
}

/// The `metrics.csv` document; a weight-averaged run has two more columns, `raw_test_loss` and
/// `raw_test_accuracy` (the weights under optimisation).
pub fn metrics_csv(records: &[EpochRecord]) -> String {
    let averaged = is_weight_averaged(records);
    let mut s = String::from("epoch,train_loss,train_accuracy,test_loss,test_accuracy,lr,seconds");
    s.push_str(if averaged {
        ",raw_test_loss,raw_test_accuracy\n"
    } else {
        "\n"
    });
    let or_empty = |v: Option<f64>| v.map_or(String::new(), |v| v.to_string());
    for r in records {
        s.push_str(&format!(
            "{},{},{},{},{},{},{}",
            r.epoch, r.train_loss, r.train_accuracy, r.test_loss, r.test_accuracy, r.lr, r.seconds
        ));
        if averaged {
            s.push_str(&format!(
                ",{},{}",
                or_empty(r.raw_test_loss),
                or_empty(r.raw_test_accuracy)
            ));
        }
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(epoch: usize, acc: f64, raw: Option<f64>) -> EpochRecord {
        EpochRecord {
            epoch,
            train_loss: 0.1,
            train_accuracy: 0.9,
            test_loss: 0.2,
            test_accuracy: acc,
            lr: 0.01,
            seconds: 1.0,
            raw_test_loss: raw.map(|_| 0.3),
            raw_test_accuracy: raw,
        }
    }

    #[test]
    fn an_averaged_run_has_its_raw_columns_and_a_point_where_the_average_caught_up() {
        let plain = [record(1, 0.9, None), record(2, 0.95, None)];
        assert_eq!(averaging_caught_up(&plain), 0);
        assert!(
            metrics_csv(&plain).starts_with("epoch,train_loss,train_accuracy,test_loss,test_accuracy,lr,seconds\n1,")
        );
        let averaged = [
            record(1, 0.1, Some(0.9)),
            record(2, 0.6, Some(0.95)),
            record(3, 0.978, Some(0.982)),
            record(4, 0.99, Some(0.98)),
        ];
        assert_eq!(
            averaging_caught_up(&averaged),
            2,
            "within half a point of the raw weights"
        );
        let csv = metrics_csv(&averaged);
        assert!(csv.starts_with(
            "epoch,train_loss,train_accuracy,test_loss,test_accuracy,lr,seconds,raw_test_loss,raw_test_accuracy\n"
        ));
        assert!(csv.contains("\n4,0.1,0.9,0.2,0.99,0.01,1,0.3,0.98\n"), "{csv}");
        let json = serde_json::to_value(&plain[0]).unwrap();
        assert!(
            json.get("raw_test_accuracy").is_none(),
            "old runs keep their metrics.json"
        );
    }
}
