//! `nnlab mnist train`: the recipe, with progress bars, per-epoch logs, metrics, curves, checkpoints,
//! resume, stops on divergence or Ctrl-C, and the brief's verdict at the end.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use nnlab_app::run_folder::title;
use nnlab_app::threads::init_threads;
use nnlab_app::training::{Event, RunEnd, Saved, TrainPlan, TrainRequest, execute};
use nnlab_app::{BriefResult, RecipeOverrides, RunFolder};
use nnlab_mnist::training::{EpochRecord, TrainConfig};

use super::curves::Curves;
use super::data_args::DataArgs;
use super::interrupt::{INTERRUPTED, install_interrupt_handler};
use super::model_args::ModelArg;
use crate::output::figure::save_figure;

/// Arguments of `nnlab mnist train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    #[command(flatten)]
    data: DataArgs,
    #[command(flatten)]
    model: ModelArg,
    /// The recipe: a shipped name (seed = the seed model's recipe, tuned, small8k, small5k, small20; see
    /// recipes/), a recipe .toml file, or a run's config.json (which re-creates that run); the flags below
    /// override single values.
    #[arg(long, value_name = "NAME|FILE")]
    recipe: Option<String>,
    #[command(flatten)]
    overrides: RecipeOverrides,
    /// Output directory (default runs/YYYYMMDD-HHMMSS, UTC).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// The brief the run is judged against: a name (seed, 8k) or clauses such as
    /// "acc>=99.4,params<8000,epochs<=15,last=3" (also bn, dropout, gap); default: the recipe's own brief,
    /// else seed. A missed brief is still exit 0.
    #[arg(long, value_name = "NAME|CLAUSES")]
    brief: Option<String>,
    /// Continue from a checkpoint (last.safetensors of an earlier run); its model and recipe are used.
    #[arg(long, value_name = "FILE")]
    resume: Option<PathBuf>,
    /// Train on the full run's schedule but stop cleanly after epoch K (exit 0); --resume continues the
    /// same run exactly (how a search's rungs run).
    #[arg(long, value_name = "K")]
    until_epoch: Option<usize>,
}

/// Prints each clause of the brief with ✓/✗ and its numbers.
fn report(result: &BriefResult, name: Option<&str>) {
    let tick = |ok: bool| if ok { "✓" } else { "✗" };
    let title = name.map_or(format!("brief {}", result.brief), |n| {
        format!("brief '{n}' ({})", result.brief)
    });
    println!("{title}: {}", if result.met { "met" } else { "missed" });
    for v in &result.verdicts {
        println!("  {} {}: {}", tick(v.ok), v.clause, v.detail);
    }
}

/// Runs `nnlab mnist train`: exit 0 when every epoch ran, 3 when training diverged, 130 when interrupted.
pub fn run(args: TrainArgs) -> Result<ExitCode> {
    let request = TrainRequest {
        model: args.model.model.clone(),
        model_text: None,
        recipe: args.recipe.clone(),
        overrides: args.overrides.clone(),
        brief: args.brief.clone(),
        resume: args.resume.clone(),
        until_epoch: args.until_epoch,
    };
    let mut plan = request.plan()?;
    if let Some(change) = &plan.epochs_change {
        println!("{change} (recorded in config.json)");
    }
    init_threads(plan.config.threads)?;
    // Everything that can fail on bad input happens before the run folder is made.
    let mnist = args.data.load()?;
    plan.config.data_dir = Some(args.data.absolute_dir());
    let folder = RunFolder::create(args.out.clone().unwrap_or_else(RunFolder::default_dir))?;
    announce(&plan, &folder);
    let config = plan.config.clone();
    let brief_name = plan.brief.name.clone();
    install_interrupt_handler();
    let mut bars = Bars::new(config.epochs);
    let end = execute(plan, &mnist, &folder, &INTERRUPTED, &mut |event| -> Result<()> {
        if let Event::EpochEnd { records, .. } = &event {
            save_curves(&folder, records, &config)?;
        }
        bars.show(&event);
        Ok(())
    })?;
    drop(bars);
    match end {
        RunEnd::Finished { verdict, .. } => {
            report(&verdict, brief_name.as_deref());
            println!(
                "wrote {}/{{config.json, model.model, metrics.json, metrics.csv, curves.png, last.safetensors, best.safetensors, progress.json}}",
                folder.dir().display()
            );
            Ok(ExitCode::SUCCESS)
        }
        RunEnd::Paused { epoch, saved, .. } => {
            println!(
                "paused after epoch {epoch} of {} as asked (--until-epoch); continue with:\n  nnlab mnist train --resume {} --out {}",
                config.epochs,
                saved.0.display(),
                folder.dir().display()
            );
            Ok(ExitCode::SUCCESS)
        }
        RunEnd::Interrupted {
            epoch,
            batch,
            batches,
            saved,
            records,
        } => {
            save_curves(&folder, &records, &config)?;
            eprintln!(
                "interrupted in epoch {epoch} after step {batch} of {batches}; {}",
                resume_hint(&saved, &folder, &args.data)
            );
            Ok(ExitCode::from(130))
        }
        RunEnd::Diverged {
            epoch,
            step,
            lr,
            detail,
            saved,
            records,
        } => {
            save_curves(&folder, &records, &config)?;
            let kept = match &saved {
                Some((file, e)) => format!("{} keeps epoch {e}, the last finite state", file.display()),
                None => "no checkpoint was written (no epoch had finished)".to_string(),
            };
            eprintln!(
                "error: training diverged in epoch {epoch} at step {step} (lr {lr}): {detail}; {kept}. \
                 The learning rate is likely too large: try --lr {} (10× smaller) and watch the first epoch's loss.",
                lr / 10.0
            );
            Ok(ExitCode::from(3))
        }
    }
}

