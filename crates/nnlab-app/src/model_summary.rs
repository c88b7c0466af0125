//! A model's summary as one JSON document, written once for `nnlab mnist summary --json` and the
//! designer's `POST /api/summary`: parameters, multiply-adds, what runs fused, and per statement its
//! module, output shape, parameters, receptive field, jump, multiply-adds and line in the file.

use nnlab_mnist::{ModelSpec, Network};
use nnlab_model::summarize;
use serde_json::{Value, json};

/// `{"model", "input", "params", "macs", "execution", "layers": [{"name", "module", "output", "params",
/// "rf", "jump", "macs", "line"}]}`.
pub fn summary_json(spec: &ModelSpec) -> Value {
    let rows = summarize(spec);
    let params: usize = rows.iter().map(|r| r.params).sum();
    let macs: usize = rows.iter().map(|r| r.macs).sum();
    let net = Network::new(spec, 0);
    let layers: Vec<Value> = rows
        .iter()
        .zip(&spec.statements)
        .map(|(r, st)| {
            json!({
                "name": r.name, "module": r.module, "output": r.output, "params": r.params,
                "rf": r.rf, "jump": r.jump, "macs": r.macs, "line": st.line,
            })
        })
        .collect();
    json!({
        "model": spec.name, "input": spec.input, "params": params, "macs": macs,
        "execution": net.execution_plan(), "layers": layers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_counts_what_the_network_counts() {
        let spec = nnlab_model::shipped("small8k").unwrap();
        let doc = summary_json(&spec);
        assert_eq!(doc["params"], Network::new(&spec, 0).parameter_count());
        let layers = doc["layers"].as_array().unwrap();
        assert_eq!(layers.len(), spec.statements.len());
        assert_eq!(layers[0]["name"], "block1");
        assert!(layers[0]["line"].as_u64().unwrap() > 1, "the comment lines come first");
    }
}
