//! `GET /api/runs` and `GET /api/runs/{name}`: every run folder under `--runs`, read from the files
//! `nnlab mnist train` writes (config.json, model.model, metrics.json, and progress.json while it trains),
//! so a run still training shows up and grows as its epochs finish.

use std::path::Path;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Json;
use axum::extract::{Path as UrlPath, State};
use serde_json::{Value, json};

use super::ApiError;
use super::state::AppState;

/// A progress.json not rewritten for this long belongs to a run that was killed.
const STALE_SECONDS: f64 = 120.0;

fn read_json(path: &Path) -> Option<Value> {
    serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// `training`, `finished`, `interrupted`, `diverged`, `killed` (progress stopped without an end) or
/// `incomplete` (fewer epochs than planned, no progress file).
fn status(config: &Value, metrics: Option<&Value>, progress: Option<&Value>) -> &'static str {
    if let Some(p) = progress {
        match p["state"].as_str() {
            Some("training") if now() - p["updated"].as_f64().unwrap_or(0.0) > STALE_SECONDS => return "killed",
            Some("training") => return "training",
            Some("interrupted") => return "interrupted",
            Some("diverged") => return "diverged",
            _ => {}
        }
    }
    if let Some(reason) = metrics.and_then(|m| m["stopped"]["reason"].as_str()) {
        return if reason == "diverged" {
            "diverged"
        } else {
            "interrupted"
        };
    }
    let done = metrics.and_then(|m| m["epochs"].as_array()).map_or(0, Vec::len) as u64;
    if Some(done) >= config["epochs"].as_u64() {
        "finished"
    } else {
        "incomplete"
    }
}

/// One row of the runs list.
fn summary(name: &str, dir: &Path) -> Value {
    let config = read_json(&dir.join("config.json")).unwrap_or(Value::Null);
    let metrics = read_json(&dir.join("metrics.json"));
    let progress = read_json(&dir.join("progress.json"));
    let epochs: Vec<Value> = metrics
        .as_ref()
        .and_then(|m| m["epochs"].as_array().cloned())
        .unwrap_or_default();
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
        "status": status(&config, metrics.as_ref(), progress.as_ref()),
        "has_checkpoint": dir.join("best.safetensors").is_file(),
        // A run tuned on a validation split evaluates on held-out training images, not the test set.
        "validation": config["validation"],
    })
}

/// `GET /api/runs`: `{"runs": [{name, model, recipe, params, epochs, epochs_done, best_test_accuracy,
/// final_test_accuracy, final_train_accuracy, brief_met, status, has_checkpoint, validation}]}`
/// (`validation`: the number of held-out training images evaluated on instead of the test set, or null).
pub async fn list(State(state): State<Arc<AppState>>) -> Json<Value> {
    let runs: Vec<Value> = state
        .run_names()
        .iter()
        .filter_map(|name| state.run_dir(name).ok().map(|dir| summary(name, &dir)))
        .collect();
    Json(json!({ "runs": runs }))
}

/// `GET /api/runs/{name}`: the summary plus `config` (config.json), `metrics` (metrics.json, null before
/// the first epoch ends), `model_text` (model.model) and `progress` (progress.json while it trains).
pub async fn detail(
    State(state): State<Arc<AppState>>,
    UrlPath(name): UrlPath<String>,
) -> Result<Json<Value>, ApiError> {
    let dir = state.run_dir(&name)?;
    let config = read_json(&dir.join("config.json"))
        .ok_or_else(|| ApiError::not_found(format!("'{name}' has no readable config.json: not a run folder")))?;
    let mut out = summary(&name, &dir);
    out["config"] = config;
    out["metrics"] = read_json(&dir.join("metrics.json")).unwrap_or(Value::Null);
    out["progress"] = read_json(&dir.join("progress.json")).unwrap_or(Value::Null);
    out["model_text"] = std::fs::read_to_string(dir.join("model.model")).map_or(Value::Null, Value::String);
    Ok(Json(out))
}
