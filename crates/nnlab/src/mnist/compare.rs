//! `nnlab mnist compare RUN_DIR…`: runs side by side — model, parameters, epochs, recipe, best and final
//! accuracy, the train − test gap, wall time and the brief's verdict — as a table, Markdown or CSV, and
//! their test curves overlaid in one figure.

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, ValueEnum};
use nnlab_app::{Run, RunFolder};
use nnlab_mnist::training::EpochRecord;
use nnlab_mnist::training::metrics::averaging_caught_up;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::curves::epoch_mesh;
use crate::output::figure::{Figure, plot_err, save_figure};

/// How the comparison is printed.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    /// Aligned columns.
    Pretty,
    /// A Markdown table, for a README.
    Markdown,
    /// Comma-separated values, every number at full precision.
    Csv,
}

/// Arguments of `nnlab mnist compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Run folders written by `nnlab mnist train` (each with metrics.json and config.json).
    #[arg(required = true, value_name = "RUN_DIR")]
    runs: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "pretty")]
    format: Format,
    /// Also draw every run's test accuracy and test loss per epoch, overlaid and labelled (PNG or SVG).
    #[arg(long, value_name = "FILE.png")]
    plot: Option<PathBuf>,
}

/// The columns of a run's row, as text for the table and Markdown.
fn row(run: &Run) -> Vec<String> {
    let pct = |v: f64| format!("{:.2}", v * 100.0);
    let best = run.best();
    let last = run.records.last();
    let seconds = run.seconds();
    let brief = match &run.brief {
        None => "—".to_string(),
        Some(b) if b.met => "✓ met".to_string(),
        Some(b) => format!(
            "✗ {} of {} missed",
            b.verdicts.iter().filter(|v| !v.ok).count(),
            b.verdicts.len()
        ),
    };
    let epochs = match &run.stopped {
        Some(reason) => format!("{}/{} ({reason})", run.records.len(), run.config.epochs),
        None => format!("{}/{}", run.records.len(), run.config.epochs),
    };
    vec![
        run.name.clone(),
        run.config.model.clone(),
        run.params.to_string(),
        epochs,
        format!("{}, seed {}", run.config.recipe, run.config.seed),
        best.map_or("—".into(), |b| format!("{} (ep {})", pct(b.test_accuracy), b.epoch)),
        last.map_or("—".into(), |l| pct(l.test_accuracy)),
        last.map_or("—".into(), |l| pct(l.train_accuracy)),
        last.map_or("—".into(), |l| {
            format!("{:+.2}", (l.train_accuracy - l.test_accuracy) * 100.0)
        }),
        format!("{}:{:02}", (seconds / 60.0) as u64, seconds as u64 % 60),
        brief,
    ]
}

const HEADER: [&str; 11] = [
    "run",
    "model",
    "params",
    "epochs",
    "recipe",
    "best test %",
    "final test %",
    "final train %",
    "train − test",
    "wall time",
    "brief",
];

fn csv(runs: &[Run]) -> String {
    let mut out = String::from(
        "run,model,params,epochs_completed,epochs,recipe,seed,best_test_accuracy,best_epoch,final_test_accuracy,final_train_accuracy,train_minus_test,wall_seconds,brief,brief_met,stopped\n",
    );
    for r in runs {
        let best = r.best();
        let last = r.records.last();
        let opt = |v: Option<f64>| v.map_or(String::new(), |v| v.to_string());
        out += &format!(
            "{},{},{},{},{},{},{},{},{},{},{},{},{},\"{}\",{},{}\n",
            r.name,
            r.config.model,
            r.params,
            r.records.len(),
            r.config.epochs,
            r.config.recipe.clone(),
            r.config.seed,
            opt(best.map(|b| b.test_accuracy)),
            best.map_or(String::new(), |b| b.epoch.to_string()),
            opt(last.map(|l| l.test_accuracy)),
            opt(last.map(|l| l.train_accuracy)),
            opt(last.map(|l| l.train_accuracy - l.test_accuracy)),
            r.seconds(),
            r.brief.as_ref().map_or(String::new(), |b| b.brief.clone()),
            r.brief.as_ref().map_or(String::new(), |b| b.met.to_string()),
            r.stopped.clone().unwrap_or_default(),
        );
    }
    out
}

/// For several runs, the spread a seed sweep is judged by: mean, minimum and maximum of the final test
/// accuracy, and how many runs met their brief.
fn summary(runs: &[Run]) -> Option<String> {
    let finals: Vec<f64> = runs
        .iter()
        .filter_map(|r| r.records.last().map(|e| e.test_accuracy * 100.0))
        .collect();
    if finals.len() < 2 {
        return None;
    }
    let mean = finals.iter().sum::<f64>() / finals.len() as f64;
    let min = finals.iter().copied().fold(f64::INFINITY, f64::min);
    let max = finals.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let judged: Vec<bool> = runs.iter().filter_map(|r| r.brief.as_ref().map(|b| b.met)).collect();
    let briefs = if judged.is_empty() {
        String::new()
    } else {
        format!(
            "; brief met by {} of {}",
            judged.iter().filter(|m| **m).count(),
            judged.len()
        )
    };
    Some(format!(
        "final test accuracy over {} runs: mean {mean:.3} %, min {min:.2} %, max {max:.2} %{briefs}",
        finals.len()
    ))
}

