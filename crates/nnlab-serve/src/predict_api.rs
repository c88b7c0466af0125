//! `POST /api/predict` and `GET /api/checkpoints`: the draw page's model, on an uploaded image (PNG or
//! JPEG, prepared exactly as `nnlab mnist predict` prepares a file) or on 784 pixels given as JSON.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use nnlab_mnist::data::{MEAN, STD};
use nnlab_mnist::preprocess::{Grey, to_mnist};
use nnlab_nn::{Mode, Tensor, nll_loss};
use serde::Deserialize;
use serde_json::{Value, json};

use super::ApiError;
use super::state::AppState;
use crate::output::image_input::{DEFAULT_MAX_SIDE, decode_bounded_bytes};

/// Pixels per MNIST image.
const PIXELS: usize = 28 * 28;

/// `GET /api/checkpoints`: `{"checkpoints": [{"id", "label", "test_accuracy"}], "default": id|null}`.
pub async fn checkpoints(State(state): State<Arc<AppState>>) -> Json<Value> {
    let all = state.checkpoints();
    let default = state.default_checkpoint(&all);
    Json(json!({ "checkpoints": all, "default": default }))
}

/// Query of `POST /api/predict`.
#[derive(Debug, Deserialize)]
pub struct PredictQuery {
    /// `RUN/best`, `RUN/last` or `checkpoint`; the default checkpoint when absent.
    checkpoint: Option<String>,
}

/// The 28×28 input, in [0, 1] with 1 = ink, from a JSON body `{"pixels": [784 numbers]}`.
fn pixels_from_json(body: &[u8]) -> Result<Vec<f32>, ApiError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| ApiError::bad("body", format!("not valid JSON: {e}")))?;
    let pixels = value
        .get("pixels")
        .ok_or_else(|| ApiError::bad("pixels", "missing: send {\"pixels\": [784 numbers in [0, 1]]}"))?
        .as_array()
        .ok_or_else(|| ApiError::bad("pixels", "must be an array of 784 numbers in [0, 1]"))?;
    if pixels.len() != PIXELS {
        return Err(ApiError::bad(
            "pixels",
            format!("expected {PIXELS} numbers (28×28, row by row), got {}", pixels.len()),
        ));
    }
    pixels
        .iter()
        .enumerate()
        .map(|(k, p)| match p.as_f64() {
            Some(x) if (0.0..=1.0).contains(&x) => Ok(x as f32),
            Some(x) => Err(ApiError::bad(
                &format!("pixels[{k}]"),
                format!("{x} is outside [0, 1] (0 = background, 1 = ink)"),
            )),
            None => Err(ApiError::bad(&format!("pixels[{k}]"), format!("{p} is not a number"))),
        })
        .collect()
}

/// The 28×28 input from an uploaded image: decoded within the size limits, then centred and scaled as
/// MNIST digits are.
fn pixels_from_image(body: &[u8]) -> Result<Vec<f32>, ApiError> {
    let img = decode_bounded_bytes(body, DEFAULT_MAX_SIDE)
        .map_err(|e| ApiError::bad("image", e))?
        .to_luma32f();
    let grey = Grey {
        width: img.width() as usize,
        height: img.height() as usize,
        pixels: img.into_raw(),
    };
    to_mnist(&grey).map_err(|e| ApiError::bad("image", e.to_string()))
}

/// `POST /api/predict`: `{"digit": d, "probabilities": [10], "checkpoint": id, "input": [784]}`, where
/// `input` is the 28×28 image the model saw (in [0, 1], 1 = ink).
pub async fn predict(
    State(state): State<Arc<AppState>>,
    Query(query): Query<PredictQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    if body.is_empty() {
        return Err(ApiError::bad(
            "body",
            "empty: send a PNG or JPEG image, or JSON {\"pixels\": [784 numbers]}",
        ));
    }
    let is_json = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/json"))
        || body.first() == Some(&b'{');
    let (id, path) = state.resolve_checkpoint(query.checkpoint.as_deref())?;
    let model = state.model(&path)?;
    let result = tokio::task::spawn_blocking(move || -> Result<(Vec<f32>, Vec<f32>), ApiError> {
        let input = if is_json {
            pixels_from_json(&body)?
        } else {
            pixels_from_image(&body)?
        };
        let x: Vec<f32> = input.iter().map(|v| (v - MEAN) / STD).collect();
        let mut model = model.lock().unwrap_or_else(|e| e.into_inner());
        let out = nll_loss(&model.forward(Tensor::from_vec([1, 1, 28, 28], x), Mode::Eval, 0), &[0]);
        let probabilities = out.log_probs.iter().map(|lp| lp.exp()).collect();
        Ok((input, probabilities))
    })
    .await
    .map_err(|e| ApiError::internal(format!("the prediction failed: {e}")))?;
    let (input, probabilities) = result?;
    let digit = probabilities
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map(|(d, _)| d)
        .unwrap_or(0);
    Ok(Json(json!({
        "digit": digit,
        "probabilities": probabilities,
        "checkpoint": id,
        "input": input,
    })))
}
