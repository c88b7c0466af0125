//! `nnlab mnist search`: the flags, progress lines and a bar with ETA, the Pareto plot; the search itself
//! is `nnlab_app::search`.

mod pareto;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use nnlab_app::run_folder::{timestamp, unix_seconds};
use nnlab_app::search::launch::{JobEnd, Launcher, Local};
use nnlab_app::search::ray::Ray;
use nnlab_app::search::{Rank, Search, SearchEvent, SearchOptions, SearchRecord, TrialStatus};

use super::data_args::DataArgs;
use super::interrupt::{INTERRUPTED, install_interrupt_handler};
use crate::output::figure::save_figure;
use pareto::Pareto;

/// Arguments of `nnlab mnist search`.
#[derive(Debug, Args)]
pub struct SearchArgs {
    /// The search space: a model file whose numbers may be `choice(…)`s, with `optional(…)` statements and
    /// `recipe.KEY = choice(…)` lines (a plain model file is a space of one point).
    #[arg(long, value_name = "FILE", required_unless_present = "resume")]
    space: Option<PathBuf>,
    /// The brief to meet: a name (seed, 8k) or clauses such as "acc>=99.4,params<8000,epochs<=15,last=3".
    #[arg(long, value_name = "NAME|CLAUSES", required_unless_present = "resume")]
    brief: Option<String>,
    /// The base recipe the space's recipe choices override (a shipped name or a .toml file).
    #[arg(long, value_name = "NAME|FILE", default_value = "seed")]
    recipe: String,
    /// Training images held out for validation (the test set is read only for --test-seeds).
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    validation: usize,
    /// Seeds each trial of the last rung is trained on (the metric is their mean).
    #[arg(long, value_name = "N", default_value_t = 3)]
    seeds: usize,
    /// Most trials: a seeded random sample of the points within the brief when there are more.
    #[arg(long, value_name = "N")]
    trials: Option<usize>,
    /// Successive halving's factor: each rung keeps the best 1/η and trains η times as long.
    #[arg(long, default_value_t = 3)]
    eta: usize,
    /// Trainings at once (default: the cores divided by --threads).
    #[arg(long, value_name = "N")]
    workers: Option<usize>,
    /// Engine threads of each training.
    #[arg(long, value_name = "T", default_value_t = 1)]
    threads: usize,
    /// Train the winner on all 60,000 images with these seeds and judge it on the test set ("1-10" or "1,2,5").
    #[arg(long, value_name = "SEEDS")]
    test_seeds: Option<String>,
    /// Drop points whose receptive field is smaller than this.
    #[arg(long, value_name = "PIXELS")]
    min_rf: Option<usize>,
    /// Seed of the random sample of points (--trials).
    #[arg(long, default_value_t = 1)]
    sample_seed: u64,
    /// How the last rung ranks a trial from its seeds' worst-of-last validation accuracies: mean, or worst
    /// (the unluckiest seed; the brief must hold on every one).
    #[arg(long, value_name = "mean|worst")]
    rank: Option<Rank>,
    /// The search folder (default runs/search-YYYYMMDD-HHMMSS, or under --shared-dir with --ray).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Continue a stopped search in DIR; no finished rung of any trial is run again.
    #[arg(long, value_name = "DIR")]
    resume: Option<PathBuf>,
    /// Run the trainings on a Ray cluster through its Job Submission API (http://HEAD:8265); nnlab must be
    /// on the workers' PATH.
    #[arg(long, value_name = "URL", requires = "shared_dir")]
    ray: Option<String>,
    /// A folder every Ray worker sees; the search folder is made in it.
    #[arg(long, value_name = "DIR")]
    shared_dir: Option<PathBuf>,
    /// Train on the first N training images only (quick searches).
    #[arg(long, value_name = "N")]
    train_limit: Option<usize>,
    /// Evaluate on the first N held-out (or test) images only.
    #[arg(long, value_name = "N")]
    test_limit: Option<usize>,
    /// Build, summarise and count the points, print the admitted ones, and stop: nothing is trained or written.
    #[arg(long)]
    dry_run: bool,
    #[command(flatten)]
    data: DataArgs,
}

/// "1-10" or "1,2,5" → the seeds.
fn parse_seeds(text: &str) -> Result<Vec<u64>> {
    let bad = || anyhow::anyhow!("--test-seeds '{text}': write a range such as 1-10 or a list such as 1,2,5");
    let seeds: Vec<u64> = match text.split_once('-') {
        Some((a, b)) => {
            let (a, b): (u64, u64) = (
                a.trim().parse().map_err(|_| bad())?,
                b.trim().parse().map_err(|_| bad())?,
            );
            if a > b {
                return Err(bad());
            }
            (a..=b).collect()
        }
        None => text
            .split(',')
            .map(|s| s.trim().parse().map_err(|_| bad()))
            .collect::<Result<_>>()?,
    };
    if seeds.is_empty() {
        return Err(bad());
    }
    Ok(seeds)
}

