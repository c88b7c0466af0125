//! `nnlab mnist report RUN_DIR [--out DIR]`: a README-ready Markdown report of one run, its figures beside
//! it — the brief's verdicts, the model file, the summary with receptive fields, the per-epoch log, the
//! curves, the confusion matrix and the misclassified digits (computed from the run's checkpoint), and the
//! recipe — so a reader who was not there understands the run from it alone.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::Args;
use nnlab_app::run_folder::title;
use nnlab_app::{Run, RunFolder};
use nnlab_mnist::ModelSpec;
use nnlab_mnist::data::CLASSES;
use nnlab_mnist::training::config::Schedule;
use nnlab_mnist::training::metrics::is_weight_averaged;
use nnlab_mnist::training::{Checkpoint, EpochRecord};

use super::curves::Curves;
use super::data_args::DataArgs;
use super::eval::{TestErrors, save_confusion, save_gallery, test_errors};
use crate::output::figure::save_figure;
use crate::output::write_atomic;

/// Arguments of `nnlab mnist report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A run folder written by `nnlab mnist train`.
    #[arg(value_name = "RUN_DIR")]
    run: PathBuf,
    /// Where to write report.md and its figures (default RUN_DIR/report).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    #[command(flatten)]
    data: DataArgs,
    /// Engine threads.
    #[arg(long, default_value_t = 2)]
    threads: usize,
}

/// The `train` command that repeats the run (its recipe written out flag by flag).
fn reproduce(run: &Run, dir: &str) -> String {
    let c = &run.config;
    let mut cmd = format!(
        "nnlab mnist train --model {dir}/model.model --recipe {} --epochs {} --batch-size {} --optimizer {} --lr {} --momentum {} --seed {}",
        c.recipe.clone(),
        c.epochs,
        c.batch_size,
        format!("{:?}", c.optimizer).to_lowercase(),
        c.lr,
        c.momentum,
        c.seed
    );
    if c.weight_decay != 0.0 {
        let _ = write!(cmd, " --weight-decay {}", c.weight_decay);
    }
    if c.nesterov {
        cmd += " --nesterov";
    }
    let _ = write!(
        cmd,
        " --crop-probability {} --rotation {}",
        c.crop_probability, c.max_degrees
    );
    if c.max_shift != 0 {
        let _ = write!(cmd, " --translate {}", c.max_shift);
    }
    if c.clean_epochs != 0 {
        let _ = write!(cmd, " --clean-epochs {}", c.clean_epochs);
    }
    if c.label_smoothing != 0.0 {
        let _ = write!(cmd, " --label-smoothing {}", c.label_smoothing);
    }
    if c.ema_decay != 0.0 {
        let _ = write!(cmd, " --ema {}", c.ema_decay);
    }
    if let Schedule::Step { step_size, gamma } = c.schedule {
        let _ = write!(cmd, " --step-size {step_size} --gamma {gamma}");
    }
    if let Some(n) = c.train_limit {
        let _ = write!(cmd, " --train-limit {n}");
    }
    if let Some(n) = c.test_limit {
        let _ = write!(cmd, " --test-limit {n}");
    }
    if let Some(b) = &run.brief {
        let _ = write!(cmd, " --brief '{}'", b.brief);
    }
    cmd
}

