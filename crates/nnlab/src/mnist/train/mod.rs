//! `nnlab mnist train`: the recipe, with progress bars, per-epoch logs, metrics, curves, checkpoints,
//! resume, stops on divergence or Ctrl-C, and the brief's verdict at the end.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::Ordering;

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use nnlab_mnist::training::config::OptimizerKind;
use nnlab_mnist::training::metrics::{metrics_csv, metrics_json};
use nnlab_mnist::training::{
    Brief, BriefResult, Checkpoint, EpochRecord, Finish, TrainConfig, TrainEvent, load_recipe, train,
};

use super::curves::Curves;
use super::data_args::DataArgs;
use super::interrupt::{INTERRUPTED, Interrupted, install_interrupt_handler};

mod progress_file;
mod recipe_flags;
use super::model_args::ModelArg;
use crate::output::figure::save_figure;
use crate::output::write_atomic;
use progress_file::ProgressFile;
use recipe_flags::config_from;

/// The optimizers `--optimizer` offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OptimizerName {
    /// torch.optim.SGD (dampening 0).
    Sgd,
    /// torch.optim.Adam.
    Adam,
    /// torch.optim.AdamW.
    Adamw,
}

impl From<OptimizerName> for OptimizerKind {
    fn from(n: OptimizerName) -> Self {
        match n {
            OptimizerName::Sgd => OptimizerKind::Sgd,
            OptimizerName::Adam => OptimizerKind::Adam,
            OptimizerName::Adamw => OptimizerKind::Adamw,
        }
    }
}

/// Arguments of `nnlab mnist train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    #[command(flatten)]
    data: DataArgs,
    #[command(flatten)]
    model: ModelArg,
    /// The recipe: a shipped name (seed = RECIPE.md's, tuned; see recipes/), a recipe .toml file, or a
    /// run's config.json (which re-creates that run); the flags below override single values.
    #[arg(long, value_name = "NAME|FILE")]
    recipe: Option<String>,
    /// Epochs (the goal is ≥ 99.4 % test accuracy in under 20).
    #[arg(long)]
    epochs: Option<usize>,
    /// Batch size.
    #[arg(long)]
    batch_size: Option<usize>,
    /// Learning rate (the peak rate of a one-cycle or warm-up schedule).
    #[arg(long)]
    lr: Option<f64>,
    /// SGD momentum.
    #[arg(long)]
    momentum: Option<f32>,
    /// The optimizer, each with PyTorch's update rule: sgd (momentum, --nesterov, --weight-decay as L2),
    /// adam (betas 0.9, 0.999; --weight-decay as L2) or adamw (--weight-decay decoupled).
    #[arg(long, value_enum)]
    optimizer: Option<OptimizerName>,
    /// Weight decay (L2 for sgd and adam, decoupled for adamw).
    #[arg(long)]
    weight_decay: Option<f32>,
    /// Nesterov momentum (sgd).
    #[arg(long)]
    nesterov: bool,
    /// Probability of the centre crop + resize augmentation (0 = off; the recipe's 0.1).
    #[arg(long, value_name = "P")]
    crop_probability: Option<f64>,
    /// Largest random rotation in degrees (0 = off; the recipe's 10).
    #[arg(long, value_name = "DEGREES")]
    rotation: Option<f64>,
    /// Largest random translation in whole pixels along each axis (0 = off, the default).
    #[arg(long, value_name = "PIXELS")]
    translate: Option<u32>,
    /// Train the last N epochs on the images as they are, without augmentation (0 = every epoch augmented).
    #[arg(long, value_name = "N")]
    clean_epochs: Option<usize>,
    /// Label smoothing ε of the training loss, as PyTorch's CrossEntropyLoss(label_smoothing=ε).
    #[arg(long, value_name = "EPS")]
    label_smoothing: Option<f64>,
    /// Weight averaging: evaluate and checkpoint an exponential moving average of the weights (and
    /// BatchNorm statistics) with this decay per step, e.g. 0.999 (0 = off; PyTorch's AveragedModel).
    #[arg(long, value_name = "DECAY")]
    ema: Option<f64>,
    /// Epochs between learning-rate decays (switches to the step schedule).
    #[arg(long)]
    step_size: Option<usize>,
    /// Learning-rate decay factor (switches to the step schedule).
    #[arg(long)]
    gamma: Option<f32>,
    /// Seed of initialisation, shuffling, augmentation and dropout.
    #[arg(long)]
    seed: Option<u64>,
    /// Engine threads.
    #[arg(long)]
    threads: Option<usize>,
    /// Output directory (default runs/YYYYMMDD-HHMMSS, UTC).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// The brief the run is judged against: a name (seed = RECIPE.md's, 8k) or clauses such as
    /// "acc>=99.4,params<8000,epochs<=15,last=3" (also bn, dropout, gap). A missed brief is still exit 0.
    #[arg(long, value_name = "NAME|CLAUSES", default_value = "seed")]
    brief: String,
    /// Continue from a checkpoint (last.safetensors of an earlier run); its model and recipe are used.
    #[arg(long, value_name = "FILE")]
    resume: Option<PathBuf>,
    /// Train on the first N training images only (quick runs).
    #[arg(long, value_name = "N")]
    train_limit: Option<usize>,
    /// Evaluate on the first N test images only (quick runs).
    #[arg(long, value_name = "N")]
    test_limit: Option<usize>,
    /// Hold out the last N training images as a validation set and evaluate on it instead of the test set
    /// (choose hyperparameters on it; the run's "test" metrics are then validation metrics).
    #[arg(long, value_name = "N")]
    validation: Option<usize>,
}

