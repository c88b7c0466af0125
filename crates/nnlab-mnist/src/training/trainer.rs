//! The epoch loop: shuffled, augmented batches prepared ahead on a worker thread; one SGD step per
//! batch (and, with `ema_decay`, one update of the weight average); evaluation on the test set after every
//! epoch; events for progress bars and checkpoints.

use std::sync::Arc;
use std::time::Instant;

use super::averaging::update_average;
use super::checkpoint::Checkpoint;
use super::config::TrainConfig;
use super::metrics::EpochRecord;
use super::schedule::step_hyper;
use super::step::{NonFinite, evaluate, train_step};
use crate::data::batches::{EpochPlan, Prefetcher};
use crate::data::{Mnist, Split};
use nnlab_model::{ModelSpec, Network};

/// Running numbers of the current epoch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    /// Epoch, from 1.
    pub epoch: usize,
    /// Batches done in this epoch.
    pub batch: usize,
    /// Batches in the epoch.
    pub batches: usize,
    /// Mean loss so far this epoch.
    pub loss: f64,
    /// Accuracy so far this epoch.
    pub accuracy: f64,
    /// Training throughput so far this epoch.
    pub images_per_sec: f64,
    /// Current learning rate.
    pub lr: f32,
}

/// What the trainer reports while it runs.
#[derive(Debug)]
pub enum TrainEvent<'a> {
    /// An epoch begins.
    EpochStart {
        /// Epoch, from 1.
        epoch: usize,
        /// Batches in it.
        batches: usize,
    },
    /// A batch finished.
    Batch(Progress),
    /// Training of the epoch is done; the test set is being evaluated.
    Evaluating,
    /// An epoch finished: its record, and the state to checkpoint (`is_best`: best test accuracy so far).
    EpochEnd {
        /// The epoch's metrics.
        record: &'a EpochRecord,
        /// Everything needed to resume after this epoch.
        state: &'a mut Checkpoint,
        /// Whether this epoch has the best test accuracy so far.
        is_best: bool,
    },
}

/// How a training run ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Finish {
    /// Every epoch ran.
    Completed,
    /// A step's loss or gradient was not finite: training stopped before applying it.
    Diverged {
        /// Epoch of the failed step, from 1.
        epoch: usize,
        /// Its optimizer step, from 1 (counted over the whole run).
        step: usize,
        /// The learning rate it would have used.
        lr: f32,
        /// What was not finite.
        reason: NonFinite,
    },
}

/// A per-step seed for dropout masks.
fn step_seed(seed: u64, step: usize) -> u64 {
    seed.wrapping_mul(0xA24B_AED4_963E_E407) ^ (step as u64).wrapping_mul(0x9FB2_1C65_1E98_DF25)
}