/// Runs `nnlab mnist report`.
pub fn run(args: ReportArgs) -> Result<()> {
    let folder = RunFolder::at(&args.run);
    let run = folder.read()?;
    let checkpoint = folder.last_checkpoint();
    if !checkpoint.is_file() {
        bail!("{}: no checkpoint (the run finished no epoch?)", checkpoint.display());
    }
    let mut ck = Checkpoint::load(&checkpoint, None)?;
    let spec = ck.model.spec().clone();
    let out = args.out.clone().unwrap_or_else(|| args.run.join("report"));
    nnlab_app::threads::init_threads(args.threads)?;
    let data = args.data.or_recorded(run.config.data_dir.as_deref());
    let test = Arc::new(match run.config.test_limit {
        Some(n) => data.load()?.test.take(n),
        None => data.load()?.test,
    });
    // Everything that can fail on bad input happens before the folder is made.
    std::fs::create_dir_all(&out).with_context(|| format!("--out {}: cannot create the folder", out.display()))?;
    let errors = test_errors(&mut ck.model, &test);
    let title = title(&run.config);
    save_figure(
        &out.join("curves.png"),
        (1200, 860),
        &Curves {
            records: &run.records,
            title,
        },
    )?;
    save_confusion(&out.join("confusion.png"), errors.confusion, errors.eval.accuracy)?;
    save_gallery(
        &out.join("misclassified.png"),
        &ck.model,
        &test,
        &errors.eval,
        &errors.wrong,
    )?;

    let (Some(last), Some(best)) = (run.records.last(), run.best()) else {
        bail!(
            "{}: the run has no finished epoch to report",
            args.run.join("metrics.json").display()
        );
    };
    let mut md = String::new();
    headline(&mut md, &run, &spec, (last, best));
    brief_section(&mut md, &run);
    model_section(&mut md, &spec);
    recipe_section(&mut md, &run, &args.run.display().to_string());
    log_section(&mut md, &run, best);
    errors_section(&mut md, &errors, test.len());
    write_atomic(&out.join("report.md"), md.as_bytes())?;
    println!(
        "wrote {}/{{report.md, curves.png, confusion.png, misclassified.png}}",
        out.display()
    );
    Ok(())
}

/// A share as a percentage with two decimals.
fn pct(v: f64) -> String {
    format!("{:.2}", v * 100.0)
}

/// The title and the one-line result.
fn headline(w: &mut String, run: &Run, spec: &ModelSpec, (last, best): (&EpochRecord, &EpochRecord)) {
    let _ = writeln!(
        w,
        "# Run `{}`: model `{}`, {} parameters\n",
        run.name,
        spec.name,
        spec.params()
    );
    let seconds = run.seconds();
    let _ = writeln!(
        w,
        "**{} %** final test accuracy (epoch {}), best **{} %** (epoch {}); final train accuracy {} %; {} of {} epochs{}; {:.0} min {:02.0} s of training and evaluation.\n",
        pct(last.test_accuracy),
        last.epoch,
        pct(best.test_accuracy),
        best.epoch,
        pct(last.train_accuracy),
        run.records.len(),
        run.config.epochs,
        run.stopped
            .as_ref()
            .map_or(String::new(), |s| format!(" (stopped: {s})")),
        (seconds / 60.0).floor(),
        seconds % 60.0
    );
}

/// The brief's verdicts, clause by clause.
fn brief_section(w: &mut String, run: &Run) {
    let _ = writeln!(w, "## The brief\n");
    match &run.brief {
        Some(b) => {
            let _ = writeln!(w, "`{}`: **{}**\n", b.brief, if b.met { "met" } else { "missed" });
            for v in &b.verdicts {
                let _ = writeln!(w, "- {} {}: {}", if v.ok { "✓" } else { "✗" }, v.clause, v.detail);
            }
            let _ = writeln!(w);
        }
        None => {
            let _ = writeln!(w, "The run was trained without a brief.\n");
        }
    }
}

/// The model file and its summary.
fn model_section(w: &mut String, spec: &ModelSpec) {
    let _ = writeln!(w, "## The model\n\n```\n{}```\n", spec.source);
    let mut net = nnlab_mnist::Network::new(spec, 0);
    let _ = writeln!(w, "```\n{}```\n", super::summary::table(spec, &mut net));
}

