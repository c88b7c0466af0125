//! One training step and a full evaluation pass.

use std::sync::Arc;

use nnlab_nn::{Mode, NoProbe, Phase, Probe, Sgd, Tensor, nll_loss};

use crate::data::batches::{Batch, EpochPlan, Prefetcher};
use crate::data::{CLASSES, SIDE, Split};
use nnlab_model::Network;

/// Forward, loss, backward and SGD update on one batch; returns (mean loss, correct predictions).
pub fn train_step(model: &mut Network, batch: &Batch, sgd: &Sgd, step_seed: u64) -> (f64, usize) {
    train_step_probed(model, batch, sgd, step_seed, &mut NoProbe)
}

/// `train_step`, reporting the wall time of each layer and phase to `probe`.
pub fn train_step_probed(
    model: &mut Network,
    batch: &Batch,
    sgd: &Sgd,
    step_seed: u64,
    probe: &mut impl Probe,
) -> (f64, usize) {
    let x = probe.time("batch", Phase::Data, || {
        Tensor::from_slice([batch.len(), 1, SIDE, SIDE], &batch.images)
    });
    let logits = model.forward_probed(x, Mode::Train, step_seed, probe);
    let out = probe.time("loss", Phase::Forward, || nll_loss(&logits, &batch.labels));
    model.backward_probed(out.grad, probe);
    probe.time("sgd", Phase::Update, || sgd.step(model.params_mut()));
    let correct = out
        .predictions
        .iter()
        .zip(&batch.labels)
        .filter(|(p, l)| p == l)
        .count();
    (out.loss, correct)
}

/// The result of evaluating on a split.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// Mean negative log-likelihood.
    pub loss: f64,
    /// Fraction correct.
    pub accuracy: f64,
    /// Predicted class of every image.
    pub predictions: Vec<u8>,
    /// Class probabilities of every image (N × 10).
    pub probabilities: Vec<f32>,
}

/// Evaluates `model` on `split` (test transform, running BN statistics, no dropout).
pub fn evaluate(model: &mut Network, split: &Arc<Split>, batch_size: usize) -> Evaluation {
    let plan = EpochPlan::eval(split.len(), batch_size);
    let (mut loss_sum, mut predictions, mut probabilities) = (0.0, Vec::with_capacity(split.len()), Vec::new());
    for batch in Prefetcher::start(Arc::clone(split), plan, 1, 2) {
        let x = Tensor::from_vec([batch.len(), 1, SIDE, SIDE], batch.images);
        let out = nll_loss(&model.forward(x, Mode::Eval, 0), &batch.labels);
        loss_sum += out.loss * batch.labels.len() as f64;
        predictions.extend(out.predictions);
        probabilities.extend(out.log_probs.iter().map(|lp| lp.exp()));
    }
    let correct = predictions.iter().zip(&split.labels).filter(|(p, l)| p == l).count();
    let n = split.len().max(1) as f64;
    debug_assert_eq!(probabilities.len(), split.len() * CLASSES);
    Evaluation {
        loss: loss_sum / n,
        accuracy: correct as f64 / n,
        predictions,
        probabilities,
    }
}
