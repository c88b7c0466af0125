//! `POST /api/predict` and `GET /api/checkpoints`: the draw page's model, on an uploaded image (PNG or
//! JPEG, prepared exactly as `nnlab mnist predict` prepares a file) or on 784 pixels given as JSON.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use nnlab_app::classify::{Classification, PIXELS, check_pixels, classify, prepare_bytes};
use nnlab_app::image_input::DEFAULT_MAX_SIDE;
use serde::Deserialize;
use serde_json::{Value, json};

use super::state::AppState;
use super::{ApiError, blocking};

/// `GET /api/checkpoints`: `{"checkpoints": [{"id", "label", "test_accuracy"}], "default": id|null}`.
pub async fn checkpoints(State(state): State<Arc<AppState>>) -> Result<Json<Value>, ApiError> {
    blocking(move || {
        let all = state.checkpoints();
        let default = state.default_checkpoint(&all);
        Ok(Json(json!({ "checkpoints": all, "default": default })))
    })
    .await
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
        .ok_or_else(|| ApiError::bad("pixels", format!("must be an array of {PIXELS} numbers in [0, 1]")))?;
    let numbers: Vec<f64> = pixels
        .iter()
        .enumerate()
        .map(|(k, p)| {
            p.as_f64()
                .ok_or_else(|| ApiError::bad(&format!("pixels[{k}]"), format!("{p} is not a number")))
        })
        .collect::<Result<_, _>>()?;
    check_pixels(&numbers, "pixels").map_err(|e| ApiError::bad_prefixed(&e.to_string(), "pixels"))
}

/// Refuses an empty body (before any checkpoint is looked up), saying what to send.
pub(crate) fn require_body(body: &[u8]) -> Result<(), ApiError> {
    if body.is_empty() {
        return Err(ApiError::bad(
            "body",
            "empty: send a PNG, JPEG, BMP, GIF or WebP image, or JSON {\"pixels\": [784 numbers]}",
        ));
    }
    Ok(())
}

/// The 28×28 input of a request body: JSON pixels, or an uploaded image prepared exactly as
/// `nnlab mnist predict` prepares a file. Blocking (it may decode an image).
pub(crate) fn body_input(json: bool, body: &[u8]) -> Result<Vec<f32>, ApiError> {
    if json {
        pixels_from_json(body)
    } else {
        prepare_bytes(body, DEFAULT_MAX_SIDE).map_err(|e| ApiError::bad("image", e))
    }
}

/// Whether a body is JSON pixels (by its content type or its first byte) rather than an image.
pub(crate) fn is_json(headers: &HeaderMap, body: &[u8]) -> bool {
    headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/json"))
        || body.first() == Some(&b'{')
}

/// `POST /api/predict`: `{"digit": d, "probabilities": [10], "checkpoint": id, "input": [784]}`, where
/// `input` is the 28×28 image the model saw (in [0, 1], 1 = ink). Uploaded images are prepared exactly
/// as `nnlab mnist predict` prepares a file (the application's `classify`).
pub async fn predict(
    State(state): State<Arc<AppState>>,
    Query(query): Query<PredictQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    require_body(&body)?;
    let is_json = is_json(&headers, &body);
    let (id, answer) = blocking(move || -> Result<(String, Classification), ApiError> {
        let (id, path) = state.resolve_checkpoint(query.checkpoint.as_deref())?;
        let model = state.model(&path)?;
        let input = body_input(is_json, &body)?;
        let mut model = model.lock().unwrap_or_else(|e| e.into_inner());
        Ok((id, classify(&mut model, input)))
    })
    .await?;
    Ok(Json(json!({
        "digit": answer.digit(),
        "probabilities": answer.probabilities,
        "checkpoint": id,
        "input": answer.input,
    })))
}
