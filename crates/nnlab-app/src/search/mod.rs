//! `nnlab mnist search`: the smallest model that meets a brief on every seed, found by successive halving
//! on a validation split. [`Search::prepare`] reads the space, builds and summarises every point (free),
//! drops those over the brief's budget and samples `--trials` of the rest — nothing is written yet;
//! [`Search::run`] trains them rung by rung through a [`launch::Launcher`] (each job an `nnlab mnist train`
//! command, so local processes and a Ray cluster run the same deterministic trainings), promotes the best
//! 1/η, runs the last rung's survivors on several seeds, picks the best mean worst-of-last-N, and judges
//! it on the test set. Everything a trial produced is read back from its run folder, so a stopped search
//! resumes without re-running any finished rung.

pub mod launch;
pub mod outputs;
pub mod plan;
pub mod ray;
pub mod record;
pub mod space;

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use nnlab_mnist::training::{TrainConfig, load_recipe};
use nnlab_mnist::{ModelSpec, check_for_mnist};
use nnlab_model::summarize;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use crate::brief::Brief;
use crate::overrides::SETTINGS;
use crate::run_folder::RunFolder;
use crate::{AppError, Result};
use launch::{Job, JobEnd, Launcher};
pub use record::{Counts, Rank, RungResult, SearchOptions, SearchRecord, SeedResult, TestResult, Trial, TrialStatus};
pub use space::Space;

/// Recipe keys a space may not set: the search sets them itself.
const SEARCH_OWNS: [&str; 6] = ["epochs", "seed", "validation", "threads", "train_limit", "test_limit"];

/// A checked search, ready to run.
#[derive(Debug, Clone)]
pub struct Search {
    /// The options.
    pub options: SearchOptions,
    /// The space's text (copied into the search folder, so `--resume` needs nothing else).
    pub space_text: String,
    /// The space.
    pub space: Space,
    /// The brief.
    pub brief: Brief,
    /// The base recipe.
    pub recipe: TrainConfig,
    /// Epochs of a full run: the brief's bound, else the recipe's.
    pub epochs: usize,
    /// The epochs each rung trains to.
    pub rung_epochs: Vec<usize>,
    /// Every point enumerated, with the trials (admitted and sampled) first.
    pub record: SearchRecord,
}

/// What a front end sees of a search as it goes.
#[derive(Debug)]
pub enum SearchEvent<'a> {
    /// A rung begins: its number, the epochs it trains to, its trials and the jobs left to run.
    Rung {
        /// From 0.
        rung: usize,
        /// Epochs trained to.
        epochs: usize,
        /// Trials in it.
        trials: usize,
        /// Jobs still to run (finished ones are skipped).
        jobs: usize,
    },
    /// A job ended: its trial, the seed, the epochs it ran to, how it ended and the epochs of work it was.
    Job {
        /// The trial.
        trial: &'a Trial,
        /// The seed.
        seed: u64,
        /// Epochs trained to.
        epochs: usize,
        /// How it ended.
        end: &'a JobEnd,
        /// Epochs of training it ran.
        work: usize,
    },
    /// The winner's test run with one seed ended, after `work` epochs of training.
    Tested {
        /// Its result.
        result: &'a TestResult,
        /// Epochs of training it ran.
        work: usize,
    },
}

/// A point's size, as the summary computes it.
fn measure(spec: &ModelSpec) -> (usize, usize, usize) {
    let rows = summarize(spec);
    let macs = rows.iter().map(|r| r.macs).sum();
    let rf = rows.iter().map(|r| r.rf).max().unwrap_or(1);
    (spec.params(), macs, rf)
}

