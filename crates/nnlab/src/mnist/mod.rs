//! `nnlab mnist …`: the data, the CNN, training and benchmarks.

mod bench;
pub mod compare;
mod confusion;
mod curves;
mod data_args;
mod download;
mod eval;
mod export_pytorch;
mod grids;
mod info;
mod inspect;
mod inspect_figures;
mod interrupt;
mod lr_find;
mod model_args;
mod predict;
mod report;
mod search;
mod summary;
mod train;

use std::process::ExitCode;

use clap::Subcommand;

/// The MNIST commands.
#[derive(Debug, Subcommand)]
pub enum MnistCommand {
    /// Fetches the four MNIST files from public mirrors, verified by SHA-256 (valid files are skipped).
    Download(download::DownloadArgs),
    /// Counts, class histograms, pixel statistics, and PNG grids of samples and of augmentation.
    Info(info::InfoArgs),
    /// Any model's layers: output shapes, parameters, receptive field, jump, multiply-adds (--model).
    Summary(summary::SummaryArgs),
    /// Trains a model (the seed CNN and its recipe (docs/recipe.md) by default; ≥ 99.4 % test accuracy is the goal).
    Train(Box<train::TrainArgs>),
    /// Measures training and evaluation throughput (images/s) on random batches.
    Bench(bench::BenchArgs),
    /// Test loss and accuracy of a checkpoint, per-class accuracy, confusion matrix, mistakes gallery.
    Eval(eval::EvalArgs),
    /// Predicts the digit in your own images (files, directories or glob patterns).
    Predict(predict::PredictArgs),
    /// What a trained network sees in one image: feature maps, first-layer filters, saliency, Grad-CAM.
    Inspect(Box<inspect::InspectArgs>),
    /// The learning-rate range test: loss against an exponentially growing rate, and a suggested rate.
    LrFind(lr_find::LrFindArgs),
    /// A README-ready Markdown report of one run, with its figures (brief, model, log, curves, errors).
    Report(report::ReportArgs),
    /// Puts runs side by side: model, parameters, epochs, recipe, accuracies, gap, wall time, brief.
    Compare(compare::CompareArgs),
    /// Writes a model as a PyTorch module (class Net) whose state_dict matches nnlab's checkpoints.
    ExportPytorch(export_pytorch::ExportArgs),
    /// Finds the smallest model that meets a brief on every seed: successive halving over a search space
    /// on a validation split, on local workers or a Ray cluster.
    Search(Box<search::SearchArgs>),
}

/// Runs one MNIST command.
pub fn run(cmd: MnistCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        MnistCommand::Train(a) => return train::run(*a),
        MnistCommand::Search(a) => return search::run(*a),
        MnistCommand::Download(a) => download::run(a),
        MnistCommand::Info(a) => info::run(a),
        MnistCommand::Summary(a) => summary::run(a),
        MnistCommand::Bench(a) => bench::run(a),
        MnistCommand::Eval(a) => eval::run(a),
        MnistCommand::Predict(a) => predict::run(a),
        MnistCommand::Inspect(a) => inspect::run(*a),
        MnistCommand::ExportPytorch(a) => export_pytorch::run(a),
        MnistCommand::Compare(a) => compare::run(a),
        MnistCommand::Report(a) => report::run(a),
        MnistCommand::LrFind(a) => lr_find::run(a),
    }?;
    Ok(ExitCode::SUCCESS)
}