/// A recipe given as a file, made absolute (a shipped name stays as it is).
fn absolute_if_file(recipe: &str) -> String {
    let path = Path::new(recipe);
    match path.is_file().then(|| path.canonicalize()) {
        Some(Ok(p)) => p.display().to_string(),
        _ => recipe.to_string(),
    }
}

/// The options of a new search, or those a stopped one recorded (with the folder to run in).
fn options(args: &SearchArgs) -> Result<(SearchOptions, String, PathBuf)> {
    if let Some(dir) = &args.resume {
        let given: Vec<&str> = [
            ("--space", args.space.is_some()),
            ("--brief", args.brief.is_some()),
            ("--trials", args.trials.is_some()),
            ("--test-seeds", args.test_seeds.is_some()),
            ("--rank", args.rank.is_some()),
            ("--out", args.out.is_some()),
        ]
        .into_iter()
        .filter_map(|(flag, given)| given.then_some(flag))
        .collect();
        if !given.is_empty() {
            bail!(
                "--resume continues the search as its search.json records it; leave out {}",
                given.join(", ")
            );
        }
        let record = SearchRecord::load(dir)?;
        let text = std::fs::read_to_string(dir.join("space.space"))
            .with_context(|| format!("--resume {}: no space.space in it", dir.display()))?;
        return Ok((record.options, text, dir.clone()));
    }
    let space = args.space.clone().expect("clap requires --space without --resume");
    let text =
        std::fs::read_to_string(&space).with_context(|| format!("--space {}: cannot read it", space.display()))?;
    let data_dir = args.data.data_dir.clone().map(|d| d.canonicalize().unwrap_or(d));
    let options = SearchOptions {
        space: space.display().to_string(),
        brief: args.brief.clone().expect("clap requires --brief without --resume"),
        recipe: absolute_if_file(&args.recipe),
        validation: args.validation,
        seeds: args.seeds,
        trials: args.trials,
        eta: args.eta,
        threads: args.threads,
        test_seeds: args
            .test_seeds
            .as_deref()
            .map(parse_seeds)
            .transpose()?
            .unwrap_or_default(),
        min_rf: args.min_rf,
        sample_seed: args.sample_seed,
        rank: args.rank.unwrap_or_default(),
        train_limit: args.train_limit,
        test_limit: args.test_limit,
        data_dir: data_dir
            // --data-dir, else $MNIST_DIR, made absolute (a Ray worker runs elsewhere); neither given, each
            // training falls back to data/mnist itself.
            .or_else(|| {
                std::env::var_os("MNIST_DIR").filter(|d| !d.is_empty()).map(|d| {
                    let d = PathBuf::from(d);
                    d.canonicalize().unwrap_or(d)
                })
            }),
        offline: args.data.offline,
    };
    let name = format!("search-{}", timestamp(unix_seconds() as u64));
    let out = match (&args.out, &args.shared_dir) {
        (Some(out), _) => out.clone(),
        (None, Some(shared)) => shared.join(name),
        (None, None) => PathBuf::from("runs").join(name),
    };
    Ok((options, text, out))
}

fn launcher(args: &SearchArgs, threads: usize, dir: &Path) -> Result<Box<dyn Launcher>> {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let workers = args.workers.unwrap_or((cores / threads).max(1));
    if workers == 0 {
        bail!("--workers must be at least 1");
    }
    Ok(match &args.ray {
        Some(url) => {
            let shared = args.shared_dir.as_ref().expect("clap requires --shared-dir with --ray");
            let inside = dir
                .canonicalize()
                .ok()
                .zip(shared.canonicalize().ok())
                .is_some_and(|(d, s)| d.starts_with(s));
            if !inside {
                bail!(
                    "--out {}: with --ray the search folder must be inside --shared-dir {}",
                    dir.display(),
                    shared.display()
                );
            }
            Box::new(Ray::new(url, "nnlab", workers))
        }
        None => Box::new(Local {
            program: std::env::current_exe().context("cannot find the nnlab program")?,
            workers,
        }),
    })
}

/// Runs `nnlab mnist search`: exit 0 when it finished, 130 when stopped.
pub fn run(args: SearchArgs) -> Result<ExitCode> {
    let (options, text, dir) = options(&args)?;
    let mut search = Search::prepare(options, text)?;
    let c = search.record.counts;
    println!(
        "{}: {} points enumerated, {} within the brief '{}', {} to train; rungs at {} epochs (η = {}), {} seed(s) at the last; {} epochs of training in all",
        search.options.space,
        c.enumerated,
        c.admitted,
        search.record.brief,
        c.trials,
        search
            .rung_epochs
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        search.options.eta,
        search.options.seeds,
        search.total_work()
    );
    if args.dry_run {
        return dry_run(&search);
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("--out {}: cannot create it", dir.display()))?;
    // Every path a training is given is absolute: a Ray worker runs it in a folder of its own.
    let dir = dir
        .canonicalize()
        .with_context(|| format!("--out {}: cannot resolve it", dir.display()))?;
    let mut launcher = launcher(&args, search.options.threads, &dir)?;
    install_interrupt_handler();
    let bar = ProgressBar::new(search.total_work() as u64).with_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} epochs of training, {elapsed} so far, ETA {eta} {msg}")
            .expect("valid template"),
    );
    let record = search.run(&dir, launcher.as_mut(), &INTERRUPTED, &mut |event| show(&bar, event))?;
    bar.finish_and_clear();
    finish(&search, &record, &dir)
}

