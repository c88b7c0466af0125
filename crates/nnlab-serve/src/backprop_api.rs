//! The backprop lab over HTTP: `GET /api/backprop` (the table as JSON), `/api/backprop/sweep`,
//! `/api/backprop.csv` and `/api/backprop.xlsx` (the CLI's exporters). Parameters are the CLI's flags as
//! query parameters: `lr`, `iterations`, `inputs`, `targets`, `weights`, `biases`, `learn_biases`, `lrs`.
//! The parameters are checked on the async thread (cheap); the descent itself, up to 100,000 iterations,
//! runs on the blocking pool.

use std::collections::HashMap;

use axum::Json;
use axum::extract::Query;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use nnlab_app::backprop_input::{exactly, parse_numbers};
use nnlab_backprop::table::{BiasColumns, columns, csv_text, value};
use nnlab_backprop::{Net222, descend};
use nnlab_workbook::{ExportOptions, export_workbook};
use serde_json::{Value, json};

use super::{ApiError, blocking};

/// Most iterations one request may ask for (a table of 100,000 rows is already 30 MB of JSON).
pub const MAX_ITERATIONS: usize = 100_000;
/// Most learning rates in one sweep.
pub const MAX_RATES: usize = 20;

const KNOWN: [&str; 8] = [
    "lr",
    "iterations",
    "inputs",
    "targets",
    "weights",
    "biases",
    "learn_biases",
    "lrs",
];

/// The worksheet run a request describes.
struct Run {
    net: Net222,
    bias: BiasColumns,
    lr: f64,
    iterations: usize,
    lrs: Vec<f64>,
}

fn numbers<const N: usize>(field: &str, q: &HashMap<String, String>, default: [f64; N]) -> Result<[f64; N], ApiError> {
    let given = q
        .get(field)
        .map(|text| parse_numbers(text).map_err(|e| ApiError::bad(field, e)))
        .transpose()?;
    exactly(given.as_ref().map(|n| n.0.as_slice()), default).map_err(|e| ApiError::bad(field, e))
}

fn positive(field: &str, text: &str) -> Result<f64, ApiError> {
    match text.trim().parse::<f64>() {
        Ok(x) if x.is_finite() && x > 0.0 => Ok(x),
        _ => Err(ApiError::bad(field, format!("'{text}' is not a finite number > 0"))),
    }
}

impl Run {
    fn parse(q: &HashMap<String, String>, default_iterations: usize) -> Result<Self, ApiError> {
        if let Some(unknown) = q.keys().find(|k| !KNOWN.contains(&k.as_str())) {
            return Err(ApiError::bad(
                unknown,
                format!("unknown parameter (known: {})", KNOWN.join(", ")),
            ));
        }
        let d = Net222::default();
        let net = Net222::new(
            numbers("inputs", q, d.inputs)?,
            numbers("targets", q, d.targets)?,
            numbers("weights", q, d.weights)?,
        )
        .map_err(|e| ApiError::bad("weights", e.to_string()))?;
        let biases = q.get("biases").map(|_| numbers("biases", q, [0.0; 2])).transpose()?;
        let net = match biases {
            Some(b) => net.with_biases(b).map_err(|e| ApiError::bad("biases", e.to_string()))?,
            None => net,
        };
        let learn = match q.get("learn_biases").map(String::as_str) {
            None | Some("false") | Some("0") => false,
            Some("true") | Some("1") | Some("") => true,
            Some(other) => return Err(ApiError::bad("learn_biases", format!("'{other}': use true or false"))),
        };
        let lr = q.get("lr").map_or(Ok(1.0), |t| positive("lr", t))?;
        let iterations = match q.get("iterations") {
            None => default_iterations,
            Some(t) => match t.trim().parse::<usize>() {
                Ok(n) if (1..=MAX_ITERATIONS).contains(&n) => n,
                _ => {
                    return Err(ApiError::bad(
                        "iterations",
                        format!("'{t}' must be a whole number from 1 to {MAX_ITERATIONS}"),
                    ));
                }
            },
        };
        let lrs = match q.get("lrs") {
            None => vec![0.1, 0.2, 0.5, 0.8, 1.0, 2.0],
            Some(t) => {
                let v = parse_numbers(t).map_err(|e| ApiError::bad("lrs", e))?.0;
                if v.len() > MAX_RATES || v.iter().any(|x| *x <= 0.0) {
                    return Err(ApiError::bad(
                        "lrs",
                        format!("give 1 to {MAX_RATES} learning rates, each > 0"),
                    ));
                }
                v
            }
        };
        Ok(Self {
            net,
            bias: BiasColumns::for_run(biases.is_some(), learn),
            lr,
            iterations,
            lrs,
        })
    }

