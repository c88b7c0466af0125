//! `GET /api/runs` and `GET /api/runs/{name}`: every run folder under `--runs`, read through the
//! application's `RunFolder` (config.json, model.model, metrics.json, and progress.json while it trains),
//! so a run still training shows up and grows as its epochs finish.

use std::path::Path;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path as UrlPath, State};
use nnlab_app::RunFolder;
use nnlab_app::run_folder::{CONFIG_FILE, METRICS_FILE, MODEL_FILE, PROGRESS_FILE};
use serde_json::{Value, json};

use super::state::AppState;
use super::{ApiError, blocking};

/// One row of the runs list.
fn summary(name: &str, dir: &Path) -> Value {
    let folder = RunFolder::at(dir);
    let config = folder.read_json(CONFIG_FILE).unwrap_or(Value::Null);
    let metrics = folder.read_json(METRICS_FILE);
    let epochs: Vec<Value> = metrics
        .as_ref()
        .and_then(|m| m["epochs"].as_array().cloned())
        .unwrap_or_default();
    let metrics_error = match (&metrics, folder.file(METRICS_FILE).is_file()) {
        (None, true) => Some(format!("{METRICS_FILE} cannot be read (damaged or half-written?)")),
        _ => None,
    };
    let modified = [METRICS_FILE, CONFIG_FILE, PROGRESS_FILE]
        .iter()
        .filter_map(|f| std::fs::metadata(folder.file(f)).and_then(|m| m.modified()).ok())
        .max()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_secs());
    let test = |e: &Value| e["test_accuracy"].as_f64();
    let best = epochs.iter().filter_map(test).reduce(f64::max);
    let last = epochs.last();
    json!({
        "name": name,
        "model": config["model"],
        "recipe": config["recipe"],
        "params": metrics.as_ref().map_or(Value::Null, |m| m["params"].clone()),
        "epochs": config["epochs"],
        "epochs_done": epochs.len(),
        "best_test_accuracy": best,
        "final_test_accuracy": last.and_then(test),
        "final_train_accuracy": last.and_then(|e| e["train_accuracy"].as_f64()),
        "brief_met": metrics.as_ref().map_or(Value::Null, |m| m["brief"]["met"].clone()),
        "status": folder.status().as_str(),
        "has_checkpoint": folder.best_checkpoint().is_file(),
        // A run tuned on a validation split evaluates on held-out training images, not the test set.
        "validation": config["validation"],
        "metrics_error": metrics_error,
        "modified": modified,
    })
}

/// `GET /api/runs`: `{"runs": [{name, model, recipe, params, epochs, epochs_done, best_test_accuracy,
/// final_test_accuracy, final_train_accuracy, brief_met, status, has_checkpoint, validation,
/// metrics_error, modified}], "skipped": [{name, reason}], "training": name|null}` (`validation`: the number
/// of held-out training images evaluated on instead of the test set, or null; `metrics_error`: why a
/// metrics.json present cannot be read; `modified`: the newest of its files' times, Unix seconds;
/// `skipped`: links to run folders outside the runs folder, not shown; `training`: the run this server is
/// training, if any).
pub async fn list(State(state): State<Arc<AppState>>) -> Result<Json<Value>, ApiError> {
    blocking(move || {
        let runs: Vec<Value> = state.run_dirs().iter().map(|(name, dir)| summary(name, dir)).collect();
        let skipped: Vec<Value> = state
            .skipped_links()
            .into_iter()
            .map(|(name, reason)| json!({ "name": name, "reason": reason }))
            .collect();
        Ok(Json(
            json!({ "runs": runs, "skipped": skipped, "training": state.training_name() }),
        ))
    })
    .await
}

/// `GET /api/runs/{name}`: the summary plus `config` (config.json), `metrics` (metrics.json, null before
/// the first epoch ends), `model_text` (model.model) and `progress` (progress.json while it trains).
pub async fn detail(
    State(state): State<Arc<AppState>>,
    UrlPath(name): UrlPath<String>,
) -> Result<Json<Value>, ApiError> {
    blocking(move || {
        let dir = state.run_dir(&name)?;
        let folder = RunFolder::at(&dir);
        let config = folder
            .read_json(CONFIG_FILE)
            .ok_or_else(|| ApiError::not_found(format!("'{name}' has no readable config.json: not a run folder")))?;
        let mut out = summary(&name, &dir);
        out["config"] = config;
        out["metrics"] = folder.read_json(METRICS_FILE).unwrap_or(Value::Null);
        out["progress"] = folder.read_json(PROGRESS_FILE).unwrap_or(Value::Null);
        out["model_text"] = std::fs::read_to_string(folder.file(MODEL_FILE)).map_or(Value::Null, Value::String);
        Ok(Json(out))
    })
    .await
}
