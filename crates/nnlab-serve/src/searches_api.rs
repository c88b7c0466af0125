//! `GET /api/searches`: every search folder under `--runs` (a folder holding a `search.json`), with its state,
//! counts, best trial, test verdicts and live leaderboard — read from the file `nnlab mnist search` rewrites
//! after every training, so a search in progress grows on the runs page.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use nnlab_app::search::SearchRecord;
use serde_json::{Value, json};

use super::state::AppState;
use super::{ApiError, blocking};

/// Rows of a leaderboard the page shows.
const SHOWN: usize = 12;

/// The best trained trials, in the leaderboard's order.
fn leaderboard(record: &SearchRecord) -> Vec<Value> {
    record
        .leaderboard()
        .into_iter()
        .filter(|t| !t.rungs.is_empty())
        .take(SHOWN)
        .map(|t| {
            json!({
                "id": t.id, "status": t.status, "params": t.params, "metric": t.metric(),
                "epochs": t.rungs.last().map(|r| r.epochs), "choices": t.choices,
            })
        })
        .collect()
}

/// `GET /api/searches`: `{"searches": [{name, space, brief, state, counts, rung_epochs, best, test_met,
/// tests, leaderboard: [{id, status, params, metric, epochs, choices}]}]}`.
pub async fn list(State(state): State<Arc<AppState>>) -> Result<Json<Value>, ApiError> {
    blocking(move || {
        let searches: Vec<Value> = state
            .search_dirs()
            .into_iter()
            .filter_map(|(name, dir)| SearchRecord::load(&dir).ok().map(|r| (name, r)))
            .map(|(name, r)| {
                json!({
                    "name": name, "space": r.space, "brief": r.brief, "state": r.state, "counts": r.counts,
                    "rung_epochs": r.rung_epochs, "best": r.best,
                    "test_met": r.test.iter().filter(|t| t.brief_met).count(), "tests": r.test.len(),
                    "leaderboard": leaderboard(&r),
                })
            })
            .collect();
        Ok(Json(json!({ "searches": searches })))
    })
    .await
}
