//! One training step and a full evaluation pass.

use std::sync::Arc;

use nnlab_nn::{Mode, NoProbe, Optimizer, Phase, Probe, Tensor, nll_loss, smoothed_nll_loss};

use crate::data::batches::{Batch, EpochPlan, Prefetcher};
use crate::data::{CLASSES, SIDE, Split};
use nnlab_model::Network;

/// Why a step was not taken: the weights stay as they were before the step (the BatchNorm running
/// statistics of its forward pass may not, which is why a diverged run saves no checkpoint after it).
#[derive(Debug, Clone, PartialEq)]
pub enum NonFinite {
    /// The loss came out NaN or infinite.
    Loss(f64),
    /// A gradient came out NaN or infinite (the parameter tensor's name).
    Gradient(String),
}

impl std::fmt::Display for NonFinite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NonFinite::Loss(l) => write!(f, "the loss is {l}"),
            NonFinite::Gradient(name) => write!(f, "the gradient of {name} is not finite"),
        }
    }
}

/// Forward, loss (cross-entropy, with `label_smoothing` ε as PyTorch's), backward and the optimizer's update
/// on one batch; returns (mean loss, correct predictions), or why the step was refused: a non-finite loss
/// (checked before backward) or gradient (checked before the update), so a diverging run never writes a
/// NaN into the weights.
pub fn train_step(
    model: &mut Network,
    batch: &Batch,
    opt: &Optimizer,
    label_smoothing: f64,
    step_seed: u64,
) -> Result<(f64, usize), NonFinite> {
    train_step_probed(model, batch, opt, label_smoothing, step_seed, &mut NoProbe)
}

/// `train_step`, reporting the wall time of each layer and phase to `probe`.
pub fn train_step_probed(
    model: &mut Network,
    batch: &Batch,
    opt: &Optimizer,
    label_smoothing: f64,
    step_seed: u64,
    probe: &mut impl Probe,
) -> Result<(f64, usize), NonFinite> {
    let x = probe.time("batch", Phase::Data, || {
        Tensor::from_slice([batch.len(), 1, SIDE, SIDE], &batch.images)
    });
    let logits = model.forward_probed(x, Mode::Train, step_seed, probe);
    let out = probe.time("loss", Phase::Forward, || {
        smoothed_nll_loss(&logits, &batch.labels, label_smoothing)
    });
    if !out.loss.is_finite() {
        return Err(NonFinite::Loss(out.loss));
    }
    model.backward_probed(out.grad, probe);
    let mut params = model.named_params_mut();
    if let Some((name, _)) = params.iter().find(|(_, p)| !p.grad.iter().all(|g| g.is_finite())) {
        let name = name.clone();
        // Leave no half-accumulated gradient behind: the step is not taken.
        params.iter_mut().for_each(|(_, p)| p.grad.fill(0.0));
        return Err(NonFinite::Gradient(name));
    }
    probe.time("sgd", Phase::Update, || opt.step(params.into_iter().map(|(_, p)| p)));
    let correct = out
        .predictions
        .iter()
        .zip(&batch.labels)
        .filter(|(p, l)| p == l)
        .count();
    Ok((out.loss, correct))
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
