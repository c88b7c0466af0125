//! The web app of `nnlab serve`: a local server over the same application crate as the CLI — the backprop
//! playground, draw a digit, and the training runs (live while they train) — with its JSON API. Every page
//! and script is built into the binary; nothing is fetched from the network. Handlers are thin: every
//! file read, checkpoint load, table and inference runs on tokio's blocking pool ([`blocking`]), so a slow
//! request never stalls the others.

mod api_error;
mod assets;
mod backprop_api;
mod boundary_api;
mod design_api;
mod inspect_api;
mod predict_api;
mod runs_api;
mod searches_api;
mod state;
mod train_api;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use tower_http::catch_panic::CatchPanicLayer;

pub use api_error::ApiError;
use state::AppState;

/// Largest request body accepted (a bigger one gets 413).
pub const MAX_BODY_BYTES: usize = 8 << 20;

/// What the server is started with (the flags of `nnlab serve`).
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Address to listen on; anything but loopback is reachable from other machines.
    pub addr: SocketAddr,
    /// Folder of training runs (each written by `nnlab mnist train --out`).
    pub runs: PathBuf,
    /// A checkpoint for the draw page and /api/predict, besides those of the runs.
    pub checkpoint: Option<PathBuf>,
    /// Allow `POST /api/runs` to train even when not bound to loopback.
    pub allow_train: bool,
    /// Where trainings started from the designer read MNIST.
    pub data_dir: PathBuf,
}

/// Runs blocking work (file reads, checkpoint loads, tables, inference) on tokio's blocking pool, so the
/// async worker threads stay free to answer other requests.
pub async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ApiError::internal(format!("the request's work failed: {e}")))?
}

/// Every route of the app: the pages, their assets and the JSON API.
pub fn router(state: Arc<AppState>) -> Router {
    let routes = Router::new();
    // Debug builds (the tests') have a route that panics, to show a panic answers 500 and the server goes on.
    #[cfg(debug_assertions)]
    let routes = routes.route("/api/_panic", get(deliberate_panic));
    routes
        .route("/", get(assets::index))
        .route("/playground", get(assets::playground))
        .route("/playground/net", get(assets::playground_net))
        .route("/draw", get(assets::draw))
        .route("/runs", get(assets::runs))
        .route("/design", get(assets::design))
        .route("/assets/{file}", get(assets::asset))
        .route("/api/backprop", get(backprop_api::table))
        .route("/api/backprop/sweep", get(backprop_api::sweep))
        .route("/api/backprop.csv", get(backprop_api::csv))
        .route("/api/backprop.xlsx", get(backprop_api::xlsx))
        .route("/api/boundary", get(boundary_api::boundary))
        .route("/api/boundary.xlsx", get(boundary_api::xlsx))
        .route("/api/boundary.py", get(boundary_api::pytorch))
        .route("/api/checkpoints", get(predict_api::checkpoints))
        .route("/api/predict", post(predict_api::predict))
        .route("/api/inspect", post(inspect_api::inspect))
        .route("/api/summary", post(design_api::summary))
        .route("/api/models", get(design_api::models))
        .route("/api/runs", get(runs_api::list).post(train_api::start))
        .route("/api/runs/{name}", get(runs_api::detail))
        .route("/api/runs/{name}/stop", post(train_api::stop))
        .route("/api/searches", get(searches_api::list))
        .fallback(api_error::not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(CatchPanicLayer::custom(api_error::panic_response))
        .with_state(state)
}

/// A handler that panics (debug builds only), for the test that a panic answers 500.
#[cfg(debug_assertions)]
async fn deliberate_panic() -> &'static str {
    panic!("a deliberate panic, for the test of the 500 answer")
}

/// Serves until Ctrl-C; bad options are refused before anything listens, naming the flag.
pub fn run(args: ServeOptions) -> Result<()> {
    if !args.runs.is_dir() {
        bail!(
            "--runs {}: no such folder (train a run with nnlab mnist train, or point --runs at your runs)",
            args.runs.display()
        );
    }
    if let Some(c) = &args.checkpoint
        && !c.is_file()
    {
        bail!("--checkpoint {}: no such file", c.display());
    }
    let allow_train = args.allow_train || args.addr.ip().is_loopback();
    let state = Arc::new(
        AppState::new(&args.runs, args.checkpoint.as_deref())?.with_training(allow_train, args.data_dir.clone()),
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(args.addr)
            .await
            .with_context(|| format!("--addr {}: cannot listen there", args.addr))?;
        let local = listener.local_addr()?;
        if !local.ip().is_loopback() {
            eprintln!(
                "warning: listening on {local}, reachable from other machines; nnlab serve has no authentication"
            );
        }
        println!(
            "nnlab serve: http://{local}/  (runs from {}; Ctrl-C stops)",
            args.runs.display()
        );
        axum::serve(listener, router(state))
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
            .context("the server stopped")
    })
}

#[cfg(test)]
mod tests {
    /// The web front end sits on the application crate, never on the CLI: its manifest names no
    /// dependency on the `nnlab` binary crate.
    #[test]
    fn the_server_does_not_depend_on_the_cli() {
        let manifest = include_str!("../Cargo.toml");
        let deps = manifest.split("[dependencies]").nth(1).expect("a [dependencies] table");
        assert!(deps.contains("nnlab-app"), "{deps}");
        assert!(
            !deps
                .lines()
                .any(|l| l.starts_with("nnlab ") || l.contains("path = \"../nnlab\"")),
            "{deps}"
        );
    }
}
