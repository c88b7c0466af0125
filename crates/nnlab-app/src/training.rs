//! A training run from request to finished folder, for every front end (`nnlab mnist train`, and the
//! coming `search` and the web app's Train button): [`TrainRequest::plan`] checks everything that can be
//! wrong with the request before anything is written; [`execute`] trains into a [`RunFolder`], saving
//! the checkpoints, metrics and progress after every step or epoch, and stops cleanly on request or on
//! divergence. The front end watches through [`Event`]s (progress bars, plots) and prints the outcome.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use nnlab_mnist::training::{Checkpoint, EpochRecord, Finish, Progress, TrainConfig, TrainEvent, load_recipe, train};
use nnlab_mnist::{Mnist, ModelSpec};

use crate::brief::{Brief, BriefResult};
use crate::model::{recipe_model, resolve_model};
use crate::overrides::RecipeOverrides;
use crate::run_folder::{RunFolder, Stopped};
use crate::{AppError, Result};

/// What a run is asked for: the values of `train`'s flags.
#[derive(Debug, Clone, Default)]
pub struct TrainRequest {
    /// `--model NAME|FILE` (default: the recipe's model, else the seed model).
    pub model: Option<String>,
    /// A model file's text itself, named `design` (the web designer's model); overrides `model`.
    pub model_text: Option<String>,
    /// `--recipe NAME|FILE` (default: seed).
    pub recipe: Option<String>,
    /// Values over the recipe.
    pub overrides: RecipeOverrides,
    /// `--brief NAME|CLAUSES` (default: the recipe's own brief, else seed).
    pub brief: Option<String>,
    /// `--resume FILE`: continue that checkpoint's run.
    pub resume: Option<PathBuf>,
    /// `--until-epoch K`: train on the full run's schedule but stop cleanly after epoch K (a rung of a
    /// search: a later `--resume` continues the same run, so the rung is a prefix of the full run).
    pub until_epoch: Option<usize>,
}

/// A checked request: what will train, how, and against which brief.
#[derive(Debug)]
pub struct TrainPlan {
    /// The model.
    pub spec: ModelSpec,
    /// The recipe, with the model's text (written as config.json).
    pub config: TrainConfig,
    /// The brief judged after every epoch.
    pub brief: Brief,
    /// The checkpoint continued, with its file.
    pub resume: Option<(PathBuf, Checkpoint)>,
    /// On resume with more epochs: the change recorded in config.json ("resumed after epoch 3: epochs 3 → 5").
    pub epochs_change: Option<String>,
    /// Stop cleanly after this epoch (before the last).
    pub until_epoch: Option<usize>,
}

impl TrainRequest {
    /// Checks the request and builds the plan; nothing is written.
    pub fn plan(&self) -> Result<TrainPlan> {
        let mut brief = self.brief.as_deref().map(Brief::parse).transpose()?;
        let resume = self.resume.as_deref().map(load_resume).transpose()?;
        let spec = self.model_spec(resume.as_ref().map(|(_, ck)| ck))?;
        let had = resume.as_ref().and_then(|(_, ck)| ck.config.as_ref());
        let mut config = match had {
            Some(had) => self.overrides.resumed(had, self.recipe.as_deref())?,
            None => {
                let base = load_recipe(self.recipe.as_deref().unwrap_or("seed"))
                    .map_err(|e| AppError::invalid(format!("--recipe {e}")))?;
                self.overrides.new_run(base)?
            }
        };
        config.model = spec.name.clone();
        config.model_text = Some(spec.source.clone());
        let epochs_change = match (&resume, had) {
            (Some((_, ck)), Some(had)) if had.epochs != config.epochs => Some(format!(
                "resumed after epoch {}: epochs {} → {}",
                ck.epoch, had.epochs, config.epochs
            )),
            _ => None,
        };
        config.changes.extend(epochs_change.clone());
        if let Some((_, ck)) = &resume
            && ck.epoch >= config.epochs
        {
            return Err(AppError::invalid(format!(
                "--resume: the checkpoint has already completed {} of {} epochs (raise --epochs to continue)",
                ck.epoch, config.epochs
            )));
        }
        if brief.is_none() {
            let text = config.brief.clone().unwrap_or_else(|| "seed".into());
            brief = Some(Brief::parse(&text).map_err(|e| AppError::invalid(format!("the recipe's brief: {e}")))?);
        }
        let brief = brief.expect("set above");
        config.brief = Some(brief.name.clone().unwrap_or_else(|| brief.text.clone()));
        let done = resume.as_ref().map_or(0, |(_, ck)| ck.epoch);
        if let Some(k) = self.until_epoch
            && (k <= done || k > config.epochs)
        {
            return Err(AppError::invalid(format!(
                "--until-epoch {k}: must be after the {done} epoch(s) already run and at most the run's {} epochs",
                config.epochs
            )));
        }
        let until_epoch = self.until_epoch.filter(|&k| k < config.epochs);
        Ok(TrainPlan {
            spec,
            config,
            brief,
            resume,
            epochs_change,
            until_epoch,
        })
    }

