//! The pages and their scripts, built into the binary (no CDN, nothing fetched at run time). Each page is
//! its body inside one shared layout.

use axum::extract::Path;
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};

use super::ApiError;

const LAYOUT: &str = include_str!("../web/layout.html");

/// (file name, content type, content) of every asset.
const ASSETS: [(&str, &str, &str); 8] = [
    ("app.css", "text/css; charset=utf-8", include_str!("../web/app.css")),
    (
        "chart.js",
        "text/javascript; charset=utf-8",
        include_str!("../web/chart.js"),
    ),
    (
        "playground.js",
        "text/javascript; charset=utf-8",
        include_str!("../web/playground.js"),
    ),
    (
        "playground_net.js",
        "text/javascript; charset=utf-8",
        include_str!("../web/playground_net.js"),
    ),
    (
        "draw.js",
        "text/javascript; charset=utf-8",
        include_str!("../web/draw.js"),
    ),
    (
        "design.js",
        "text/javascript; charset=utf-8",
        include_str!("../web/design.js"),
    ),
    (
        "inspect.js",
        "text/javascript; charset=utf-8",
        include_str!("../web/inspect.js"),
    ),
    (
        "runs.js",
        "text/javascript; charset=utf-8",
        include_str!("../web/runs.js"),
    ),
];

/// A page: the layout with its title (`TITLE · nnlab`, or `nnlab` alone for the front page), body and scripts.
fn page(title: &str, body: &str, scripts: &[&str]) -> Html<String> {
    let title = if title == "nnlab" {
        title.to_string()
    } else {
        format!("{title} · nnlab")
    };
    let script: String = scripts
        .iter()
        .map(|s| format!(r#"<script src="/assets/{s}"></script>"#))
        .collect();
    Html(
        LAYOUT
            .replace("{{title}}", &title)
            .replace("{{body}}", body)
            .replace("{{script}}", &script),
    )
}

/// `/`: what the app has, with links.
pub async fn index() -> Html<String> {
    page("nnlab", include_str!("../web/index.html"), &[])
}

/// `/playground`: the 2-2-2 network, live.
pub async fn playground() -> Html<String> {
    page(
        "Backprop playground",
        include_str!("../web/playground.html"),
        &["playground.js"],
    )
}

/// `/playground/net`: any small network on TF Playground's data sets.
pub async fn playground_net() -> Html<String> {
    page(
        "Any network · playground",
        include_str!("../web/playground_net.html"),
        &["playground_net.js"],
    )
}

/// `/draw`: draw a digit, see the model's answer.
pub async fn draw() -> Html<String> {
    page(
        "Draw a digit",
        include_str!("../web/draw.html"),
        &["inspect.js", "draw.js"],
    )
}

/// `/runs`: the training runs and their curves.
pub async fn runs() -> Html<String> {
    page("Training runs", include_str!("../web/runs.html"), &["runs.js"])
}

/// `/design`: the model designer.
pub async fn design() -> Html<String> {
    page("Model designer", include_str!("../web/design.html"), &["design.js"])
}

/// `/assets/{file}`.
pub async fn asset(Path(file): Path<String>) -> Result<Response, ApiError> {
    let (_, content_type, body) = ASSETS
        .iter()
        .find(|(name, _, _)| *name == file)
        .ok_or_else(|| ApiError::not_found(format!("/assets/{file}: no such asset")))?;
    Ok(([(header::CONTENT_TYPE, *content_type)], *body).into_response())
}
