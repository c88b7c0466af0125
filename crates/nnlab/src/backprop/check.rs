//! `nnlab backprop check`: gradients three ways, side by side.

use anyhow::{Result, bail};
use clap::Args;
use nnlab_backprop::GradientComparison;
use nnlab_backprop::check::FINITE_DIFFERENCE_STEP;
use nnlab_backprop::table::BiasColumns;

use super::net_args::{NetArgs, Network};

/// Arguments of `nnlab backprop check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    net: NetArgs,
    /// Largest difference accepted between the derivations (exit 1 above it).
    #[arg(long, default_value_t = 1e-7)]
    tolerance: f64,
}

/// Runs `nnlab backprop check`.
pub fn run(args: CheckArgs) -> Result<()> {
    let (c, what) = match args.net.network()? {
        Network::Worksheet(ws) if ws.bias == BiasColumns::None => (
            GradientComparison::for_net222(&ws.net, false),
            "2-2-2 worksheet network; closed form = the worksheet's chain-rule formulas".to_string(),
        ),
        Network::Worksheet(ws) => (
            GradientComparison::for_net222(&ws.net, true),
            format!(
                "2-2-2 worksheet network with biases b1 = {}, b2 = {}; closed form = the worksheet's chain-rule formulas, ∂E/∂b = Σδ of the layer",
                ws.net.biases[0], ws.net.biases[1]
            ),
        ),
        Network::Layers { mlp, examples, .. } => {
            let summed = match examples.len() {
                1 => String::new(),
                n => format!(", E_total summed over {n} examples"),
            };
            (
                GradientComparison::for_mlp(&mlp, &examples),
                format!(
                    "layers {:?}, {:?}{summed}; closed form = the layer-wise delta rule",
                    mlp.layers(),
                    mlp.activation()
                ),
            )
        }
    };
    let noun = if c.names.iter().any(|n| n.starts_with('b')) {
        "p"
    } else {
        "w"
    };
    println!("∂E_total/∂{noun} three ways ({what}), E_total = {}", c.loss);
    let width = c.names.iter().map(|n| n.len()).max().unwrap_or(0).max(6);
    println!(
        "{:<width$} {:>24} {:>24} {:>24}",
        if noun == "p" { "param" } else { "weight" },
        "closed form",
        "autograd",
        format!("finite diff (h={FINITE_DIFFERENCE_STEP:e})")
    );
    for k in 0..c.closed_form.len() {
        println!(
            "{:<width$} {:>24e} {:>24e} {:>24e}",
            c.names[k], c.closed_form[k], c.autograd[k], c.finite_difference[k]
        );
    }
    let [ca, cf, af] = c.max_differences();
    println!("max |closed form − autograd|          = {ca:e}");
    println!("max |closed form − finite difference| = {cf:e}");
    println!("max |autograd − finite difference|    = {af:e}");
    if ca.max(cf).max(af) > args.tolerance {
        bail!("the derivations disagree by more than --tolerance {}", args.tolerance);
    }
    println!("all three agree within {:e}", args.tolerance);
    Ok(())
}
