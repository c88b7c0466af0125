//! `GET /api/boundary?data=…&features=…&hidden=…&epochs=…`: a TF Playground experiment trained from its
//! seed to `epochs` on the server's engine (the code of `nnlab backprop boundary`, so the same query gives
//! the CLI's numbers) — the results plus the output over the plane, every neuron's picture and the points.
//! Stateless: the page asks again with more epochs, and a URL re-opens the same network exactly.

use std::collections::HashMap;

use axum::Json;
use axum::extract::Query;
use axum::response::Response;
use nnlab_app::boundary::{BoundaryRequest, pytorch_module, results_json};
use nnlab_workbook::NetworkSheet;
use serde_json::{Value, json};

use super::backprop_api::download;
use super::{ApiError, blocking};

/// Most training points one workbook replays.
pub const MAX_WORKBOOK_STEPS: usize = 2_000;

/// Most epochs one web request trains (the CLI allows more).
pub const MAX_WEB_EPOCHS: usize = 10_000;
/// The boundary picture's resolution.
const OUTPUT_RES: usize = 50;
/// Each neuron's picture's resolution.
const NEURON_RES: usize = 20;

/// Splits "field: message" into a 400 naming the field.
fn bad(e: impl std::fmt::Display) -> ApiError {
    ApiError::bad_prefixed(&e.to_string(), "query")
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

/// `GET /api/boundary.xlsx?…&steps=N` (the setup of `/api/boundary`; `steps` default 30): the first N
/// training points of the network from its initial weights as a live-formula workbook (at most 100
/// weights; no L1), each formula with the engine's value cached.
pub async fn xlsx(Query(mut query): Query<HashMap<String, String>>) -> Result<Response, ApiError> {
    let steps = match query.remove("steps") {
        None => 30,
        Some(t) => t
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_WORKBOOK_STEPS).contains(n))
            .ok_or_else(|| {
                ApiError::bad(
                    "steps",
                    format!("'{t}' must be a whole number from 1 to {MAX_WORKBOOK_STEPS}"),
                )
            })?,
    };
    query.remove("epochs");
    let request = BoundaryRequest::from_query(&query).map_err(bad)?;
    let bytes = blocking(move || {
        let (experiment, _) = request.experiment(false).map_err(bad)?;
        let sheet = NetworkSheet::build(&experiment, steps).map_err(|e| ApiError::bad("hidden", e.to_string()))?;
        sheet
            .to_xlsx(true)
            .map_err(|e| ApiError::internal(format!("the workbook could not be written: {e}")))
    })
    .await?;
    Ok(download(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "network.xlsx",
        bytes,
    ))
}

/// `GET /api/boundary.py?…` (the setup and `epochs` of `/api/boundary`): the trained network as a PyTorch
/// module file (`nnlab backprop boundary --pytorch`'s).
pub async fn pytorch(Query(query): Query<HashMap<String, String>>) -> Result<Response, ApiError> {
    let request = BoundaryRequest::from_query(&query).map_err(bad)?;
    if request.epochs > MAX_WEB_EPOCHS {
        return Err(ApiError::bad(
            "epochs",
            format!("{} is over the web's {MAX_WEB_EPOCHS}", request.epochs),
        ));
    }
    let text = blocking(move || {
        let (mut experiment, epochs) = request.experiment(false).map_err(bad)?;
        experiment.run(epochs);
        Ok(pytorch_module(&experiment))
    })
    .await?;
    Ok(download("text/x-python; charset=utf-8", "net.py", text.into_bytes()))
}