    fn learn(&self) -> bool {
        self.bias == BiasColumns::Learned
    }

    /// Column names and one row of values per iteration, exactly `nnlab backprop table`'s.
    fn table(&self) -> Result<(Vec<&'static str>, Vec<Vec<f64>>), ApiError> {
        let rows = descend(&self.net, self.lr, self.iterations, self.learn())
            .map_err(|e| ApiError::bad("lr", e.to_string()))?;
        let names = columns(self.bias);
        let values = rows
            .iter()
            .map(|r| names.iter().map(|n| value(r, n)).collect())
            .collect();
        Ok((names, values))
    }
}

/// `GET /api/backprop`: `{"columns": [...], "rows": [[...]], "lr", "iterations", "biases"}`. A table of
/// 100,000 rows is about 30 MB of JSON: it is built and serialised on the blocking pool.
pub async fn table(Query(q): Query<HashMap<String, String>>) -> Result<Response, ApiError> {
    let run = Run::parse(&q, 68)?;
    blocking(move || {
        let (columns, rows) = run.table()?;
        let biases = match run.bias {
            BiasColumns::None => "none",
            BiasColumns::Fixed => "fixed",
            BiasColumns::Learned => "learned",
        };
        let body = serde_json::to_vec(&json!({
            "columns": columns, "rows": rows, "lr": run.lr, "iterations": run.iterations, "biases": biases,
        }))
        .map_err(|e| ApiError::internal(format!("the table could not be written as JSON: {e}")))?;
        Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
    })
    .await
}

/// `GET /api/backprop/sweep`: `{"lrs": [...], "iterations": n, "curves": [[E_total per iteration]]}`.
pub async fn sweep(Query(q): Query<HashMap<String, String>>) -> Result<Json<Value>, ApiError> {
    let run = Run::parse(&q, 68)?;
    blocking(move || {
        let curves = nnlab_backprop::sweep(&run.net, &run.lrs, run.iterations, run.learn())
            .map_err(|e| ApiError::bad("lrs", e.to_string()))?;
        Ok(Json(
            json!({ "lrs": run.lrs, "iterations": run.iterations, "curves": curves }),
        ))
    })
    .await
}

pub(crate) fn download(content_type: &str, file: &str, body: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{file}\"")),
        ],
        body,
    )
        .into_response()
}

/// `GET /api/backprop.csv`: the table as `nnlab backprop table --format csv` prints it.
pub async fn csv(Query(q): Query<HashMap<String, String>>) -> Result<Response, ApiError> {
    let run = Run::parse(&q, 68)?;
    let text = blocking(move || {
        let (columns, rows) = run.table()?;
        Ok(csv_text(&columns, &rows))
    })
    .await?;
    Ok(download("text/csv; charset=utf-8", "backprop.csv", text.into_bytes()))
}

/// `GET /api/backprop.xlsx`: the live-formula workbook of `nnlab backprop export-xlsx`.
pub async fn xlsx(Query(q): Query<HashMap<String, String>>) -> Result<Response, ApiError> {
    let run = Run::parse(&q, 68)?;
    if run.iterations > 10_000 {
        return Err(ApiError::bad(
            "iterations",
            "a workbook holds at most 10000 iterations per sheet",
        ));
    }
    let options = ExportOptions {
        net: run.net,
        bias: run.bias,
        lr: run.lr,
        iterations: run.iterations,
        lrs: run.lrs.clone(),
        cached_values: true,
    };
    let bytes = blocking(move || {
        export_workbook(&options).map_err(|e| ApiError::internal(format!("the workbook could not be written: {e}")))
    })
    .await?;
    Ok(download(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "backprop.xlsx",
        bytes,
    ))
}