/// Runs `nnlab mnist compare`.
pub fn run(args: CompareArgs) -> Result<()> {
    if let Some(p) = &args.plot {
        crate::output::figure::check_image_path(p, "--plot")?;
    }
    let runs: Vec<Run> = args
        .runs
        .iter()
        .map(|d| RunFolder::at(d).read())
        .collect::<Result<_, _>>()?;
    let rows: Vec<Vec<String>> = runs.iter().map(row).collect();
    match args.format {
        Format::Csv => print!("{}", csv(&runs)),
        Format::Markdown => {
            println!("| {} |", HEADER.join(" | "));
            println!("|{}", "---|".repeat(HEADER.len()));
            for r in &rows {
                println!("| {} |", r.join(" | "));
            }
        }
        Format::Pretty => {
            let widths: Vec<usize> = (0..HEADER.len())
                .map(|c| {
                    rows.iter()
                        .map(|r| r[c].chars().count())
                        .chain([HEADER[c].chars().count()])
                        .max()
                        .unwrap_or(0)
                })
                .collect();
            let line = |cells: Vec<&str>| {
                cells
                    .iter()
                    .zip(&widths)
                    .enumerate()
                    .map(|(c, (s, w))| {
                        let pad = w - s.chars().count();
                        // Text columns left, numbers right.
                        if matches!(c, 0 | 1 | 4 | 10) {
                            format!("{s}{}", " ".repeat(pad))
                        } else {
                            format!("{}{s}", " ".repeat(pad))
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("  ")
                    .trim_end()
                    .to_string()
            };
            println!("{}", line(HEADER.to_vec()));
            for r in &rows {
                println!("{}", line(r.iter().map(String::as_str).collect()));
            }
        }
    }
    if let Some(summary) = summary(&runs)
        && !matches!(args.format, Format::Csv)
    {
        println!("\n{summary}");
    }
    if let Some(path) = &args.plot {
        save_figure(path, (1400, 620), &Overlay { runs: &runs })?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

/// Every run's test accuracy and test loss per epoch, one colour per run.
struct Overlay<'a> {
    runs: &'a [Run],
}

const PALETTE: [RGBColor; 8] = [
    RGBColor(40, 90, 200),
    RGBColor(200, 60, 40),
    RGBColor(40, 150, 70),
    RGBColor(150, 60, 170),
    RGBColor(230, 140, 20),
    RGBColor(20, 160, 170),
    RGBColor(120, 120, 120),
    RGBColor(170, 120, 60),
];

impl Figure for Overlay<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE).map_err(plot_err)?;
        let root = root
            .titled(
                "Runs compared: test accuracy and test loss per epoch",
                ("sans-serif", 24),
            )
            .map_err(plot_err)?;
        let panels = root.split_evenly((1, 2));
        type Pick = fn(&EpochRecord) -> f64;
        let series: [(&str, Pick, bool); 2] = [
            ("test accuracy (%)", |r| r.test_accuracy * 100.0, true),
            ("test loss", |r| r.test_loss, false),
        ];
        let epochs = self.runs.iter().map(|r| r.records.len()).max().unwrap_or(1).max(2) as f64;
        for (panel, (name, pick, is_accuracy)) in panels.iter().zip(series) {
            let all: Vec<f64> = self.runs.iter().flat_map(|r| r.records.iter().map(pick)).collect();
            // Accuracy: leave out the first epoch, far below the rest, so the runs' differences show (and a
            // weight-averaged run's epochs before its average caught up; see `averaging_caught_up`); only
            // those points fall outside, so no line is cut in the middle. Loss: the same epochs of an
            // averaged run are left out of the range from above.
            let settled = |r: &Run| averaging_caught_up(&r.records).max(usize::from(r.records.len() > 1));
            let hi = if is_accuracy {
                all.iter().copied().fold(f64::NEG_INFINITY, f64::max)
            } else {
                self.runs
                    .iter()
                    .flat_map(|r| r.records.iter().skip(averaging_caught_up(&r.records)).map(pick))
                    .fold(f64::NEG_INFINITY, f64::max)
            };
            let lo = if is_accuracy {
                self.runs
                    .iter()
                    .flat_map(|r| r.records.iter().skip(settled(r)).map(pick))
                    .fold(f64::INFINITY, f64::min)
            } else {
                all.iter().copied().fold(f64::INFINITY, f64::min)
            };
            let (lo, hi) = if lo.is_finite() && hi.is_finite() {
                (lo, hi)
            } else {
                (0.0, 1.0)
            };
            let pad = ((hi - lo) * 0.08).max(1e-3);
            let mut chart = ChartBuilder::on(panel)
                .caption(name, ("sans-serif", 20))
                .margin(14)
                .x_label_area_size(40)
                .y_label_area_size(64)
                .build_cartesian_2d(1f64..epochs, (lo - pad)..(hi + pad))
                .map_err(plot_err)?;
            epoch_mesh(&mut chart, epochs as usize, is_accuracy)?;
            for (i, run) in self.runs.iter().enumerate() {
                let color = PALETTE[i % PALETTE.len()];
                let points: Vec<(f64, f64)> = run
                    .records
                    .iter()
                    .map(|r| (r.epoch as f64, pick(r)))
                    .filter(|(_, v)| *v >= lo - pad && *v <= hi + pad)
                    .collect();
                chart
                    .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))
                    .map_err(plot_err)?
                    .label(format!("{} ({})", run.name, run.config.model))
                    .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], color.stroke_width(3)));
                chart
                    .draw_series(points.iter().map(|p| Circle::new(*p, 3, color.filled())))
                    .map_err(plot_err)?;
            }
            chart
                .configure_series_labels()
                .position(if is_accuracy {
                    SeriesLabelPosition::UpperLeft
                } else {
                    SeriesLabelPosition::UpperRight
                })
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .label_font(("sans-serif", 14))
                .draw()
                .map_err(plot_err)?;
        }
        Ok(())
    }
}
