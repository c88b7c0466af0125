//! The designer's API: `POST /api/summary` (a model's text → the `summary --json` document, with the
//! brief's structural clauses judged, or 400 with the line at fault) and `GET /api/models` (the shipped
//! models' texts, to open in the editor).

use axum::Json;
use axum::body::Bytes;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use nnlab_app::Brief;
use nnlab_app::model_summary::summary_json;
use nnlab_mnist::{ModelSpec, check_for_mnist};
use nnlab_model::ModelError;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ApiError, blocking};

/// Body of `POST /api/summary` (or the model's text alone, as text/plain).
#[derive(Debug, Deserialize)]
struct SummaryRequest {
    /// The model file's text.
    text: String,
    /// A brief (`8k`, or clauses) whose parameter, epoch, BN, Dropout and GAP clauses are judged.
    brief: Option<String>,
    /// Epochs to judge an epochs clause against (default: the brief's most).
    epochs: Option<usize>,
}

/// 400 with `{"error", "line"}` (`line` null for a problem of the whole file).
fn model_error(message: String, line: Option<usize>) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({ "error": message, "line": line }))).into_response()
}

/// The request, from JSON or plain text.
fn request(body: &[u8]) -> Result<SummaryRequest, ApiError> {
    if body.first() == Some(&b'{') {
        return serde_json::from_slice(body).map_err(|e| ApiError::bad("body", format!("not a summary request: {e}")));
    }
    let text = std::str::from_utf8(body).map_err(|_| ApiError::bad("body", "the model text is not UTF-8"))?;
    Ok(SummaryRequest {
        text: text.to_string(),
        brief: None,
        epochs: None,
    })
}

/// `POST /api/summary`: the summary document plus, with a brief, `brief`: {`text`, `clauses`: [{`clause`,
/// `ok`, `detail`}]}; a model error is 400 `{"error", "line"}`; a bad brief is 400 naming `brief`.
pub async fn summary(body: Bytes) -> Result<Response, ApiError> {
    let req = request(&body)?;
    blocking(move || {
        let spec = match ModelSpec::parse("design", "model", &req.text) {
            Ok(spec) => spec,
            Err(ModelError::Line { line, message, .. }) => return Ok(model_error(message, Some(line))),
            Err(e) => return Ok(model_error(e.to_string(), None)),
        };
        if let Err(e) = check_for_mnist(&spec) {
            return Ok(model_error(e.to_string(), None));
        }
        let mut doc = summary_json(&spec);
        if let Some(text) = req.brief.as_deref().filter(|t| !t.trim().is_empty()) {
            let brief = Brief::parse(text).map_err(|e| ApiError::bad("brief", e.to_string()))?;
            let epochs = req.epochs.or(brief.max_epochs()).unwrap_or(15);
            doc["brief"] = json!({ "text": brief.text, "clauses": brief.structure(&spec, epochs) });
        }
        Ok(Json(doc).into_response())
    })
    .await
}

/// `GET /api/models`: `{"models": [{"name", "text"}], "recipes": [names]}`, every shipped model file and
/// recipe.
pub async fn models() -> Json<Value> {
    let models: Vec<Value> = nnlab_model::shipped::SHIPPED
        .iter()
        .map(|(name, text)| json!({ "name": name, "text": text }))
        .collect();
    let recipes: Vec<&str> = nnlab_mnist::training::recipe_file::SHIPPED
        .iter()
        .map(|(n, _)| *n)
        .collect();
    Json(json!({ "models": models, "recipes": recipes }))
}
