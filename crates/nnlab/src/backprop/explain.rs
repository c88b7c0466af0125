//! `nnlab backprop explain`: iteration 1 derived step by step.

use anyhow::Result;
use clap::Args;
use nnlab_backprop::WEIGHT_NAMES;
use nnlab_backprop::explain::{Step, derive};

use super::net_args::{NetArgs, parse_lr};

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

/// Runs `nnlab backprop explain`.
pub fn run(args: ExplainArgs) -> Result<()> {
    let net = args.net.net222()?;
    let d = derive(&net);
    println!("Iteration 1 of the 2-2-2 sigmoid network, σ(x) = 1/(1+e^-x), no biases");
    println!(
        "inputs i1 = {}, i2 = {}; targets t1 = {}, t2 = {}; weights {}",
        net.inputs[0],
        net.inputs[1],
        net.targets[0],
        net.targets[1],
        WEIGHT_NAMES
            .iter()
            .zip(net.weights)
            .map(|(n, w)| format!("{n} = {w}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    print_steps("1. Forward pass", &d.forward);
    print_steps("2. Loss", &d.loss);
    print_steps(
        "3. Backward pass: the chain rule, output layer first (σ'(x) = σ(x)(1 − σ(x)))",
        &d.gradients,
    );
    println!(
        "\n4. Update, all eight at once with the gradients above (η = {}): wk ← wk − η·∂E/∂wk",
        args.lr
    );
    let g = net.gradients(&net.forward());
    for (k, name) in WEIGHT_NAMES.iter().enumerate() {
        let w = net.weights[k];
        println!("  {name} = {w} − {}·{} = {}", args.lr, g[k], w - args.lr * g[k]);
    }
    Ok(())
}
