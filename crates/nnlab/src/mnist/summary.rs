//! `nnlab mnist summary`: any model's layers — output shape, parameters, receptive field, jump and
//! multiply-adds — as a table or JSON.

use anyhow::Result;
use clap::Args;
use nnlab_mnist::{ModelSpec, Network};
use nnlab_model::summarize;

use super::model_args::ModelArg;

/// Arguments of `nnlab mnist summary`.
#[derive(Debug, Args)]
pub struct SummaryArgs {
    #[command(flatten)]
    model: ModelArg,
    /// Print {"params": N, "layers": [{"name", "module", "output", "params", "rf", "jump", "macs", "line"}]} instead.
    #[arg(long)]
    json: bool,
}

/// Thousands separated by commas.
pub fn grouped(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// Prints the table (or JSON).
pub fn run(args: SummaryArgs) -> Result<()> {
    let spec = args.model.load_or_seed()?;
    if args.json {
        println!("{}", nnlab_app::model_summary::summary_json(&spec));
        return Ok(());
    }
    print!("{}", table(&spec, &mut Network::new(&spec, 0)));
    Ok(())
}

/// The summary as text: a header naming the model, one row per statement, the totals and what runs fused.
pub fn table(spec: &ModelSpec, net: &mut Network) -> String {
    let rows = summarize(spec);
    let params: usize = rows.iter().map(|r| r.params).sum();
    let macs: usize = rows.iter().map(|r| r.macs).sum();
    let counted = net.parameter_count();
    let mut out = String::new();
    macro_rules! line {
        ($($arg:tt)*) => {{
            out += &format!($($arg)*);
            out.push('\n');
        }};
    }
    // A Sequential is shown as its layers joined by arrows.
    let shown: Vec<String> = spec
        .statements
        .iter()
        .map(|st| {
            spec.layers[st.layers.clone()]
                .iter()
                .map(|l| l.layer.describe())
                .collect::<Vec<_>>()
                .join(" → ")
        })
        .collect();
    let name_w = rows.iter().map(|r| r.name.chars().count()).max().unwrap_or(4).max(5);
    let module_w = shown.iter().map(|s| s.chars().count()).max().unwrap_or(6).max(6);
    let [c, h, w] = spec.input;
    line!("model '{}': input {c}×{h}×{w}", spec.name);
    let header = format!(
        "{:<name_w$}  {:<module_w$}  {:>9}  {:>7}  {:>3}  {:>4}  {:>10}",
        "layer", "module", "output", "params", "RF", "jump", "mult-adds"
    );
    line!("{header}");
    line!("{}", "-".repeat(header.chars().count()));
    for (r, module) in rows.iter().zip(&shown) {
        let [c, h, w] = r.output;
        let shape = if r.flat {
            c.to_string()
        } else {
            format!("{c}×{h}×{w}")
        };
        let pad = module_w - module.chars().count();
        line!(
            "{:<name_w$}  {module}{}  {shape:>9}  {:>7}  {:>3}  {:>4}  {:>10}",
            r.name,
            " ".repeat(pad),
            grouped(r.params),
            r.rf,
            r.jump,
            grouped(r.macs)
        );
    }
    line!("{}", "-".repeat(header.chars().count()));
    line!("total trainable parameters: {params} (counted in the built network: {counted})");
    line!(
        "multiply-adds per image: {} ({:.2} M)",
        grouped(macs),
        macs as f64 / 1e6
    );
    // The fused blocks, grouped by kind: "convblock1: fused Conv→ReLU→BN→Dropout" → kind, names.
    let mut kinds: Vec<(String, Vec<String>)> = Vec::new();
    for step in net.execution_plan() {
        if let Some((name, kind)) = step.split_once(": fused ") {
            match kinds.iter_mut().find(|(k, _)| k == kind) {
                Some((_, names)) => names.push(name.to_string()),
                None => kinds.push((kind.to_string(), vec![name.to_string()])),
            }
        }
    }
    for (kind, names) in kinds {
        line!("runs fused as {kind}: {}", names.join(", "));
    }
    out
}
