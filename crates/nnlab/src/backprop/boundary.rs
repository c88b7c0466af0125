//! `nnlab backprop boundary`: any small network on TensorFlow Playground's data sets (circle, xor, gauss,
//! spiral, or a CSV of x1,x2,label), trained exactly in f64 from a seed; writes boundary.png, neurons.png,
//! loss.png and metrics.json.

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::Args;
use nnlab_app::boundary::{BoundaryRequest, pytorch_module, results_json};
use nnlab_workbook::NetworkSheet;

use super::boundary_figures::{Boundary, Loss, Neurons};
use crate::output::figure::save_figure;

/// Arguments of `nnlab backprop boundary` (TF Playground's defaults).
#[derive(Debug, Args)]
pub struct BoundaryArgs {
    /// circle, xor, gauss, spiral, or a .csv file of x1,x2,label (label 1, and 0 or -1).
    #[arg(long, default_value = "circle", value_name = "NAME|FILE.csv")]
    data: String,
    /// Input features, from x1 x2 x1sq x2sq x1x2 sinx1 sinx2.
    #[arg(long, default_value = "x1,x2", value_name = "LIST")]
    features: String,
    /// Hidden layer sizes, e.g. 4,2 ("" or none: no hidden layer; the output is one tanh unit).
    #[arg(long, default_value = "4,2", value_name = "SIZES")]
    hidden: String,
    /// The hidden units' activation: tanh, relu, sigmoid or linear.
    #[arg(long, default_value = "tanh")]
    activation: String,
    /// Learning rate.
    #[arg(long, default_value_t = 0.03)]
    lr: f64,
    /// Points per weight update.
    #[arg(long, default_value_t = 10)]
    batch_size: usize,
    /// Epochs (passes over the training points).
    #[arg(long, default_value_t = 500)]
    epochs: usize,
    /// Noise in percent, 0–50.
    #[arg(long, default_value_t = 0.0)]
    noise: f64,
    /// Seed of the data and the initial weights.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Points to generate.
    #[arg(long, default_value_t = 500)]
    points: usize,
    /// Percentage of the points used for training (the rest test).
    #[arg(long, default_value_t = 50)]
    train_percent: usize,
    /// none, l1 or l2.
    #[arg(long, default_value = "none")]
    regularization: String,
    /// Regularisation rate.
    #[arg(long, default_value_t = 0.0)]
    reg_rate: f64,
    /// Also write the network's first training steps from its initial weights as a workbook with live
    /// formulas (at most 100 weights; no L1).
    #[arg(long, value_name = "FILE.xlsx")]
    xlsx: Option<PathBuf>,
    /// Training points (rows) in that workbook.
    #[arg(long, default_value_t = 30, value_name = "N")]
    xlsx_steps: usize,
    /// Also write the trained network as a PyTorch module file (class Net, load_trained()).
    #[arg(long, value_name = "FILE.py")]
    pytorch: Option<PathBuf>,
    /// Folder for boundary.png, neurons.png, loss.png and metrics.json.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

/// Runs `nnlab backprop boundary`.
pub fn run(args: BoundaryArgs) -> Result<()> {
    let request = BoundaryRequest {
        data: args.data,
        features: args.features,
        hidden: args.hidden,
        activation: args.activation,
        lr: args.lr,
        batch_size: args.batch_size,
        epochs: args.epochs,
        noise: args.noise,
        seed: args.seed,
        points: args.points,
        train_percent: args.train_percent,
        regularization: args.regularization,
        reg_rate: args.reg_rate,
    };
    let (mut experiment, epochs) = request
        .experiment(true)
        .map_err(|e| anyhow::anyhow!("--{}", e.to_string().replacen('_', "-", 1)))?;
    if args.out.exists() && !args.out.is_dir() {
        bail!("--out {}: exists and is not a folder", args.out.display());
    }
    if let Some(p) = &args.pytorch
        && p.extension().is_none_or(|e| e != "py")
    {
        bail!("--pytorch {}: the file name must end in .py", p.display());
    }
    let workbook = match &args.xlsx {
        Some(path) => {
            if !path.extension().is_some_and(|e| e.eq_ignore_ascii_case("xlsx")) {
                bail!("--xlsx {}: the file name must end in .xlsx", path.display());
            }
            if !(1..=100_000).contains(&args.xlsx_steps) {
                bail!("--xlsx-steps {}: must be 1 to 100000", args.xlsx_steps);
            }
            let sheet =
                NetworkSheet::build(&experiment, args.xlsx_steps).map_err(|e| anyhow::anyhow!("--xlsx: {e}"))?;
            Some((path, sheet.to_xlsx(true)?))
        }
        None => None,
    };
    experiment.run(epochs);
    std::fs::create_dir_all(&args.out).map_err(|e| anyhow::anyhow!("--out {}: {e}", args.out.display()))?;
    let boundary = Boundary(&experiment);
    save_figure(&args.out.join("boundary.png"), boundary.size(), &boundary)?;
    let neurons = Neurons(&experiment);
    save_figure(&args.out.join("neurons.png"), neurons.size(), &neurons)?;
    save_figure(&args.out.join("loss.png"), (800, 420), &Loss(&experiment))?;
    let doc = results_json(&experiment);
    nnlab_app::atomic::write_atomic(&args.out.join("metrics.json"), format!("{doc:#}\n").as_bytes())?;
    let last = experiment.history.last().expect("epoch 0 is recorded");
    println!(
        "epoch {}: train loss {:.4}, test loss {:.4}, train accuracy {:.1} %, test accuracy {:.1} % ({} weights)",
        last.epoch,
        last.train_loss,
        last.test_loss,
        last.train_accuracy * 100.0,
        last.test_accuracy * 100.0,
        experiment.net.weight_count()
    );
    println!(
        "wrote {}/{{boundary.png, neurons.png, loss.png, metrics.json}}",
        args.out.display()
    );
    if let Some(path) = &args.pytorch {
        nnlab_app::atomic::write_atomic(path, pytorch_module(&experiment).as_bytes())?;
        println!(
            "wrote {} (class Net; load_trained() gives the trained network)",
            path.display()
        );
    }
    if let Some((path, bytes)) = workbook {
        nnlab_app::atomic::write_atomic(path, &bytes)?;
        println!(
            "wrote {} (the first {} training steps, live formulas)",
            path.display(),
            args.xlsx_steps
        );
    }
    Ok(())
}
