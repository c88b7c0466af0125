//! `nnlab backprop sweep`: the learning-rate study.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use nnlab_backprop::sweep;

use super::net_args::{NetArgs, Network, Numbers, parse_iterations, parse_lrs};
use crate::output::figure::{check_image_path, save_figure};
use crate::output::write_atomic;

mod plot;

/// Arguments of `nnlab backprop sweep`.
#[derive(Debug, Args)]
pub struct SweepArgs {
    #[command(flatten)]
    net: NetArgs,
    /// Learning rates to compare, in the order the CSV columns should have.
    #[arg(long, default_value = "0.1,0.2,0.5,0.8,1,2", allow_hyphen_values = true, value_parser = parse_lrs)]
    lrs: Numbers,
    /// Iterations per rate.
    #[arg(long, default_value = "68", allow_hyphen_values = true, value_parser = parse_iterations)]
    iterations: usize,
    /// Write the CSV (`iter,lr=…,…`) to this file instead of standard output.
    #[arg(long, value_name = "FILE")]
    csv: Option<PathBuf>,
    /// Draw E_total against iteration, one labelled line per rate (.png or .svg).
    #[arg(long, value_name = "FILE.png|.svg")]
    plot: Option<PathBuf>,
}

/// Runs `nnlab backprop sweep`.
pub fn run(args: SweepArgs) -> Result<()> {
    if let Some(p) = &args.plot {
        check_image_path(p, "--plot")?;
    }
    let lrs = &args.lrs.0;
    let network = args.net.network()?;
    let title = match &network {
        Network::Worksheet(_) => "2-2-2 network".to_string(),
        Network::Layers { mlp, examples, .. } => {
            let shape: Vec<String> = mlp.layers().iter().map(|l| l.to_string()).collect();
            let examples = match examples.len() {
                1 => String::new(),
                n => format!(", {n} examples"),
            };
            format!(
                "{} {} network{examples}",
                shape.join("-"),
                format!("{:?}", mlp.activation()).to_lowercase()
            )
        }
    };
    let curves = match network {
        Network::Worksheet(ws) => sweep(&ws.net, lrs, args.iterations, ws.learn_biases())?,
        Network::Layers {
            mlp,
            examples,
            learn_biases,
        } => lrs
            .iter()
            .map(|&lr| {
                Ok(mlp
                    .descend(&examples, lr, args.iterations, learn_biases)?
                    .iter()
                    .map(|r| r.e_total)
                    .collect())
            })
            .collect::<Result<Vec<Vec<f64>>>>()?,
    };
    let mut csv = format!(
        "iter,{}\n",
        lrs.iter().map(|lr| format!("lr={lr}")).collect::<Vec<_>>().join(",")
    );
    for i in 0..args.iterations {
        let values: Vec<String> = curves.iter().map(|c| c[i].to_string()).collect();
        csv.push_str(&format!("{},{}\n", i + 1, values.join(",")));
    }
    match &args.csv {
        Some(path) => {
            write_atomic(path, csv.as_bytes())?;
            println!("wrote {}", path.display());
        }
        None if args.plot.is_none() => print!("{csv}"),
        None => {}
    }
    if let Some(path) = &args.plot {
        save_figure(
            path,
            (1000, 640),
            &plot::SweepPlot {
                lrs,
                curves: &curves,
                network: title,
            },
        )?;
        println!("wrote {}", path.display());
    }
    if args.csv.is_some() || args.plot.is_some() {
        for (lr, c) in lrs.iter().zip(&curves) {
            println!(
                "η = {lr:<5} E_total: {:.6} → {:.6e} after {} iterations",
                c[0],
                c[c.len() - 1],
                c.len()
            );
        }
    }
    Ok(())
}