impl Search {
    /// Reads and checks everything; writes nothing.
    pub fn prepare(options: SearchOptions, space_text: String) -> Result<Search> {
        let brief = Brief::parse(&options.brief)?;
        let recipe = load_recipe(&options.recipe).map_err(|e| AppError::invalid(format!("--recipe {e}")))?;
        let space = Space::parse(&options.space, &space_text)?;
        if let Some(space::Dimension::Recipe { key, line, .. }) = space
            .dimensions
            .iter()
            .find(|d| matches!(d, space::Dimension::Recipe { key, .. } if SEARCH_OWNS.contains(&key.as_str())))
        {
            return Err(AppError::invalid(format!(
                "{}:{line}: recipe.{key} is the search's own setting (the brief's epochs, --seeds, --validation, --threads, limits)",
                options.space
            )));
        }
        check_options(&options)?;
        let epochs = brief.max_epochs().unwrap_or(recipe.epochs);
        let (trials, counts) = enumerate(&options, &space, &brief, epochs)?;
        let trained = trials.iter().filter(|t| t.status == TrialStatus::Pending).count();
        let rung_epochs = plan::rungs(trained, epochs, options.eta);
        let record = SearchRecord {
            space: options.space.clone(),
            brief: brief.name.clone().unwrap_or_else(|| brief.text.clone()),
            recipe: options.recipe.clone(),
            state: "running".into(),
            options: options.clone(),
            counts,
            rung_epochs: rung_epochs.clone(),
            trials,
            best: None,
            test: Vec::new(),
        };
        Ok(Search {
            options,
            space_text,
            space,
            brief,
            recipe,
            epochs,
            rung_epochs,
            record,
        })
    }

    /// Epochs of training the whole search takes (for a progress bar): every rung's increment for its
    /// trials, the extra seeds of the last rung and the test seeds.
    pub fn total_work(&self) -> usize {
        let mut trials = self.record.counts.trials;
        let mut before = 0;
        let mut work = 0;
        for (i, &e) in self.rung_epochs.iter().enumerate() {
            if i > 0 {
                trials = plan::promoted(trials, self.options.eta);
            }
            work += trials * (e - before);
            before = e;
        }
        work + trials * self.epochs * (self.options.seeds.saturating_sub(1))
            + self.options.test_seeds.len() * self.epochs
    }
}

fn check_options(o: &SearchOptions) -> Result<()> {
    if o.eta < 2 {
        return Err(AppError::invalid(format!("--eta must be at least 2, got {}", o.eta)));
    }
    if o.seeds == 0 || o.threads == 0 || o.trials == Some(0) {
        return Err(AppError::invalid("--seeds, --threads and --trials must be at least 1"));
    }
    if !(1..60_000).contains(&o.validation) {
        return Err(AppError::invalid(format!(
            "--validation must hold out 1 to 59999 of the 60000 training images, got {}",
            o.validation
        )));
    }
    Ok(())
}

/// Every point of the space as a trial: built and summarised, over-budget points marked, and a seeded
/// random sample of `--trials` of the admitted ones kept for training.
fn enumerate(o: &SearchOptions, space: &Space, brief: &Brief, epochs: usize) -> Result<(Vec<Trial>, Counts)> {
    let mut trials = Vec::new();
    let mut admitted = Vec::new();
    let mut first_error = None;
    for k in 0..space.points_count() {
        let point = space.point(k);
        let id = format!("t{k:03}");
        let mut trial = Trial {
            id: id.clone(),
            point: k,
            choices: point.choices.clone(),
            params: 0,
            macs: 0,
            rf: 0,
            status: TrialStatus::Pending,
            rungs: Vec::new(),
            run_dir: format!("runs/{id}"),
            seeds: Vec::new(),
            error: None,
        };
        let built = ModelSpec::parse(&id, &o.space, &point.model_text)
            .map_err(|e| e.to_string())
            .and_then(|spec| {
                check_for_mnist(&spec)
                    .map(|()| spec)
                    .map_err(|e| format!("{}: {e}", o.space))
            });
        match built {
            Err(e) => {
                first_error.get_or_insert_with(|| e.clone());
                trial.status = TrialStatus::Failed;
                trial.error = Some(e);
            }
            Ok(spec) => {
                (trial.params, trial.macs, trial.rf) = measure(&spec);
                let missed = brief.admits(&spec, epochs);
                let rf_short = o.min_rf.is_some_and(|m| trial.rf < m);
                if !missed.is_empty() || rf_short {
                    trial.status = TrialStatus::OverBudget;
                } else {
                    admitted.push(trials.len());
                }
            }
        }
        trials.push(trial);
    }
    if admitted.is_empty() {
        return Err(AppError::invalid(match first_error {
            Some(e) if trials.iter().all(|t| t.status == TrialStatus::Failed) => e,
            _ => format!(
                "{}: none of its {} points is within the brief '{}' (and --min-rf): nothing to train",
                o.space,
                trials.len(),
                brief.text
            ),
        }));
    }
    let count = admitted.len();
    if let Some(n) = o.trials
        && n < admitted.len()
    {
        admitted.shuffle(&mut ChaCha8Rng::seed_from_u64(o.sample_seed));
        admitted.truncate(n);
        admitted.sort();
    }
    let keep: std::collections::BTreeSet<usize> = admitted.iter().copied().collect();
    let trials: Vec<Trial> = trials
        .into_iter()
        .enumerate()
        .filter(|(i, t)| keep.contains(i) || t.status != TrialStatus::Pending)
        .map(|(_, t)| t)
        .collect();
    let counts = Counts {
        enumerated: space.points_count(),
        admitted: count,
        trials: keep.len(),
    };
    Ok((trials, counts))
}

