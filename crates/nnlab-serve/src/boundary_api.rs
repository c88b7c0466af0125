//! `GET /api/boundary?data=…&features=…&hidden=…&epochs=…`: a TF Playground experiment trained from its
//! seed to `epochs` on the server's engine (the code of `nnlab backprop boundary`, so the same query gives
//! the CLI's numbers) — the results plus the output over the plane, every neuron's picture and the points.
//! Stateless: the page asks again with more epochs, and a URL re-opens the same network exactly.

use std::collections::HashMap;

use axum::Json;
use axum::extract::Query;
use nnlab_app::boundary::{BoundaryRequest, results_json};
use serde_json::{Value, json};

use super::{ApiError, blocking};

/// Most epochs one web request trains (the CLI allows more).
pub const MAX_WEB_EPOCHS: usize = 10_000;
/// The boundary picture's resolution.
const OUTPUT_RES: usize = 50;
/// Each neuron's picture's resolution.
const NEURON_RES: usize = 20;

/// Splits "field: message" into a 400 naming the field.
fn bad(e: impl std::fmt::Display) -> ApiError {
    let text = e.to_string();
    let (field, message) = text.split_once(": ").unwrap_or(("query", &text));
    ApiError::bad(field, message)
}

/// `GET /api/boundary`: `results` of `backprop boundary`'s metrics.json plus `output` (50×50, row by row
/// from the top, x1, x2 ∈ [−6, 6]), `neurons` (per layer, per unit, 20×20), `train` and `test`
/// ([x1, x2, label] each).
pub async fn boundary(Query(query): Query<HashMap<String, String>>) -> Result<Json<Value>, ApiError> {
    let request = BoundaryRequest::from_query(&query).map_err(bad)?;
    if request.epochs > MAX_WEB_EPOCHS {
        return Err(ApiError::bad(
            "epochs",
            format!(
                "{} is over the web's {MAX_WEB_EPOCHS} (the CLI trains more)",
                request.epochs
            ),
        ));
    }
    blocking(move || {
        let (mut experiment, epochs) = request.experiment(false).map_err(bad)?;
        experiment.run(epochs);
        let points = |pts: &[nnlab_backprop::playground::Point]| -> Vec<[f64; 3]> {
            pts.iter().map(|p| [p.x, p.y, p.label]).collect()
        };
        let mut doc = results_json(&experiment);
        doc["output"] = json!(experiment.output_grid(OUTPUT_RES));
        doc["neurons"] = json!(experiment.neuron_grids(NEURON_RES));
        doc["train"] = json!(points(&experiment.train));
        doc["test"] = json!(points(&experiment.test));
        Ok(Json(doc))
    })
    .await
}
