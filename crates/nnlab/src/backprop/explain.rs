//! `nnlab backprop explain`: iteration 1 derived step by step.

use anyhow::Result;
use clap::Args;
use nnlab_backprop::explain::{Step, derive};
use nnlab_backprop::table::BiasColumns;
use nnlab_backprop::{BIAS_NAMES, Example, Mlp, WEIGHT_NAMES};

use super::net_args::{NetArgs, Network, Worksheet, parse_lr};

/// Arguments of `nnlab backprop explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    #[command(flatten)]
    net: NetArgs,
    /// Learning rate η used in the update shown at the end.
    #[arg(long, default_value = "1", allow_hyphen_values = true, value_parser = parse_lr)]
    lr: f64,
}

fn print_steps(title: &str, steps: &[Step]) {
    println!("\n{title}");
    let width = steps.iter().map(|s| s.symbol.chars().count()).max().unwrap_or(0);
    for s in steps {
        let pad = width - s.symbol.chars().count();
        println!("  {}{} = {}", s.symbol, " ".repeat(pad), s.formula);
        println!("  {} = {} = {}", " ".repeat(width), s.substituted, s.value);
    }
}

fn list(names: &[&str], values: &[f64]) -> String {
    names
        .iter()
        .zip(values)
        .map(|(n, v)| format!("{n} = {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The worksheet's iteration 1, with its biases when it has them.
fn explain_worksheet(ws: &Worksheet, lr: f64) {
    let net = &ws.net;
    let with_biases = ws.bias != BiasColumns::None;
    let d = derive(net, with_biases);
    if with_biases {
        println!(
            "Iteration 1 of the 2-2-2 sigmoid network, σ(x) = 1/(1+e^-x), with biases b1 (shared by h1, h2) and b2 (shared by o1, o2)"
        );
    } else {
        println!("Iteration 1 of the 2-2-2 sigmoid network, σ(x) = 1/(1+e^-x), no biases");
    }
    let biases = if with_biases {
        format!("; biases {}", list(&BIAS_NAMES, &net.biases))
    } else {
        String::new()
    };
    println!(
        "inputs i1 = {}, i2 = {}; targets t1 = {}, t2 = {}; weights {}{biases}",
        net.inputs[0],
        net.inputs[1],
        net.targets[0],
        net.targets[1],
        list(&WEIGHT_NAMES, &net.weights)
    );
    print_steps("1. Forward pass", &d.forward);
    print_steps("2. Loss", &d.loss);
    print_steps(
        "3. Backward pass: the chain rule, output layer first (σ'(x) = σ(x)(1 − σ(x)))",
        &d.gradients,
    );
    let f = net.forward();
    let g = net.gradients(&f);
    match ws.bias {
        BiasColumns::Learned => println!(
            "\n4. Update, all eight weights and both biases at once with the gradients above (η = {lr}): p ← p − η·∂E/∂p"
        ),
        BiasColumns::Fixed => println!(
            "\n4. Update, all eight at once with the gradients above (η = {lr}): wk ← wk − η·∂E/∂wk; the biases stay fixed (--learn-biases updates them)"
        ),
        BiasColumns::None => {
            println!("\n4. Update, all eight at once with the gradients above (η = {lr}): wk ← wk − η·∂E/∂wk")
        }
    }
    for (k, name) in WEIGHT_NAMES.iter().enumerate() {
        let w = net.weights[k];
        println!("  {name} = {w} − {lr}·{} = {}", g[k], w - lr * g[k]);
    }
    if ws.learn_biases() {
        let gb = net.bias_gradients(&f);
        for (k, name) in BIAS_NAMES.iter().enumerate() {
            let b = net.biases[k];
            println!("  {name} = {b} − {lr}·{} = {}", gb[k], b - lr * gb[k]);
        }
    }
}

fn vector(v: &[f64]) -> String {
    let parts: Vec<String> = v.iter().map(|x| format!("{x}")).collect();
    format!("({})", parts.join(", "))
}

/// Iteration 1 of a general network over its examples: each example's forward pass, loss and gradients,
/// then their sum, the full-batch gradient the update uses.
fn explain_examples(mlp: &Mlp, examples: &[Example], learn_biases: bool, lr: f64) {
    let shape: Vec<String> = mlp.layers().iter().map(|l| l.to_string()).collect();
    println!(
        "Iteration 1 of the {} {} network on {} example{} (full batch): E_total = Σ over the examples of Σ½(t − a)²",
        shape.join("-"),
        format!("{:?}", mlp.activation()).to_lowercase(),
        examples.len(),
        if examples.len() == 1 { "" } else { "s" }
    );
    let names = mlp.parameter_names();
    let params = mlp.parameters();
    println!(
        "parameters {}",
        names
            .iter()
            .zip(&params)
            .map(|(n, v)| format!("{n} = {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!("\n1. Forward pass and loss, one example at a time");
    let mut losses = Vec::with_capacity(examples.len());
    for (k, e) in examples.iter().enumerate() {
        let out = mlp.outputs(&e.inputs);
        let loss = mlp.loss(std::slice::from_ref(e), &params);
        losses.push(loss);
        println!(
            "  example {}: x = {}, t = {} → a_out = {}, E({}) = Σ½(t − a)² = {loss}",
            k + 1,
            vector(&e.inputs),
            vector(&e.targets),
            vector(&out),
            k + 1
        );
    }
    let total = mlp.loss(examples, &params);
    println!(
        "  E_total = {} = {total}",
        (1..=examples.len())
            .map(|k| format!("E({k})"))
            .collect::<Vec<_>>()
            .join(" + ")
    );
    println!("\n2. Gradients: each example's own by the chain rule (delta rule), then their sum");
    let per_example: Vec<Vec<f64>> = examples.iter().map(|e| mlp.example_gradients(e)).collect();
    let summed = mlp.backprop_gradients(examples);
    let width = names.iter().map(|n| n.len()).max().unwrap_or(0).max(5) + 4;
    let mut header = format!("  {:<width$}", "∂E/∂p");
    for k in 1..=examples.len() {
        header.push_str(&format!(" {:>15}", format!("example {k}")));
    }
    header.push_str(&format!(" {:>22}", "sum = ∂E_total/∂p"));
    println!("{header}");
    for (p, name) in names.iter().enumerate() {
        let mut line = format!("  {:<width$}", format!("∂E/∂{name}"));
        for g in &per_example {
            // `+ 0.0` shows a gradient of −0 (an input of 0 times a negative δ) as 0.
            line.push_str(&format!(" {:>15.9}", g[p] + 0.0));
        }
        line.push_str(&format!(" {:>22.12}", summed[p]));
        println!("{line}");
    }
    let n_w = mlp.weights().len();
    let updated = if learn_biases { names.len() } else { n_w };
    println!(
        "\n3. Update with the summed gradients (η = {lr}): p ← p − η·∂E_total/∂p{}",
        if !learn_biases && updated < names.len() {
            "; the biases stay fixed (--learn-biases updates them)"
        } else {
            ""
        }
    );
    for p in 0..updated {
        println!(
            "  {} = {} − {lr}·{} = {}",
            names[p],
            params[p],
            summed[p],
            params[p] - lr * summed[p]
        );
    }
}

/// Runs `nnlab backprop explain`.
pub fn run(args: ExplainArgs) -> Result<()> {
    match args.net.network()? {
        Network::Worksheet(ws) => explain_worksheet(&ws, args.lr),
        Network::Layers {
            mlp,
            examples,
            learn_biases,
        } => explain_examples(&mlp, &examples, learn_biases, args.lr),
    }
    Ok(())
}