/// The test run of seed `seed` in `dir/test/seedS`, once it holds all `epochs`: its last `last` test
/// accuracies and the brief's verdict.
fn test_result(dir: &Path, seed: u64, epochs: usize, last: usize) -> Option<TestResult> {
    let r = RunFolder::at(dir.join(format!("test/seed{seed}"))).read().ok()?;
    (r.records.len() >= epochs).then(|| TestResult {
        seed,
        last: r.records[r.records.len().saturating_sub(last)..]
            .iter()
            .map(|e| round6(e.test_accuracy * 100.0))
            .collect(),
        brief_met: r.brief.as_ref().is_some_and(|b| b.met),
        run_dir: format!("test/seed{seed}"),
    })
}

/// A metric rounded to 6 decimals (of a percent), so equal accuracies compare equal and ties go to fewer
/// parameters, whatever the float noise of computing them.
fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// The command-line value of a recipe setting a point gives: `--flag value`, or the bare switch.
fn flag_args(key: &str, value: &str) -> Vec<String> {
    let setting = SETTINGS
        .iter()
        .find(|s| s.key == key)
        .expect("checked when the space was read");
    match (setting.flag, value) {
        ("--nesterov", "True" | "true") => vec![setting.flag.to_string()],
        ("--nesterov", _) => Vec::new(),
        (flag, v) => vec![flag.to_string(), v.trim_matches(['\'', '"']).to_string()],
    }
}

/// One training of a search: a trial's seed trained to `epochs`.
struct Work {
    trial: usize,
    seed: u64,
    epochs: usize,
    run_dir: PathBuf,
    /// Epochs its folder already holds.
    done: usize,
}