    /// The model: a resumed checkpoint's own (a differing `--model` refused), else `--model`, else the
    /// recipe's, else the seed model.
    fn model_spec(&self, resume: Option<&Checkpoint>) -> Result<ModelSpec> {
        let given = match &self.model_text {
            Some(text) => Some(design_model(text)?),
            None => self.model.as_deref().map(resolve_model).transpose()?,
        };
        match (resume, given) {
            (Some(ck), given) => {
                let own = ck.model.spec().clone();
                if let Some(given) = given
                    && given.layers != own.layers
                {
                    return Err(AppError::invalid(format!(
                        "--model {}: --resume continues the checkpoint's own model '{}', which differs; leave --model out",
                        given.name, own.name
                    )));
                }
                Ok(own)
            }
            (None, Some(given)) => Ok(given),
            (None, None) => match &self.recipe {
                Some(recipe) => recipe_model(recipe),
                None => resolve_model("seed"),
            },
        }
    }
}

fn load_resume(path: &Path) -> Result<(PathBuf, Checkpoint)> {
    if !path.is_file() {
        return Err(AppError::invalid(format!(
            "--resume {}: no such checkpoint file",
            path.display()
        )));
    }
    Ok((path.to_path_buf(), Checkpoint::load(path, None)?))
}

/// The designer's model text, parsed and checked for MNIST (errors name the line, as for a file).
pub fn design_model(text: &str) -> Result<ModelSpec> {
    let spec = ModelSpec::parse("design", "model", text).map_err(|e| AppError::invalid(e.to_string()))?;
    nnlab_mnist::check_for_mnist(&spec).map_err(|e| AppError::invalid(format!("model: {e}")))?;
    Ok(spec)
}

/// What a front end sees of a run as it goes, after the folder has been written for it.
#[derive(Debug)]
pub enum Event<'a> {
    /// An epoch begins.
    EpochStart {
        /// Epoch, from 1.
        epoch: usize,
        /// Batches in it.
        batches: usize,
    },
    /// A batch finished.
    Batch(&'a Progress),
    /// The epoch's training is done; the evaluation set is being evaluated.
    Evaluating,
    /// An epoch finished and its checkpoint, metrics and verdict are written.
    EpochEnd {
        /// The epoch's record.
        record: &'a EpochRecord,
        /// Every epoch so far.
        records: &'a [EpochRecord],
    },
}

/// The newest complete checkpoint of a run: its file and the epoch it holds.
pub type Saved = (PathBuf, usize);

/// How a run ended.
#[derive(Debug)]
pub enum RunEnd {
    /// Every epoch ran; the brief's verdict.
    Finished {
        /// The verdict on the whole run.
        verdict: BriefResult,
        /// Every epoch.
        records: Vec<EpochRecord>,
    },
    /// Stopped on request during `epoch`, after `batch` of its `batches` steps.
    Interrupted {
        /// The epoch under way.
        epoch: usize,
        /// Steps done in it.
        batch: usize,
        /// Steps in the epoch.
        batches: usize,
        /// The checkpoint to resume from, if any epoch had finished.
        saved: Option<Saved>,
        /// The finished epochs.
        records: Vec<EpochRecord>,
    },
    /// Stopped as asked after epoch `epoch` of the full run (`--until-epoch`); `--resume` continues it.
    Paused {
        /// The last epoch run.
        epoch: usize,
        /// Its checkpoint.
        saved: Saved,
        /// The finished epochs.
        records: Vec<EpochRecord>,
    },
    /// A step's loss or gradient was not finite.
    Diverged {
        /// The epoch of the failed step, from 1.
        epoch: usize,
        /// The step, counted over the whole run.
        step: usize,
        /// The learning rate it would have used.
        lr: f32,
        /// What was not finite.
        detail: String,
        /// The last finite checkpoint, if any epoch had finished.
        saved: Option<Saved>,
        /// The finished epochs.
        records: Vec<EpochRecord>,
    },
}