/// `--dry-run`: the points a search would train, smallest first.
fn dry_run(search: &Search) -> Result<ExitCode> {
    let mut trials: Vec<&nnlab_app::search::Trial> = search
        .record
        .trials
        .iter()
        .filter(|t| t.status == TrialStatus::Pending)
        .collect();
    trials.sort_by_key(|t| (t.params, t.point));
    println!("trial   params  mult-adds   RF  choices");
    for t in trials {
        println!(
            "{:<6} {:>7} {:>10} {:>4}  {}",
            t.id,
            t.params,
            t.macs,
            t.rf,
            choices_text(t)
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// A line above the bar (or plain, when the bar is hidden: not a terminal).
fn say(bar: &ProgressBar, line: String) {
    if bar.is_hidden() {
        println!("{line}");
    } else {
        bar.println(line);
    }
}

/// A progress line per rung and per finished training.
fn show(bar: &ProgressBar, event: SearchEvent<'_>) {
    match event {
        SearchEvent::Rung {
            rung,
            epochs,
            trials,
            jobs,
        } => {
            say(
                bar,
                format!(
                    "rung {}: {trials} trial(s) to epoch {epochs} ({jobs} training(s) to run)",
                    rung + 1
                ),
            );
        }
        SearchEvent::Job {
            trial,
            seed,
            epochs,
            end,
            work,
        } => {
            bar.inc(work as u64);
            let what = match end {
                JobEnd::Done => String::from("done"),
                JobEnd::Stopped => "stopped".into(),
                JobEnd::Failed(why) => format!("FAILED: {why}"),
            };
            say(
                bar,
                format!(
                    "  {} seed {seed} → epoch {epochs}: {what} ({} parameters; {})",
                    trial.id,
                    trial.params,
                    choices_text(trial)
                ),
            );
        }
        SearchEvent::Tested { result: t, work } => {
            bar.inc(work as u64);
            let last: Vec<String> = t.last.iter().map(|a| format!("{a:.2}")).collect();
            say(
                bar,
                format!(
                    "  test seed {}: last epochs {} % → brief {}",
                    t.seed,
                    last.join(", "),
                    if t.brief_met { "met" } else { "missed" }
                ),
            );
        }
    }
}

fn choices_text(t: &nnlab_app::search::Trial) -> String {
    t.choices
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The outcome, the Pareto plot and the files.
fn finish(search: &Search, record: &SearchRecord, dir: &Path) -> Result<ExitCode> {
    save_figure(
        &dir.join("pareto.png"),
        (1300, 800),
        &Pareto {
            record,
            params_bound: search.brief.params_bound(),
            goal: search.brief.accuracy_goal(),
        },
    )?;
    if record.state == "stopped" {
        eprintln!(
            "search stopped; continue with:\n  nnlab mnist search --resume {}",
            dir.display()
        );
        return Ok(ExitCode::from(130));
    }
    if let Some(b) = &record.best {
        let trial = record
            .trials
            .iter()
            .find(|t| t.id == b.id)
            .expect("the best is a trial");
        let seeds: Vec<String> = trial.seeds.iter().map(|s| format!("{:.2}", s.worst_last)).collect();
        println!(
            "best: {} ({} parameters; {}): {} worst-of-last validation accuracy {:.3} % (seeds: {})",
            b.id,
            b.params,
            choices_text(trial),
            record.options.rank.word(),
            b.metric,
            seeds.join(", ")
        );
    }
    if !record.test.is_empty() {
        let met = record.test.iter().filter(|t| t.brief_met).count();
        println!("on the test set: brief met on {met} of {} seeds", record.test.len());
    }
    let failed = record.trials.iter().filter(|t| t.status == TrialStatus::Failed).count();
    if failed > 0 {
        println!(
            "{failed} trial(s) failed (search.json names why; logs in {})",
            dir.join("logs").display()
        );
    }
    println!(
        "wrote {}/{{search.json, leaderboard.md, pareto.png, best.model, best.toml, runs/}}",
        dir.display()
    );
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_seeds_are_a_range_or_a_list() {
        assert_eq!(parse_seeds("1-10").unwrap(), (1..=10).collect::<Vec<u64>>());
        assert_eq!(parse_seeds("1,2,5").unwrap(), [1, 2, 5]);
        assert_eq!(parse_seeds("7").unwrap(), [7]);
        assert!(parse_seeds("5-1").is_err() && parse_seeds("a").is_err() && parse_seeds("").is_err());
    }
}