impl Search {
    /// Trains the search into `dir`, rung by rung; `stop` ends it cleanly (the record says `stopped`).
    pub fn run(
        &mut self,
        dir: &Path,
        launcher: &mut dyn Launcher,
        stop: &AtomicBool,
        observe: &mut dyn FnMut(SearchEvent<'_>),
    ) -> Result<SearchRecord> {
        self.write_inputs(dir)?;
        let mut active: Vec<usize> = (0..self.record.trials.len())
            .filter(|&i| self.record.trials[i].status == TrialStatus::Pending)
            .collect();
        let last = self.rung_epochs.len() - 1;
        for rung in 0..=last {
            let epochs = self.rung_epochs[rung];
            let seeds: Vec<u64> = if rung == last {
                (1..=self.options.seeds as u64).collect()
            } else {
                vec![1]
            };
            let work: Vec<Work> = active
                .iter()
                .flat_map(|&t| seeds.iter().map(move |&s| (t, s)))
                .map(|(t, s)| self.work(dir, t, s, epochs))
                .collect();
            let jobs = work.iter().filter(|w| w.done < w.epochs).count();
            observe(SearchEvent::Rung {
                rung,
                epochs,
                trials: active.len(),
                jobs,
            });
            self.run_work(dir, &work, launcher, stop, observe)?;
            if stop.load(std::sync::atomic::Ordering::SeqCst) {
                return self.stopped(dir);
            }
            for &t in &active {
                self.score(dir, t, epochs, if rung == last { &seeds[..] } else { &[] });
            }
            active.retain(|&t| self.record.trials[t].status == TrialStatus::Pending);
            if rung < last {
                active = self.promote(active);
            }
            self.record.save(dir)?;
        }
        for &t in &active {
            self.record.trials[t].status = TrialStatus::Done;
        }
        self.choose_best(dir)?;
        self.test(dir, launcher, stop, observe)?;
        if stop.load(std::sync::atomic::Ordering::SeqCst) {
            return self.stopped(dir);
        }
        self.record.state = "finished".into();
        self.record.save(dir)?;
        outputs::write_leaderboard(dir, &self.record)?;
        Ok(self.record.clone())
    }

    fn stopped(&mut self, dir: &Path) -> Result<SearchRecord> {
        for t in &mut self.record.trials {
            if t.status == TrialStatus::Pending {
                t.status = TrialStatus::Stopped;
            }
        }
        self.record.state = "stopped".into();
        self.record.save(dir)?;
        outputs::write_leaderboard(dir, &self.record)?;
        Ok(self.record.clone())
    }

    /// The space (copied, for `--resume`), every trained point's model file, and the record.
    fn write_inputs(&self, dir: &Path) -> Result<()> {
        let trials = dir.join("trials");
        std::fs::create_dir_all(&trials)
            .map_err(|e| AppError::invalid(format!("--out {}: cannot create it: {e}", dir.display())))?;
        std::fs::create_dir_all(dir.join("logs")).map_err(|e| AppError::file(dir, e))?;
        std::fs::create_dir_all(dir.join("runs")).map_err(|e| AppError::file(dir, e))?;
        crate::atomic::write_atomic(&dir.join("space.space"), self.space_text.as_bytes())?;
        for t in self.record.trials.iter().filter(|t| t.status == TrialStatus::Pending) {
            let point = self.space.point(t.point);
            crate::atomic::write_atomic(&trials.join(format!("{}.model", t.id)), point.model_text.as_bytes())?;
        }
        self.record.save(dir)
    }

    /// The run folder of a trial's seed: `runs/ID` for seed 1, `runs/ID-seedS` for the others.
    fn run_dir(&self, dir: &Path, trial: usize, seed: u64) -> PathBuf {
        let id = &self.record.trials[trial].id;
        dir.join(if seed == 1 {
            format!("runs/{id}")
        } else {
            format!("runs/{id}-seed{seed}")
        })
    }

    fn work(&self, dir: &Path, trial: usize, seed: u64, epochs: usize) -> Work {
        let run_dir = self.run_dir(dir, trial, seed);
        let done = RunFolder::at(&run_dir).read().map_or(0, |r| r.records.len());
        Work {
            trial,
            seed,
            epochs,
            run_dir,
            done,
        }
    }

    /// The `nnlab` arguments that bring `w`'s run folder to its epochs: a resume of the run where it
    /// stopped, or a new run of the trial's point.
    fn job(&self, dir: &Path, w: &Work) -> Job {
        let t = &self.record.trials[w.trial];
        let fresh = || {
            let model = dir.join("trials").join(format!("{}.model", t.id));
            let mut args: Vec<String> = vec!["--model".into(), model.display().to_string()];
            args.extend(["--recipe".into(), self.options.recipe.clone()]);
            args.extend([
                "--epochs".into(),
                self.epochs.to_string(),
                "--seed".into(),
                w.seed.to_string(),
            ]);
            args.extend(["--validation".into(), self.options.validation.to_string()]);
            args.extend(["--brief".into(), self.options.brief.clone()]);
            for (key, value) in &self.space.point(t.point).recipe {
                args.extend(flag_args(key, value));
            }
            args
        };
        let until = (w.epochs < self.epochs).then_some(w.epochs);
        let log = dir
            .join("logs")
            .join(format!("{}-seed{}-epoch{}.log", t.id, w.seed, w.epochs));
        Job {
            args: self.train_args(&w.run_dir, w.done, fresh, until),
            log,
        }
    }

    /// `mnist train` into `run_dir`: a resume where its folder stopped (it holds `done` epochs and a
    /// checkpoint), else a new run with the arguments `fresh` gives and the search's limits; then the
    /// folder, the threads, the data flags and `--until-epoch`.
    fn train_args(
        &self,
        run_dir: &Path,
        done: usize,
        fresh: impl FnOnce() -> Vec<String>,
        until: Option<usize>,
    ) -> Vec<String> {
        let mut args: Vec<String> = vec!["mnist".into(), "train".into()];
        let last = run_dir.join(crate::run_folder::LAST_CHECKPOINT);
        if done > 0 && last.is_file() {
            args.extend(["--resume".into(), last.display().to_string()]);
        } else {
            args.extend(fresh());
            for (flag, v) in [
                ("--train-limit", self.options.train_limit),
                ("--test-limit", self.options.test_limit),
            ] {
                if let Some(v) = v {
                    args.extend([flag.into(), v.to_string()]);
                }
            }
        }
        args.extend(["--out".into(), run_dir.display().to_string()]);
        args.extend(["--threads".into(), self.options.threads.to_string()]);
        if let Some(k) = until {
            args.extend(["--until-epoch".into(), k.to_string()]);
        }
        args.extend(self.data_args());
        args
    }

    fn data_args(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(d) = &self.options.data_dir {
            out.extend(["--data-dir".into(), d.display().to_string()]);
        }
        if self.options.offline {
            out.push("--offline".into());
        }
        out
    }

    fn run_work(
        &mut self,
        dir: &Path,
        work: &[Work],
        launcher: &mut dyn Launcher,
        stop: &AtomicBool,
        observe: &mut dyn FnMut(SearchEvent<'_>),
    ) -> Result<()> {
        let todo: Vec<&Work> = work.iter().filter(|w| w.done < w.epochs).collect();
        let jobs: Vec<Job> = todo.iter().map(|w| self.job(dir, w)).collect();
        let record = &mut self.record;
        launcher.run_all(&jobs, stop, &mut |i, end| {
            let w = todo[i];
            if let JobEnd::Failed(why) = &end {
                let t = &mut record.trials[w.trial];
                t.status = TrialStatus::Failed;
                t.error = Some(format!(
                    "seed {} to epoch {}: {why} (log: {})",
                    w.seed,
                    w.epochs,
                    jobs[i].log.display()
                ));
            }
            // Saved after every training so a reader (the web app) sees it live; a failed write here surfaces
            // at the rung's end, where the record is saved again and its error returned.
            let _ = record.save(dir);
            observe(SearchEvent::Job {
                trial: &record.trials[w.trial],
                seed: w.seed,
                epochs: w.epochs,
                end: &end,
                work: w.epochs - w.done,
            });
        })
    }

    /// Reads a trial's run folders after a rung: its validation accuracy at `epochs`, or — at the last rung
    /// (`seeds` given) — the mean (or with `--rank worst` the minimum) over the seeds of the worst of the
    /// brief's last epochs.
    fn score(&mut self, dir: &Path, trial: usize, epochs: usize, seeds: &[u64]) {
        if self.record.trials[trial].status != TrialStatus::Pending {
            return;
        }
        let read = |seed: u64| {
            RunFolder::at(self.run_dir(dir, trial, seed))
                .read()
                .ok()
                .filter(|r| r.records.len() >= epochs)
        };
        let metric = if seeds.is_empty() {
            read(1).map(|r| r.records[epochs - 1].test_accuracy * 100.0)
        } else {
            let last = self.brief.last.max(1);
            let per_seed: Option<Vec<SeedResult>> = seeds
                .iter()
                .map(|&seed| {
                    read(seed).map(|r| SeedResult {
                        seed,
                        worst_last: round6(
                            r.records[epochs.saturating_sub(last)..epochs]
                                .iter()
                                .map(|e| e.test_accuracy * 100.0)
                                .fold(f64::INFINITY, f64::min),
                        ),
                    })
                })
                .collect();
            let rank = self.record.options.rank;
            per_seed.map(|s| {
                let values: Vec<f64> = s.iter().map(|x| x.worst_last).collect();
                self.record.trials[trial].seeds = s;
                rank.combine(&values)
            })
        };
        let t = &mut self.record.trials[trial];
        match metric {
            Some(metric) => t.rungs.push(RungResult {
                epochs,
                metric: round6(metric),
            }),
            None => {
                t.status = TrialStatus::Failed;
                t.error
                    .get_or_insert_with(|| format!("its run folder has fewer than {epochs} epochs"));
            }
        }
    }

    /// Keeps the best 1/η of `active` (ties to fewer parameters); the rest are pruned.
    /// `trials` best first by their furthest rung's metric, ties to fewer parameters: (trial, metric, params).
    fn ranked(&self, trials: impl Iterator<Item = usize>) -> Vec<(usize, f64, usize)> {
        let mut ranked: Vec<(usize, f64, usize)> = trials
            .map(|t| {
                let trial = &self.record.trials[t];
                (t, trial.metric().unwrap_or(f64::NEG_INFINITY), trial.params)
            })
            .collect();
        plan::rank(&mut ranked);
        ranked
    }

    fn promote(&mut self, active: Vec<usize>) -> Vec<usize> {
        let ranked = self.ranked(active.into_iter());
        let keep = plan::promoted(ranked.len(), self.options.eta);
        for &(t, ..) in &ranked[keep..] {
            self.record.trials[t].status = TrialStatus::Pruned;
        }
        let mut kept: Vec<usize> = ranked[..keep].iter().map(|r| r.0).collect();
        kept.sort();
        kept
    }

    fn choose_best(&mut self, dir: &Path) -> Result<()> {
        let done =
            self.ranked((0..self.record.trials.len()).filter(|&t| self.record.trials[t].status == TrialStatus::Done));
        let Some(&(best, metric, params)) = done.first() else {
            return Err(AppError::invalid(format!(
                "every trial failed; their logs are in {}",
                dir.join("logs").display()
            )));
        };
        let trial = self.record.trials[best].clone();
        self.record.best = Some(outputs::write_best(self, dir, &trial, metric, params)?);
        self.record.save(dir)
    }

    /// Trains the winner on all 60,000 images for each test seed and judges it on the test set.
    fn test(
        &mut self,
        dir: &Path,
        launcher: &mut dyn Launcher,
        stop: &AtomicBool,
        observe: &mut dyn FnMut(SearchEvent<'_>),
    ) -> Result<()> {
        let Some(best) = self.record.best.clone() else {
            return Ok(());
        };
        let seeds = self.options.test_seeds.clone();
        let runs: Vec<(u64, PathBuf)> = seeds.iter().map(|&s| (s, dir.join(format!("test/seed{s}")))).collect();
        std::fs::create_dir_all(dir.join("test")).map_err(|e| AppError::file(dir, e))?;
        let mut jobs = Vec::new();
        let mut job_seeds = Vec::new();
        let mut job_work = Vec::new();
        for (seed, run) in &runs {
            let done = RunFolder::at(run).read().map_or(0, |r| r.records.len());
            if done >= self.epochs {
                continue;
            }
            let recipe = dir.join(&best.recipe_file).display().to_string();
            let fresh = || vec!["--recipe".into(), recipe, "--seed".into(), seed.to_string()];
            let args = self.train_args(run, done, fresh, None);
            let log = dir.join("logs").join(format!("test-seed{seed}.log"));
            jobs.push(Job { args, log });
            job_seeds.push(*seed);
            job_work.push(self.epochs - done);
        }
        let (epochs, last) = (self.epochs, self.brief.last.max(1));
        launcher.run_all(&jobs, stop, &mut |i, _| {
            if let Some(result) = test_result(dir, job_seeds[i], epochs, last) {
                observe(SearchEvent::Tested {
                    result: &result,
                    work: job_work[i],
                });
            }
        })?;
        self.record.test = seeds
            .iter()
            .filter_map(|&s| test_result(dir, s, epochs, last))
            .collect();
        self.record.save(dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPACE: &str = "input 1x28x28\nc1 = choice(4, 6, 8)\nc2 = choice(8, 12, 16)\nb1 = Sequential(Conv2d(1, c1, 3, bias=False), ReLU(), BatchNorm2d(c1))\nb2 = Sequential(Conv2d(c1, c2, 3, bias=False), ReLU(), BatchNorm2d(c2))\ngap = AdaptiveAvgPool2d(1)\nfc = Linear(c2, 10)\n";

    fn options(trials: Option<usize>, sample_seed: u64) -> SearchOptions {
        SearchOptions {
            space: "s.space".into(),
            brief: "acc>=99,params<1000,epochs<=9".into(),
            recipe: "small8k".into(),
            validation: 10_000,
            seeds: 3,
            trials,
            eta: 3,
            threads: 1,
            test_seeds: Vec::new(),
            min_rf: None,
            sample_seed,
            train_limit: None,
            test_limit: None,
            data_dir: None,
            offline: true,
            rank: Rank::Mean,
        }
    }

    fn trained(s: &Search) -> Vec<String> {
        s.record
            .trials
            .iter()
            .filter(|t| t.status == TrialStatus::Pending)
            .map(|t| t.id.clone())
            .collect()
    }

    #[test]
    fn the_budget_is_applied_before_sampling_and_the_sample_is_seeded() {
        let all = Search::prepare(options(None, 1), SPACE.into()).unwrap();
        assert_eq!(all.record.counts.enumerated, 9);
        let over: Vec<&Trial> = all
            .record
            .trials
            .iter()
            .filter(|t| t.status == TrialStatus::OverBudget)
            .collect();
        assert!(over.iter().all(|t| t.params >= 1000) && !over.is_empty());
        assert_eq!(all.record.counts.admitted, 9 - over.len());
        assert_eq!(all.epochs, 9, "the brief's epochs");
        let a = Search::prepare(options(Some(3), 1), SPACE.into()).unwrap();
        let b = Search::prepare(options(Some(3), 1), SPACE.into()).unwrap();
        let c = Search::prepare(options(Some(3), 2), SPACE.into()).unwrap();
        assert_eq!(trained(&a).len(), 3);
        assert_eq!(trained(&a), trained(&b), "the same seed samples the same points");
        assert_ne!(trained(&a), trained(&c), "another seed samples others");
        assert_eq!(a.record.counts.trials, 3);
        assert!(trained(&a).iter().all(|id| trained(&all).contains(id)));
    }

    #[test]
    fn the_work_counts_every_rung_seed_and_test_run() {
        let mut o = options(None, 1);
        o.test_seeds = vec![1, 2];
        let s = Search::prepare(o, SPACE.into()).unwrap();
        let n = s.record.counts.trials;
        assert_eq!(s.rung_epochs, plan::rungs(n, 9, 3));
        let mut expected = 0;
        let (mut trials, mut before) = (n, 0);
        for (i, &e) in s.rung_epochs.iter().enumerate() {
            if i > 0 {
                trials = plan::promoted(trials, 3);
            }
            expected += trials * (e - before);
            before = e;
        }
        expected += trials * 9 * 2 + 2 * 9;
        assert_eq!(s.total_work(), expected);
    }

    #[test]
    fn options_out_of_range_are_refused() {
        let mut o = options(None, 1);
        o.eta = 1;
        assert!(
            Search::prepare(o, SPACE.into())
                .unwrap_err()
                .to_string()
                .starts_with("--eta")
        );
        let mut o = options(None, 1);
        o.validation = 60_000;
        assert!(
            Search::prepare(o, SPACE.into())
                .unwrap_err()
                .to_string()
                .starts_with("--validation")
        );
    }
}
