//! `nnlab mnist lr-find`: the learning-rate range test, its plot, and a suggested rate.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Result, bail};
use clap::Args;
use nnlab_mnist::training::load_recipe;
use nnlab_mnist::training::lr_find::{RangeResult, RangeTest, range_test};
use plotters::coord::Shift;
use plotters::prelude::*;

use super::data_args::DataArgs;
use super::model_args::ModelArg;
use crate::output::figure::{Figure, check_image_path, plot_err, save_figure};
use nnlab_app::threads::init_threads;

/// Arguments of `nnlab mnist lr-find`.
#[derive(Debug, Args)]
pub struct LrFindArgs {
    #[command(flatten)]
    model: ModelArg,
    #[command(flatten)]
    data: DataArgs,
    /// The recipe whose batch size, momentum, augmentation and seed the test uses (default seed).
    #[arg(long, value_name = "NAME|FILE")]
    recipe: Option<String>,
    /// Batch size (default: the recipe's).
    #[arg(long)]
    batch_size: Option<usize>,
    /// First learning rate.
    #[arg(long, default_value_t = 1e-7)]
    start_lr: f64,
    /// Last learning rate.
    #[arg(long, default_value_t = 10.0)]
    end_lr: f64,
    /// Mini-batches (at most one epoch's worth).
    #[arg(long, default_value_t = 100)]
    steps: usize,
    /// Seed of the model's initialisation and the batches.
    #[arg(long)]
    seed: Option<u64>,
    /// Engine threads.
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// Use only the first N training images.
    #[arg(long, value_name = "N")]
    train_limit: Option<usize>,
    /// Draw the smoothed loss against the learning rate (log axis), the suggestion marked (PNG or SVG).
    #[arg(long, value_name = "FILE.png")]
    out: Option<PathBuf>,
    /// Print {"suggested_lr", "min_loss_lr", "stopped", "points": [{"lr", "loss", "smoothed"}]} instead.
    #[arg(long)]
    json: bool,
}

/// Runs `nnlab mnist lr-find`.
pub fn run(args: LrFindArgs) -> Result<()> {
    if !(args.start_lr.is_finite() && args.start_lr > 0.0 && args.end_lr.is_finite() && args.end_lr > args.start_lr) {
        bail!(
            "--start-lr and --end-lr must be finite with 0 < start < end, got {} and {}",
            args.start_lr,
            args.end_lr
        );
    }
    if args.steps < 3 {
        bail!("--steps must be at least 3");
    }
    if args.batch_size == Some(0) || args.train_limit == Some(0) {
        bail!("--batch-size and --train-limit must be at least 1");
    }
    if let Some(p) = &args.out {
        check_image_path(p, "--out")?;
    }
    let spec = args.model.load_or_seed()?;
    let mut config =
        load_recipe(args.recipe.as_deref().unwrap_or("seed")).map_err(|e| anyhow::anyhow!("--recipe {e}"))?;
    if let Some(b) = args.batch_size {
        config.batch_size = b;
    }
    if let Some(s) = args.seed {
        config.seed = s;
    }
    init_threads(args.threads)?;
    let data = args.data.load()?;
    let train = Arc::new(match args.train_limit {
        Some(n) => data.train.take(n),
        None => data.train,
    });
    let test = RangeTest {
        start: args.start_lr,
        end: args.end_lr,
        steps: args.steps,
        ..RangeTest::default()
    };
    let result = range_test(&spec, &config, &train, &test);
    if let Some(path) = &args.out {
        let title = format!(
            "Learning-rate range test: model {}, batch {}, momentum {}",
            spec.name, config.batch_size, config.momentum
        );
        save_figure(path, (1100, 700), &RangePlot { result: &result, title })?;
        eprintln!("wrote {}", path.display());
    }
    if args.json {
        let points: Vec<_> = result
            .points
            .iter()
            .map(|p| serde_json::json!({ "lr": p.lr, "loss": p.loss, "smoothed": p.smoothed }))
            .collect();
        println!(
            "{}",
            serde_json::json!({
                "suggested_lr": result.suggested, "min_loss_lr": result.min_loss_lr,
                "stopped": result.stopped, "points": points,
            })
        );
        return Ok(());
    }
    println!(
        "model '{}', batch {}, momentum {}: {} steps from lr {:.1e} towards {:.1e}",
        spec.name,
        config.batch_size,
        config.momentum,
        result.points.len(),
        args.start_lr,
        args.end_lr
    );
    if let Some(why) = &result.stopped {
        println!("stopped early: {why}");
    }
    println!(
        "lowest smoothed loss at lr {:.3e}; steepest fall at lr {:.3e}",
        result.min_loss_lr, result.suggested
    );
    println!("suggested lr: {:.3e}", result.suggested);
    Ok(())
}

/// The smoothed loss against the learning rate on a log axis, the raw loss faint, the suggestion marked.
struct RangePlot<'a> {
    result: &'a RangeResult,
    title: String,
}

impl Figure for RangePlot<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE).map_err(plot_err)?;
        let pts = &self.result.points;
        let (lo_lr, hi_lr) = match (pts.first(), pts.last()) {
            (Some(a), Some(b)) if b.lr > a.lr => (a.lr, b.lr),
            _ => (1e-7, 10.0),
        };
        let smoothed: Vec<f64> = pts.iter().map(|p| p.smoothed).collect();
        let lo = pts.iter().map(|p| p.smoothed.min(p.loss)).fold(f64::INFINITY, f64::min);
        // The climb at the end can be steep: show up to a little above the first loss.
        let first = smoothed.first().copied().unwrap_or(1.0);
        let hi = smoothed
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max)
            .min(first * 1.3);
        let (lo, hi) = if lo.is_finite() && hi > lo {
            (lo, hi)
        } else {
            (0.0, 3.0)
        };
        let pad = (hi - lo) * 0.06;
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, ("sans-serif", 22))
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(64)
            .build_cartesian_2d((lo_lr..hi_lr).log_scale(), (lo - pad)..(hi + pad))
            .map_err(plot_err)?;
        chart
            .configure_mesh()
            .x_desc("learning rate (log scale)")
            .y_desc("training loss")
            .x_label_formatter(&|x| format!("{x:.0e}"))
            .y_label_formatter(&|y| format!("{y:.2}"))
            .label_style(("sans-serif", 14))
            .axis_desc_style(("sans-serif", 16))
            .draw()
            .map_err(plot_err)?;
        let clip = |v: f64| v.clamp(lo - pad, hi + pad);
        chart
            .draw_series(LineSeries::new(
                pts.iter().map(|p| (p.lr, clip(p.loss))),
                RGBColor(160, 180, 220).stroke_width(1),
            ))
            .map_err(plot_err)?
            .label("loss of each batch")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], RGBColor(160, 180, 220)));
        chart
            .draw_series(LineSeries::new(
                pts.iter().map(|p| (p.lr, clip(p.smoothed))),
                RGBColor(40, 90, 200).stroke_width(3),
            ))
            .map_err(plot_err)?
            .label("smoothed loss")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], RGBColor(40, 90, 200).stroke_width(3)));
        let s = self.result.suggested;
        chart
            .draw_series(LineSeries::new(
                [(s, lo - pad), (s, hi + pad)],
                RGBColor(200, 60, 40).stroke_width(2),
            ))
            .map_err(plot_err)?
            .label(format!("suggested lr {s:.2e} (steepest fall)"))
            .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], RGBColor(200, 60, 40).stroke_width(2)));
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font(("sans-serif", 15))
            .draw()
            .map_err(plot_err)?;
        Ok(())
    }
}
