//! Training from the browser: `POST /api/runs` starts a run of a model's text with a recipe, seed and
//! epochs in a new folder under `--runs` (202 and its name; one at a time: a second is 409 naming the
//! running one), and `POST /api/runs/{name}/stop` stops it as Ctrl-C stops `train` (after the step; its
//! checkpoint and metrics kept). Only a server on loopback, or started with `--allow-train`, trains (403).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Json;
use axum::extract::{Path as UrlPath, State};
use axum::http::StatusCode;
use nnlab_app::RecipeOverrides;
use nnlab_app::RunFolder;
use nnlab_app::training::{TrainRequest, execute};
use nnlab_mnist::Mnist;
use serde::Deserialize;
use serde_json::{Value, json};

use super::state::{AppState, Training};
use super::{ApiError, blocking};

/// Body of `POST /api/runs`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartRequest {
    /// The model file's text.
    model_text: String,
    /// A shipped recipe's name (default `seed`).
    recipe: Option<String>,
    /// Seed (default: the recipe's).
    seed: Option<u64>,
    /// Epochs (default: the recipe's).
    epochs: Option<usize>,
    /// Train on the first N training images only.
    train_limit: Option<usize>,
    /// Evaluate on the first N test images only.
    test_limit: Option<usize>,
    /// The brief judged after each epoch (default: the recipe's).
    brief: Option<String>,
}

fn conflict(message: String) -> ApiError {
    ApiError {
        status: StatusCode::CONFLICT,
        field: None,
        message,
    }
}

/// 403 unless training over HTTP is allowed (loopback, or `--allow-train`).
fn require_allowed(state: &AppState) -> Result<(), ApiError> {
    if state.allow_train() {
        return Ok(());
    }
    Err(ApiError {
        status: StatusCode::FORBIDDEN,
        field: None,
        message: "training over HTTP is off: the server is not on loopback; restart it with --allow-train to allow it"
            .into(),
    })
}

/// 409: another training holds the one slot.
fn already_running(running: &str) -> ApiError {
    conflict(format!("a training is already running: '{running}'; stop it first"))
}

/// A fresh folder name under the runs folder: `design-YYYYMMDD-HHMMSS`, suffixed when taken.
fn fresh_name(state: &AppState) -> String {
    let base = format!(
        "design-{}",
        RunFolder::default_dir()
            .file_name()
            .map_or("run".into(), |n| n.to_string_lossy().into_owned())
    );
    let mut name = base.clone();
    let mut k = 2;
    while state.runs_root().join(&name).exists() {
        name = format!("{base}-{k}");
        k += 1;
    }
    name
}

/// `POST /api/runs`: checks the request (400 naming the field), then trains in the background; 202
/// `{"name"}`. 403 unless training over HTTP is allowed; 409 while another training runs.
pub async fn start(
    State(state): State<Arc<AppState>>,
    Json(req): Json<StartRequest>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    require_allowed(&state)?;
    blocking(move || {
        // Refused early, before MNIST is read; the slot itself is taken atomically below.
        if let Some(running) = state.training_name() {
            return Err(already_running(&running));
        }
        let request = TrainRequest {
            model_text: Some(req.model_text),
            recipe: Some(req.recipe.unwrap_or_else(|| "seed".into())),
            overrides: RecipeOverrides {
                seed: req.seed,
                epochs: req.epochs,
                train_limit: req.train_limit,
                test_limit: req.test_limit,
                ..RecipeOverrides::default()
            },
            brief: req.brief.filter(|b| !b.trim().is_empty()),
            ..TrainRequest::default()
        };
        let mut plan = request.plan().map_err(|e| ApiError::bad("request", e.to_string()))?;
        let data = state.data_dir().to_path_buf();
        let mnist = Mnist::load(&data)
            .map_err(|e| conflict(format!("the MNIST data cannot be read from {}: {e}", data.display())))?;
        plan.config.data_dir = Some(data);
        let name = fresh_name(&state);
        let stop = Arc::new(AtomicBool::new(false));
        // The slot first, then the folder: a request that loses the race leaves no empty run folder.
        if !state.begin_training(Training {
            name: name.clone(),
            stop: stop.clone(),
        }) {
            return Err(already_running(&state.training_name().unwrap_or_default()));
        }
        let folder = RunFolder::create(state.runs_root().join(&name)).map_err(|e| {
            state.end_training();
            ApiError::internal(e.to_string())
        })?;
        let background = state.clone();
        std::thread::spawn(move || {
            let end = execute::<nnlab_app::AppError>(plan, &mnist, &folder, &stop, &mut |_| Ok(()));
            if let Err(e) = end {
                eprintln!("training {} failed: {e}", folder.name());
            }
            background.end_training();
        });
        Ok((StatusCode::ACCEPTED, Json(json!({ "name": name }))))
    })
    .await
}

/// `POST /api/runs/{name}/stop`: 202 `{"stopping": name}` when it is the running training; 409 when that
/// run is not training; 404 when there is no such run.
pub async fn stop(
    State(state): State<Arc<AppState>>,
    UrlPath(name): UrlPath<String>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    require_allowed(&state)?;
    blocking(move || {
        state.run_dir(&name)?;
        match state.training() {
            Some(t) if t.name == name => {
                t.stop.store(true, Ordering::SeqCst);
                Ok((StatusCode::ACCEPTED, Json(json!({ "stopping": name }))))
            }
            _ => Err(conflict(format!("'{name}' is not training in this server"))),
        }
    })
    .await
}
