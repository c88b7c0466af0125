//! `nnlab backprop check`: gradients three ways, side by side.

use anyhow::{Result, bail};
use clap::Args;
use nnlab_backprop::GradientComparison;
use nnlab_backprop::check::FINITE_DIFFERENCE_STEP;

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
        Network::Worksheet(net) => (
            GradientComparison::for_net222(&net),
            "2-2-2 worksheet network; closed form = the worksheet's chain-rule formulas".to_string(),
        ),
        Network::Layers { mlp, inputs, targets } => (
            GradientComparison::for_mlp(&mlp, &inputs, &targets),
            format!(
                "layers {:?}, {:?}; closed form = the layer-wise delta rule",
                mlp.layers(),
                mlp.activation()
            ),
        ),
    };
    println!("∂E_total/∂w three ways ({what}), E_total = {}", c.loss);
    println!(
        "{:<6} {:>24} {:>24} {:>24}",
        "weight",
        "closed form",
        "autograd",
        format!("finite diff (h={FINITE_DIFFERENCE_STEP:e})")
    );
    for k in 0..c.closed_form.len() {
        println!(
            "{:<6} {:>24e} {:>24e} {:>24e}",
            format!("w{}", k + 1),
            c.closed_form[k],
            c.autograd[k],
            c.finite_difference[k]
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