/// Trains `model` from scratch (or the model of `resume` from where it stopped) to `config.epochs`,
/// calling `on_event` as it goes. Returns the state after the last completed epoch and how the run
/// ended; a diverging step ends it at once (its state is then not the one to save). Stops early with
/// the callback's error.
pub fn train<E>(
    config: &TrainConfig,
    model: &ModelSpec,
    data: &Mnist,
    resume: Option<Checkpoint>,
    on_event: &mut dyn FnMut(TrainEvent) -> Result<(), E>,
) -> Result<(Checkpoint, Finish), E> {
    // With a validation hold-out, the last N training images are the evaluation set and never trained on.
    let (train_pool, test_pool) = match config.validation {
        Some(n) => {
            let cut = data.train.len().saturating_sub(n);
            (data.train.take(cut), data.train.skip(cut))
        }
        None => (data.train.clone(), data.test.clone()),
    };
    let train_split = Arc::new(match config.train_limit {
        Some(n) => train_pool.take(n),
        None => train_pool,
    });
    let test_split: Arc<Split> = Arc::new(match config.test_limit {
        Some(n) => test_pool.take(n),
        None => test_pool,
    });
    let mut state = resume.unwrap_or_else(|| Checkpoint {
        model: Network::new(model, config.seed),
        training: None,
        epoch: 0,
        step: 0,
        config: Some(config.clone()),
        records: Vec::new(),
    });
    state.config = Some(config.clone());
    // With weight averaging, `state.model` is the average (evaluated and checkpointed) and
    // `state.training` the weights under optimisation; the average starts as a copy at its first step.
    let mut first_average = false;
    if config.ema_decay > 0.0 && state.training.is_none() {
        state.training = Some(state.model.clone());
        first_average = true;
    } else if config.ema_decay == 0.0
        && let Some(training) = state.training.take()
    {
        state.model = training;
    }
    let steps_per_epoch = train_split.len().div_ceil(config.batch_size);
    let mut best = state
        .records
        .iter()
        .map(|r| r.test_accuracy)
        .fold(f64::NEG_INFINITY, f64::max);
    for epoch in state.epoch..config.epochs {
        let started = Instant::now();
        let plan = EpochPlan::train(
            train_split.len(),
            config.batch_size,
            config.augment_for(epoch),
            config.seed,
            epoch,
        );
        on_event(TrainEvent::EpochStart {
            epoch: epoch + 1,
            batches: plan.batches(),
        })?;
        let (mut loss_sum, mut correct, mut seen, mut lr) = (0.0, 0usize, 0usize, config.lr as f32);
        for (b, batch) in Prefetcher::start(Arc::clone(&train_split), plan, 1, 4).enumerate() {
            let hyper = step_hyper(config, epoch, state.step, steps_per_epoch);
            lr = hyper.lr;
            let opt = config.optimizer(lr, hyper.momentum, state.step as u64 + 1);
            let (loss, ok) = match train_step(
                state.training.as_mut().unwrap_or(&mut state.model),
                &batch,
                &opt,
                config.label_smoothing,
                step_seed(config.seed, state.step),
            ) {
                Ok(r) => r,
                Err(reason) => {
                    let finish = Finish::Diverged {
                        epoch: epoch + 1,
                        step: state.step + 1,
                        lr,
                        reason,
                    };
                    return Ok((state, finish));
                }
            };
            state.step += 1;
            if let Some(training) = state.training.as_mut() {
                update_average(&mut state.model, training, config.ema_decay, first_average);
                first_average = false;
            }
            loss_sum += loss * batch.len() as f64;
            correct += ok;
            seen += batch.len();
            on_event(TrainEvent::Batch(Progress {
                epoch: epoch + 1,
                batch: b + 1,
                batches: steps_per_epoch,
                loss: loss_sum / seen as f64,
                accuracy: correct as f64 / seen as f64,
                images_per_sec: seen as f64 / started.elapsed().as_secs_f64(),
                lr,
            }))?;
        }
        on_event(TrainEvent::Evaluating)?;
        let eval = evaluate(&mut state.model, &test_split, 1000);
        // With weight averaging, the weights under optimisation are evaluated too, to show what the average adds.
        let raw = state.training.as_mut().map(|t| evaluate(t, &test_split, 1000));
        let record = EpochRecord {
            epoch: epoch + 1,
            train_loss: loss_sum / seen.max(1) as f64,
            train_accuracy: correct as f64 / seen.max(1) as f64,
            test_loss: eval.loss,
            test_accuracy: eval.accuracy,
            lr: lr as f64,
            seconds: started.elapsed().as_secs_f64(),
            raw_test_loss: raw.as_ref().map(|e| e.loss),
            raw_test_accuracy: raw.as_ref().map(|e| e.accuracy),
        };
        state.epoch = epoch + 1;
        state.records.push(record.clone());
        let is_best = record.test_accuracy > best;
        best = best.max(record.test_accuracy);
        on_event(TrainEvent::EpochEnd {
            record: &record,
            state: &mut state,
            is_best,
        })?;
    }
    Ok((state, Finish::Completed))
}