/// The recipe as a table, and the command that repeats the run from folder `dir`.
fn recipe_section(w: &mut String, run: &Run, dir: &str) {
    let c = &run.config;
    let _ = writeln!(w, "## The recipe\n");
    let _ = writeln!(w, "| setting | value |\n|---|---|");
    let schedule = c.schedule.describe();
    for (k, v) in [
        ("recipe", c.recipe.clone()),
        ("epochs", c.epochs.to_string()),
        ("batch size", c.batch_size.to_string()),
        ("optimizer", c.optimizer_text()),
        ("label smoothing", c.label_smoothing.to_string()),
        ("schedule", schedule),
        (
            "augmentation",
            format!(
                "centre crop + resize with p = {}, rotation ±{}°{}{}",
                c.crop_probability,
                c.max_degrees,
                if c.max_shift > 0 {
                    format!(", translation ±{} px", c.max_shift)
                } else {
                    String::new()
                },
                if c.clean_epochs > 0 {
                    format!("; none in the last {} epochs", c.clean_epochs)
                } else {
                    String::new()
                }
            ),
        ),
        ("seed", c.seed.to_string()),
        (
            "training images",
            c.train_limit.map_or("all 60,000".into(), |n| n.to_string()),
        ),
        (
            "test images",
            c.test_limit.map_or("all 10,000".into(), |n| n.to_string()),
        ),
    ] {
        let _ = writeln!(w, "| {k} | {v} |");
    }
    if c.ema_decay > 0.0 {
        let _ = writeln!(
            w,
            "| weight averaging | EMA of the weights and BatchNorm statistics, decay {} per step: the test numbers and the checkpoints are the average's; the log and the curves also show the weights under optimisation |",
            c.ema_decay
        );
    }
    for change in &c.changes {
        let _ = writeln!(w, "| change | {change} |");
    }
    let _ = writeln!(w, "\nTo repeat it:\n\n```\n{}\n```\n", reproduce(run, dir));
}

/// The per-epoch log with the best epoch marked, and the curves.
fn log_section(w: &mut String, run: &Run, best: &EpochRecord) {
    let _ = writeln!(w, "## Training log\n");
    // A weight-averaged run also shows the test accuracy of the weights under optimisation.
    let averaged = is_weight_averaged(&run.records);
    let (raw_head, raw_rule) = if averaged {
        (" test acc %, weights under optimisation |", "---|")
    } else {
        ("", "")
    };
    let _ = writeln!(
        w,
        "| epoch | train loss | train acc % | test loss | test acc % |{raw_head} lr | seconds |\n|---|---|---|---|---|{raw_rule}---|---|"
    );
    for r in &run.records {
        let mark = if r.epoch == best.epoch { " **best**" } else { "" };
        let raw = match (averaged, r.raw_test_accuracy) {
            (true, Some(a)) => format!(" {} |", pct(a)),
            (true, None) => " — |".to_string(),
            (false, _) => String::new(),
        };
        let _ = writeln!(
            w,
            "| {} | {:.4} | {} | {:.4} | {}{mark} |{raw} {:.5} | {:.1} |",
            r.epoch,
            r.train_loss,
            pct(r.train_accuracy),
            r.test_loss,
            pct(r.test_accuracy),
            r.lr,
            r.seconds
        );
    }
    let _ = writeln!(w, "\n![training curves](curves.png)\n");
}

/// Per-class accuracy and the figures of the errors on `tested` test images.
fn errors_section(w: &mut String, errors: &TestErrors, tested: usize) {
    let _ = writeln!(w, "## Errors on the test set\n");
    let _ = writeln!(
        w,
        "From the run's final checkpoint (`last.safetensors`): {} % on {} test images, {} wrong.\n",
        pct(errors.eval.accuracy),
        tested,
        errors.wrong.len()
    );
    let _ = writeln!(
        w,
        "| digit | {} |\n|---|{}",
        (0..CLASSES).map(|d| d.to_string()).collect::<Vec<_>>().join(" | "),
        "---|".repeat(CLASSES)
    );
    let _ = writeln!(
        w,
        "| accuracy % | {} |\n",
        errors.per_class.iter().map(|a| pct(*a)).collect::<Vec<_>>().join(" | ")
    );
    let _ = writeln!(
        w,
        "![confusion matrix](confusion.png)\n\n![misclassified test digits](misclassified.png)"
    );
}