/// Why the engine's callback stopped the run.
enum Halt<E> {
    Stop { epoch: usize, batch: usize, batches: usize },
    Pause { records: Vec<EpochRecord> },
    Failed(E),
}

/// Trains `plan` into `folder` (which must exist): config.json and model.model first, then after every
/// epoch the checkpoints, metrics and the brief's verdict, and progress.json as it goes. `stop` is
/// checked after every step (Ctrl-C, a stop request). The folder's files are complete whatever the end.
pub fn execute<E: From<AppError>>(
    plan: TrainPlan,
    mnist: &Mnist,
    folder: &RunFolder,
    stop: &AtomicBool,
    observe: &mut dyn FnMut(Event<'_>) -> Result<(), E>,
) -> Result<RunEnd, E> {
    let TrainPlan {
        spec,
        config,
        brief,
        resume,
        until_epoch,
        ..
    } = plan;
    folder.write_start(&config, &spec.source)?;
    let params = spec.params();
    let mut saved: Option<Saved> = resume.as_ref().map(|(path, ck)| (path.clone(), ck.epoch));
    let mut progress = folder.progress(config.epochs);
    let judge = |records: &[EpochRecord]| brief.judge(records, &spec, config.epochs);
    let result = train(&config, &spec, mnist, resume.map(|(_, ck)| ck), &mut |event| -> Result<
        (),
        Halt<E>,
    > {
        match event {
            TrainEvent::EpochStart { epoch, batches } => {
                observe(Event::EpochStart { epoch, batches }).map_err(Halt::Failed)
            }
            TrainEvent::Batch(p) => {
                if stop.load(Ordering::SeqCst) {
                    return Err(Halt::Stop {
                        epoch: p.epoch,
                        batch: p.batch,
                        batches: p.batches,
                    });
                }
                progress.step(&p).map_err(|e| Halt::Failed(e.into()))?;
                observe(Event::Batch(&p)).map_err(Halt::Failed)
            }
            TrainEvent::Evaluating => observe(Event::Evaluating).map_err(Halt::Failed),
            TrainEvent::EpochEnd { record, state, is_best } => {
                let mut write = || -> Result<()> {
                    state.save(&folder.last_checkpoint())?;
                    if is_best {
                        state.save(&folder.best_checkpoint())?;
                    }
                    folder.write_metrics(&state.records, params, Some(&judge(&state.records)), None)
                };
                write().map_err(|e| Halt::Failed(e.into()))?;
                saved = Some((folder.last_checkpoint(), state.epoch));
                observe(Event::EpochEnd {
                    record,
                    records: &state.records,
                })
                .map_err(Halt::Failed)?;
                if until_epoch == Some(state.epoch) {
                    return Err(Halt::Pause {
                        records: state.records.clone(),
                    });
                }
                Ok(())
            }
        }
    });
    let (state, finish) = match result {
        Ok(done) => done,
        Err(Halt::Failed(e)) => return Err(e),
        Err(Halt::Pause { records }) => {
            progress.end("paused")?;
            let saved = saved.expect("a paused run saved its epoch");
            let epoch = saved.1;
            return Ok(RunEnd::Paused { epoch, saved, records });
        }
        Err(Halt::Stop { epoch, batch, batches }) => {
            let records = match &saved {
                Some((file, _)) => Checkpoint::load(file, None).map_err(AppError::from)?.records,
                None => Vec::new(),
            };
            let stopped = Stopped::Interrupted {
                epoch,
                step_in_epoch: batch,
            };
            folder.write_metrics(&records, params, Some(&judge(&records)), Some(&stopped))?;
            progress.end("interrupted")?;
            return Ok(RunEnd::Interrupted {
                epoch,
                batch,
                batches,
                saved,
                records,
            });
        }
    };
    if let Finish::Diverged {
        epoch,
        step,
        lr,
        reason,
    } = finish
    {
        let detail = reason.to_string();
        let stopped = Stopped::Diverged {
            epoch,
            step,
            lr,
            detail: detail.clone(),
        };
        folder.write_metrics(&state.records, params, Some(&judge(&state.records)), Some(&stopped))?;
        progress.end("diverged")?;
        return Ok(RunEnd::Diverged {
            epoch,
            step,
            lr,
            detail,
            saved,
            records: state.records,
        });
    }
    progress.end("finished")?;
    Ok(RunEnd::Finished {
        verdict: judge(&state.records),
        records: state.records,
    })
}