/// The curves of the epochs so far, beside the metrics.
fn save_curves(folder: &RunFolder, records: &[EpochRecord], config: &TrainConfig) -> Result<()> {
    let curves = Curves {
        records,
        title: title(config),
    };
    save_figure(&folder.file("curves.png"), (1200, 860), &curves)
}

/// What the run is about to do, before the first epoch.
fn announce(plan: &TrainPlan, folder: &RunFolder) {
    let (spec, config) = (&plan.spec, &plan.config);
    println!(
        "training model '{}' ({} parameters): {} recipe, {} epochs, batch {}, {}, {}, seed {}, {} threads → {}",
        spec.name,
        spec.params(),
        config.recipe,
        config.epochs,
        config.batch_size,
        config.optimizer_text(),
        config.schedule.describe(),
        config.seed,
        config.threads,
        folder.dir().display(),
    );
    if config.ema_decay > 0.0 {
        println!(
            "weight averaging: EMA of the weights and BatchNorm statistics, decay {} per step; the test columns and the checkpoints are the average's, the train columns the weights under optimisation",
            config.ema_decay
        );
    }
    if config.clean_epochs > 0 {
        println!(
            "augmentation off in the last {} epochs (from epoch {}): they train on the images as they are",
            config.clean_epochs,
            config.epochs - config.clean_epochs + 1
        );
    }
    if let Some(n) = config.validation {
        println!(
            "validation: the last {n} training images are held out and evaluated on; the test set is not used (the \"test\" columns below are validation)"
        );
    }
    if let Some((_, ck)) = &plan.resume {
        println!("resuming after epoch {} (step {})", ck.epoch, ck.step);
        for r in &ck.records {
            println!("{}", log_line(r, config.epochs));
        }
    }
}

/// How to continue an interrupted run.
fn resume_hint(saved: &Option<Saved>, folder: &RunFolder, data: &DataArgs) -> String {
    match saved {
        Some((file, epoch)) => {
            let data = data
                .data_dir
                .as_ref()
                .map_or(String::new(), |d| format!(" --data-dir {}", d.display()));
            format!(
                "{} holds epoch {epoch}; continue with:\n  nnlab mnist train --resume {} --out {}{data}",
                file.display(),
                file.display(),
                folder.dir().display()
            )
        }
        None => "no epoch had finished, so there is no checkpoint to resume from".to_string(),
    }
}

/// The progress bar of the epoch under way, and a log line per finished epoch.
struct Bars {
    epochs: usize,
    style: ProgressStyle,
    bar: ProgressBar,
}

impl Bars {
    fn new(epochs: usize) -> Self {
        Self {
            epochs,
            style: ProgressStyle::with_template("epoch {prefix} {bar:30} {pos}/{len} {msg}").expect("valid template"),
            bar: ProgressBar::hidden(),
        }
    }

    fn show(&mut self, event: &Event<'_>) {
        match event {
            Event::EpochStart { epoch, batches } => {
                self.bar = ProgressBar::new(*batches as u64)
                    .with_style(self.style.clone())
                    .with_prefix(format!("{epoch}/{}", self.epochs));
            }
            Event::Batch(p) => {
                self.bar.set_position(p.batch as u64);
                self.bar.set_message(format!(
                    "loss {:.4} acc {:.2}% {:.0} img/s",
                    p.loss,
                    p.accuracy * 100.0,
                    p.images_per_sec
                ));
            }
            Event::Evaluating => self.bar.set_message("evaluating on the test set"),
            Event::EpochEnd { record, .. } => {
                self.bar.finish_and_clear();
                println!("{}", log_line(record, self.epochs));
            }
        }
    }
}

impl Drop for Bars {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}

fn log_line(r: &EpochRecord, epochs: usize) -> String {
    format!(
        "epoch {:>2}/{epochs}  train loss {:.4} acc {:.2}%  test loss {:.4} acc {:.2}%  lr {:.5}  {:.1} s",
        r.epoch,
        r.train_loss,
        r.train_accuracy * 100.0,
        r.test_loss,
        r.test_accuracy * 100.0,
        r.lr,
        r.seconds
    )
}