/// Sets the engine's thread count (rayon's global pool); a second call with the same count is fine.
pub fn init_threads(threads: usize) -> Result<()> {
    if rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build_global()
        .is_err()
        && rayon::current_num_threads() != threads
    {
        bail!(
            "--threads: the thread pool is already running with {} threads",
            rayon::current_num_threads()
        );
    }
    Ok(())
}

/// UTC time as YYYYMMDD-HHMMSS, for run directory names.
fn timestamp() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rem) = ((secs / 86400) as i64, secs % 86400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    format!(
        "{y:04}{m:02}{d:02}-{:02}{:02}{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn write_outputs(
    out: &Path,
    records: &[EpochRecord],
    config: &TrainConfig,
    (params, brief): (usize, &BriefResult),
    stopped: Option<&serde_json::Value>,
) -> Result<()> {
    write_atomic(
        &out.join("metrics.json"),
        serde_json::to_string_pretty(&metrics_json(records, params, Some(brief), stopped))?.as_bytes(),
    )?;
    write_atomic(&out.join("metrics.csv"), metrics_csv(records).as_bytes())?;
    let title = format!(
        "MNIST, model {}, {} recipe, seed {}",
        config.model,
        config.recipe.clone(),
        config.seed
    );
    save_figure(&out.join("curves.png"), (1200, 860), &Curves { records, title })
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

/// The model a recipe names when `--model` is not given: a config.json's own model text, or the recipe's
/// `model` (a shipped name or a file). `None` when `--model` is given (it wins).
fn spec_for_recipe(args: &TrainArgs) -> Option<Result<nnlab_mnist::ModelSpec>> {
    if args.model.model.is_some() {
        return None;
    }
    let recipe = args.recipe.as_deref()?;
    Some((|| {
        let config = load_recipe(recipe).map_err(|e| anyhow::anyhow!("--recipe {e}"))?;
        let spec = match &config.model_text {
            Some(text) => nnlab_mnist::ModelSpec::parse(&config.model, &format!("{recipe} (model_text)"), text)
                .map_err(|e| anyhow::anyhow!("--recipe {e}"))?,
            None => nnlab_model::resolve(&config.model).map_err(|e| anyhow::anyhow!("--recipe {recipe}: model {e}"))?,
        };
        nnlab_mnist::check_for_mnist(&spec).map_err(|e| anyhow::anyhow!("--recipe {recipe}: {e}"))?;
        Ok(spec)
    })())
}

/// Runs `nnlab mnist train`: exit 0 when every epoch ran, 3 when training diverged, 130 when interrupted.
pub fn run(args: TrainArgs) -> Result<ExitCode> {
    let brief = Brief::parse(&args.brief)?;
    let resume = match &args.resume {
        Some(path) => {
            if !path.is_file() {
                bail!("--resume {}: no such checkpoint file", path.display());
            }
            Some(Checkpoint::load(path, None)?)
        }
        None => None,
    };
    let spec = match &resume {
        Some(ck) => {
            let own = ck.model.spec().clone();
            if let Some(given) = args.model.load_if_given()?
                && given.layers != own.layers
            {
                bail!(
                    "--model {}: --resume continues the checkpoint's own model '{}', which differs; leave --model out",
                    given.name,
                    own.name
                );
            }
            own
        }
        None => match spec_for_recipe(&args) {
            Some(spec) => spec?,
            None => args.model.load_or_seed()?,
        },
    };
    let mut config = config_from(&args, resume.as_ref().and_then(|c| c.config.as_ref()))?;
    config.model = spec.name.clone();
    config.model_text = Some(spec.source.clone());
    if let Some(ck) = &resume
        && let Some(had) = &ck.config
        && had.epochs != config.epochs
    {
        let change = format!(
            "resumed after epoch {}: epochs {} → {}",
            ck.epoch, had.epochs, config.epochs
        );
        println!("{change} (recorded in config.json)");
        config.changes.push(change);
    }
    if let Some(ck) = &resume
        && ck.epoch >= config.epochs
    {
        bail!(
            "--resume: the checkpoint has already completed {} of {} epochs (raise --epochs to continue)",
            ck.epoch,
            config.epochs
        );
    }
    init_threads(config.threads)?;
    // Everything that can fail on bad input happens before the run folder is made.
    let mnist = args.data.load()?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("runs").join(timestamp()));
    fs::create_dir_all(&out).with_context(|| format!("--out {}: cannot create the directory", out.display()))?;
    write_atomic(
        &out.join("config.json"),
        serde_json::to_string_pretty(&config)?.as_bytes(),
    )?;
    write_atomic(&out.join("model.model"), spec.source.as_bytes())?;
    let params = spec.params();
    println!(
        "training model '{}' ({params} parameters): {} recipe, {} epochs, batch {}, {}, {}, seed {}, {} threads → {}",
        spec.name,
        config.recipe,
        config.epochs,
        config.batch_size,
        config.optimizer_text(),
        config.schedule.describe(),
        config.seed,
        config.threads,
        out.display(),
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
    if let Some(ck) = &resume {
        println!("resuming after epoch {} (step {})", ck.epoch, ck.step);
        for r in &ck.records {
            println!("{}", log_line(r, config.epochs));
        }
    }
    let style = ProgressStyle::with_template("epoch {prefix} {bar:30} {pos}/{len} {msg}").expect("valid template");
    let mut bar = ProgressBar::hidden();
    // The newest complete checkpoint of this run, to name in the resume command: (file, epoch).
    let mut last_saved: Option<(PathBuf, usize)> = args.resume.clone().zip(resume.as_ref().map(|c| c.epoch));
    install_interrupt_handler();
    let mut progress = ProgressFile::new(&out, config.epochs);
    let result = train(&config, &spec, &mnist, resume, &mut |event| -> Result<()> {
        match event {
            TrainEvent::EpochStart { epoch, batches } => {
                bar = ProgressBar::new(batches as u64)
                    .with_style(style.clone())
                    .with_prefix(format!("{epoch}/{}", config.epochs));
            }
            TrainEvent::Batch(p) => {
                if INTERRUPTED.load(Ordering::SeqCst) {
                    bar.finish_and_clear();
                    return Err(Interrupted {
                        epoch: p.epoch,
                        batch: p.batch,
                        batches: p.batches,
                    }
                    .into());
                }
                progress.step(&p)?;
                bar.set_position(p.batch as u64);
                bar.set_message(format!(
                    "loss {:.4} acc {:.2}% {:.0} img/s",
                    p.loss,
                    p.accuracy * 100.0,
                    p.images_per_sec
                ));
            }
            TrainEvent::Evaluating => bar.set_message("evaluating on the test set"),
            TrainEvent::EpochEnd { record, state, is_best } => {
                bar.finish_and_clear();
                println!("{}", log_line(record, config.epochs));
                state.save(&out.join("last.safetensors"))?;
                last_saved = Some((out.join("last.safetensors"), state.epoch));
                if is_best {
                    state.save(&out.join("best.safetensors"))?;
                }
                let verdict = brief.judge(&state.records, &spec, config.epochs);
                write_outputs(&out, &state.records, &config, (params, &verdict), None)?;
            }
        }
        Ok(())
    });
    let resume_hint = |saved: &Option<(PathBuf, usize)>| match saved {
        Some((file, epoch)) => {
            let data = args
                .data
                .data_dir
                .as_ref()
                .map_or(String::new(), |d| format!(" --data-dir {}", d.display()));
            format!(
                "{} holds epoch {epoch}; continue with:\n  nnlab mnist train --resume {} --out {}{data}",
                file.display(),
                file.display(),
                out.display()
            )
        }
        None => "no epoch had finished, so there is no checkpoint to resume from".to_string(),
    };
    let (final_state, finish) = match result {
        Ok(r) => r,
        Err(e) => match e.downcast_ref::<Interrupted>() {
            Some(i) => {
                let stopped = serde_json::json!({"reason": "interrupted", "epoch": i.epoch, "step_in_epoch": i.batch});
                let records = last_saved
                    .as_ref()
                    .map_or(Ok(Vec::new()), |(f, _)| Checkpoint::load(f, None).map(|c| c.records))?;
                let verdict = brief.judge(&records, &spec, config.epochs);
                write_outputs(&out, &records, &config, (params, &verdict), Some(&stopped))?;
                progress.end("interrupted")?;
                eprintln!(
                    "interrupted in epoch {} after step {} of {}; {}",
                    i.epoch,
                    i.batch,
                    i.batches,
                    resume_hint(&last_saved)
                );
                return Ok(ExitCode::from(130));
            }
            None => return Err(e),
        },
    };
    if let Finish::Diverged {
        epoch,
        step,
        lr,
        reason,
    } = &finish
    {
        let stopped = serde_json::json!({
            "reason": "diverged", "epoch": epoch, "step": step, "lr": lr, "detail": reason.to_string(),
        });
        let verdict = brief.judge(&final_state.records, &spec, config.epochs);
        write_outputs(&out, &final_state.records, &config, (params, &verdict), Some(&stopped))?;
        progress.end("diverged")?;
        let kept = match &last_saved {
            Some((file, e)) => format!("{} keeps epoch {e}, the last finite state", file.display()),
            None => "no checkpoint was written (no epoch had finished)".to_string(),
        };
        eprintln!(
            "error: training diverged in epoch {epoch} at step {step} (lr {lr}): {reason}; {kept}. \
             The learning rate is likely too large: try --lr {} (10× smaller) and watch the first epoch's loss.",
            lr / 10.0
        );
        return Ok(ExitCode::from(3));
    }
    progress.end("finished")?;
    report(
        &brief.judge(&final_state.records, &spec, config.epochs),
        brief.name.as_deref(),
    );
    println!(
        "wrote {}/{{config.json, model.model, metrics.json, metrics.csv, curves.png, last.safetensors, best.safetensors, progress.json}}",
        out.display()
    );
    Ok(ExitCode::SUCCESS)
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
