//! `nnlab mnist inspect`: what a trained network sees in one image — its feature maps, first-layer
//! filters, saliency and Grad-CAM — as PNG figures in `--out` and, with `--json`, as numbers.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use clap::Args;
use nnlab_app::classify::prepare_file;
use nnlab_app::inspect::{Inspection, inspect_at};
use nnlab_mnist::training::Checkpoint;

use super::data_args::DataArgs;
use super::inspect_figures::{FilterGrid, MapGrid, Overview};
use crate::output::figure::save_figure;

/// Arguments of `nnlab mnist inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The checkpoint to look inside (a run's best.safetensors or last.safetensors).
    #[arg(long, value_name = "FILE")]
    checkpoint: PathBuf,
    /// An image of a digit (PNG, JPEG, BMP, GIF, WebP; any size, either polarity), prepared as
    /// `predict` prepares it.
    #[arg(
        value_name = "IMAGE",
        required_unless_present = "test_index",
        conflicts_with = "test_index"
    )]
    image: Option<PathBuf>,
    /// Inspect test image N (0–9,999) of the MNIST test set instead of a file.
    #[arg(long, value_name = "N")]
    test_index: Option<usize>,
    /// The model, for a checkpoint that does not describe itself (a PyTorch state_dict).
    #[arg(long, value_name = "NAME|FILE")]
    model: Option<String>,
    /// Folder for the figures (created if missing): overview.png, filters.png, one maps-*.png per
    /// statement with a spatial output, and inspect.json.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// The statement Grad-CAM explains (default: the last one with a spatial output).
    #[arg(long, value_name = "NAME")]
    gradcam_layer: Option<String>,
    /// Print the numbers as JSON (probabilities, layers, saliency and gradcam as 28×28 arrays).
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    data: DataArgs,
    /// Refuse images wider or taller than this many pixels.
    #[arg(long, value_name = "PIXELS", default_value_t = nnlab_app::image_input::DEFAULT_MAX_SIDE)]
    max_image_side: u32,
}

/// The 28×28 input (1 = ink) and, for a test image, its label.
fn input(args: &InspectArgs) -> Result<(Vec<f32>, Option<u8>)> {
    if let Some(image) = &args.image {
        let pixels =
            prepare_file(image, args.max_image_side).map_err(|e| anyhow::anyhow!("{}: {e}", image.display()))?;
        return Ok((pixels, None));
    }
    let index = args.test_index.expect("clap requires an image or --test-index");
    let test = args.data.load()?.test;
    if index >= test.len() {
        bail!(
            "--test-index {index}: the test set has {} images (0–{})",
            test.len(),
            test.len() - 1
        );
    }
    let pixels = test.image(index).iter().map(|&p| p as f32 / 255.0).collect();
    Ok((pixels, Some(test.labels[index])))
}

/// A file-name-safe form of a statement name.
fn file_part(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Writes every figure and inspect.json into `out`; returns the files written.
fn write_figures(report: &Inspection, out: &Path, doc: &serde_json::Value) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(out).map_err(|e| anyhow::anyhow!("--out {}: cannot create it: {e}", out.display()))?;
    let mut written = Vec::new();
    let overview = Overview(report);
    let path = out.join("overview.png");
    save_figure(&path, overview.size(), &overview)?;
    written.push(path);
    if let Some(filters) = &report.filters {
        let grid = FilterGrid(filters);
        let path = out.join("filters.png");
        save_figure(&path, grid.size(), &grid)?;
        written.push(path);
    }
    for (k, maps) in report.layers.iter().enumerate().filter(|(_, l)| l.is_spatial()) {
        let grid = MapGrid(maps);
        let path = out.join(format!("maps-{:02}-{}.png", k + 1, file_part(&maps.name)));
        save_figure(&path, grid.size(), &grid)?;
        written.push(path);
    }
    let path = out.join("inspect.json");
    nnlab_app::atomic::write_atomic(&path, format!("{doc:#}\n").as_bytes())?;
    written.push(path);
    Ok(written)
}

/// Runs `nnlab mnist inspect`.
pub fn run(args: InspectArgs) -> Result<()> {
    if !args.checkpoint.is_file() {
        bail!("--checkpoint {}: no such file", args.checkpoint.display());
    }
    if args.out.exists() && !args.out.is_dir() {
        bail!("--out {}: exists and is not a folder", args.out.display());
    }
    let given = args.model.as_deref().map(super::model_args::load).transpose()?;
    let ck = Checkpoint::load(&args.checkpoint, given.as_ref())?;
    let (pixels, label) = input(&args)?;
    let report = inspect_at(&ck.model, pixels, args.gradcam_layer.as_deref())
        .map_err(|e| anyhow::anyhow!("--gradcam-layer {e}"))?;
    let mut doc = report.to_json(false);
    doc["label"] = serde_json::json!(label);
    doc["checkpoint"] = serde_json::json!(args.checkpoint.display().to_string());
    let written = write_figures(&report, &args.out, &doc)?;
    if args.json {
        println!("{doc}");
    } else {
        let truth = label.map_or(String::new(), |l| format!(" (label {l})"));
        println!(
            "the model reads a {} with probability {:.3}{truth}",
            report.digit, report.probabilities[report.digit]
        );
        for l in &report.layers {
            let [c, h, w] = l.shape;
            let rf = l.geometry.map_or(String::new(), |g| format!("  RF {:>2}", g.rf));
            println!(
                "  {:<10} {c:>4}×{h}×{w:<3} values {:>8.3} … {:<8.3}{rf}",
                l.name, l.min, l.max
            );
        }
        println!("Grad-CAM on {}", report.gradcam_layer);
    }
    for path in written {
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}
