//! The API's errors: a status and a JSON body `{"error": "…", "field": "…"}` that names what was wrong.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// An error answered to a request.
#[derive(Debug)]
pub struct ApiError {
    /// 4xx for a bad request, 5xx for the server's own failure.
    pub status: StatusCode,
    /// The parameter or JSON field at fault, when one is.
    pub field: Option<String>,
    /// What is wrong, in one sentence.
    pub message: String,
}

impl ApiError {
    /// 400: `field` is wrong.
    pub fn bad(field: &str, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            field: Some(field.to_string()),
            message: message.into(),
        }
    }

    /// 400 from a message of the form "field: what is wrong" (the application's errors name their field
    /// first); a message without that form is put under `default_field`.
    pub fn bad_prefixed(text: &str, default_field: &str) -> Self {
        let (field, message) = text.split_once(": ").unwrap_or((default_field, text));
        Self::bad(field, message)
    }

    /// 404: nothing of that name.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            field: None,
            message: message.into(),
        }
    }

    /// 500: the server failed (the message says how).
    pub fn internal(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            field: None,
            message: message.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = serde_json::json!({ "error": self.message });
        if let Some(field) = self.field {
            body["field"] = field.into();
        }
        (self.status, Json(body)).into_response()
    }
}

/// Any path that is not a page, an asset or an API route.
pub async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::not_found(format!("{}: no such page or API route", uri.path()))
}

/// A handler that panicked: 500 with a JSON body; the server keeps serving.
pub fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    ApiError::internal("the server hit an internal error handling this request (a bug; please report it)")
        .into_response()
}
