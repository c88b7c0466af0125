//! `nnlab mnist eval`: test loss and accuracy of a checkpoint, per-class accuracy, the confusion
//! matrix, and a gallery of the mistakes.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Result, bail};
use clap::Args;
use nnlab_app::inspect::inspect;
use nnlab_mnist::data::CLASSES;
use nnlab_mnist::training::{Checkpoint, Evaluation, evaluate};
use nnlab_mnist::{Network, Split};

use super::confusion::ConfusionPlot;
use super::data_args::DataArgs;
use super::grids::DigitGrid;
use crate::output::figure::save_figure;

/// Arguments of `nnlab mnist eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// The checkpoint to evaluate (last.safetensors or best.safetensors of a run).
    #[arg(long, value_name = "FILE")]
    checkpoint: PathBuf,
    #[command(flatten)]
    data: DataArgs,
    /// The model, for a checkpoint that does not describe itself (a PyTorch state_dict saved with
    /// safetensors.torch.save_file); nnlab's own checkpoints carry their model.
    #[arg(long, value_name = "NAME|FILE")]
    model: Option<String>,
    /// Draw the confusion matrix as a PNG.
    #[arg(long, value_name = "FILE.png")]
    confusion: Option<PathBuf>,
    /// Draw a gallery of misclassified test digits (true → predicted), each with its Grad-CAM heat map
    /// (where the evidence for the wrong answer lies) over it, as a PNG.
    #[arg(long, visible_alias = "gallery", value_name = "FILE.png")]
    misclassified: Option<PathBuf>,
    /// Engine threads.
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// Print the results as JSON.
    #[arg(long)]
    json: bool,
}

/// A model's results on the test set: the evaluation, the confusion matrix (rows: true label), the
/// accuracy per class and the indices of the misclassified images.
pub struct TestErrors {
    /// Loss, accuracy, predictions and probabilities.
    pub eval: Evaluation,
    /// Counts, indexed `[true label][predicted label]`.
    pub confusion: [[usize; CLASSES]; CLASSES],
    /// Accuracy of each class.
    pub per_class: Vec<f64>,
    /// Test images the model gets wrong.
    pub wrong: Vec<usize>,
}

/// Evaluates `model` on `test` and tallies its errors.
pub fn test_errors(model: &mut Network, test: &Arc<Split>) -> TestErrors {
    let eval = evaluate(model, test, 1000);
    let mut confusion = [[0usize; CLASSES]; CLASSES];
    for (&t, &p) in test.labels.iter().zip(&eval.predictions) {
        confusion[t as usize][p as usize] += 1;
    }
    let per_class = (0..CLASSES)
        .map(|c| confusion[c][c] as f64 / confusion[c].iter().sum::<usize>().max(1) as f64)
        .collect();
    let wrong = (0..test.len())
        .filter(|&i| eval.predictions[i] != test.labels[i])
        .collect();
    TestErrors {
        eval,
        confusion,
        per_class,
        wrong,
    }
}

/// Draws the confusion matrix.
pub fn save_confusion(path: &Path, matrix: [[usize; CLASSES]; CLASSES], accuracy: f64) -> Result<()> {
    save_figure(path, (760, 720), &ConfusionPlot { matrix, accuracy })
}

/// Draws the first 60 misclassified test digits, each with its true and predicted label.
/// The gallery of the first 60 mistakes, each digit under its Grad-CAM map for the predicted class.
pub fn save_gallery(path: &Path, model: &Network, test: &Split, eval: &Evaluation, wrong: &[usize]) -> Result<()> {
    let shown = &wrong[..wrong.len().min(60)];
    let mut cells = Vec::new();
    let mut overlays = Vec::new();
    for &i in shown {
        let img: Vec<f32> = test.image(i).iter().map(|&p| p as f32 / 255.0).collect();
        let p = eval.probabilities[i * CLASSES + eval.predictions[i] as usize];
        overlays.push(inspect(model, img.clone()).gradcam);
        cells.push((
            img,
            format!("{} → {} ({:.0}%)", test.labels[i], eval.predictions[i], p * 100.0),
        ));
    }
    let title = format!(
        "Misclassified test digits: true → predicted, Grad-CAM of the prediction (first {} of {})",
        shown.len(),
        wrong.len()
    );
    let grid = DigitGrid {
        title,
        cells,
        cols: 10,
        overlays,
    };
    save_figure(path, grid.size(), &grid)
}

/// Runs `nnlab mnist eval`.
pub fn run(args: EvalArgs) -> Result<()> {
    for (p, flag) in [
        (&args.confusion, "--confusion"),
        (&args.misclassified, "--misclassified"),
    ] {
        if let Some(p) = p
            && !p.extension().is_some_and(|e| e.eq_ignore_ascii_case("png"))
        {
            bail!("{flag} {}: the file name must end in .png", p.display());
        }
    }
    if !args.checkpoint.is_file() {
        bail!("--checkpoint {}: no such file", args.checkpoint.display());
    }
    let given = args.model.as_deref().map(super::model_args::load).transpose()?;
    let mut ck = Checkpoint::load(&args.checkpoint, given.as_ref())?;
    nnlab_app::threads::init_threads(args.threads)?;
    let test = Arc::new(args.data.load()?.test);
    let TestErrors {
        eval,
        confusion,
        per_class,
        wrong,
    } = test_errors(&mut ck.model, &test);
    if args.json {
        println!(
            "{}",
            serde_json::json!({
                "checkpoint": args.checkpoint.display().to_string(), "model": ck.model.spec().name,
                "epoch": ck.epoch, "test_loss": eval.loss,
                "test_accuracy": eval.accuracy, "per_class_accuracy": per_class, "confusion": confusion,
                "misclassified": wrong.len(),
            })
        );
    } else {
        println!(
            "checkpoint {} (model '{}', after epoch {})",
            args.checkpoint.display(),
            ck.model.spec().name,
            ck.epoch
        );
        println!(
            "test loss {:.4}, accuracy {:.2} % ({} of {} wrong)",
            eval.loss,
            eval.accuracy * 100.0,
            wrong.len(),
            test.len()
        );
        println!("per-class accuracy:");
        for (c, a) in per_class.iter().enumerate() {
            println!("  {c}: {:.2} %", a * 100.0);
        }
        println!("confusion matrix (rows: true label, columns: predicted):");
        println!("      {}", (0..CLASSES).map(|c| format!("{c:>6}")).collect::<String>());
        for (t, row) in confusion.iter().enumerate() {
            println!(
                "  {t:>2}  {}",
                row.iter().map(|n| format!("{n:>6}")).collect::<String>()
            );
        }
    }
    if let Some(path) = &args.confusion {
        save_confusion(path, confusion, eval.accuracy)?;
        eprintln!("wrote {}", path.display());
    }
    if let Some(path) = &args.misclassified {
        save_gallery(path, &ck.model, &test, &eval, &wrong)?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}
