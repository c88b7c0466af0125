//! `POST /api/inspect`: what the draw page's model sees in an image — the JSON of `nnlab mnist inspect
//! --json` (probabilities, every statement's maps with their geometry and values, the first layer's
//! filters, saliency and Grad-CAM), from the application's own `inspect`.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use nnlab_app::inspect::inspect_at;
use serde::Deserialize;
use serde_json::Value;

use super::predict_api::{body_input, is_json, require_body};
use super::state::AppState;
use super::{ApiError, blocking};

/// Query of `POST /api/inspect`.
#[derive(Debug, Deserialize)]
pub struct InspectQuery {
    /// `RUN/best`, `RUN/last` or `checkpoint`; the default checkpoint when absent.
    checkpoint: Option<String>,
    /// The statement Grad-CAM explains (default: the last with a spatial output).
    gradcam_layer: Option<String>,
}

/// `POST /api/inspect` with a PNG/JPEG/… image or `{"pixels": [784]}`: `inspect --json`'s document plus
/// each spatial layer's `values`, `filters` and the `checkpoint` used.
pub async fn inspect(
    State(state): State<Arc<AppState>>,
    Query(query): Query<InspectQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    require_body(&body)?;
    let json = is_json(&headers, &body);
    blocking(move || {
        let (id, path) = state.resolve_checkpoint(query.checkpoint.as_deref())?;
        let model = state.model(&path)?;
        let input = body_input(json, &body)?;
        let net = model.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let report = inspect_at(&net, input, query.gradcam_layer.as_deref())
            .map_err(|e| ApiError::bad("gradcam_layer", e.to_string()))?;
        let mut doc = report.to_json(true);
        doc["checkpoint"] = id.into();
        Ok(Json(doc))
    })
    .await
}
