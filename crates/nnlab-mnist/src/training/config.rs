//! One struct holds a whole recipe; it is written as `config.json` beside every run.

use serde::{Deserialize, Serialize};

use nnlab_nn::{Adam, Optimizer, Sgd};

use crate::data::augment::Augment;

/// How the learning rate (and, for one-cycle, the momentum) moves during training.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", deny_unknown_fields)]
pub enum Schedule {
    /// lr · gamma^⌊epoch/step_size⌋, constant within an epoch (PyTorch `StepLR`, stepped per epoch).
    #[serde(rename = "step")]
    Step {
        /// Epochs between decays.
        step_size: usize,
        /// Decay factor.
        gamma: f32,
    },
    /// PyTorch `OneCycleLR` (stepped per batch; `max_lr` is the recipe's lr, `total_steps` = epochs × batches
    /// per epoch), two-phase cosine annealing; with `cycle_momentum` the SGD momentum (Adam's β1) moves
    /// inversely between `max_momentum` and `base_momentum`. The defaults are PyTorch's.
    #[serde(rename = "onecycle")]
    OneCycle {
        /// Fraction of the steps spent increasing the learning rate.
        #[serde(default = "default_pct_start")]
        pct_start: f64,
        /// The first learning rate is max_lr / div_factor.
        #[serde(default = "default_div_factor")]
        div_factor: f64,
        /// The last learning rate is max_lr / div_factor / final_div_factor.
        #[serde(default = "default_final_div_factor")]
        final_div_factor: f64,
        /// Move the momentum inversely to the learning rate.
        #[serde(default = "default_true")]
        cycle_momentum: bool,
        /// Momentum at the learning rate's peak.
        #[serde(default = "default_base_momentum")]
        base_momentum: f64,
        /// Momentum at the start and the end.
        #[serde(default = "default_max_momentum")]
        max_momentum: f64,
    },
    /// PyTorch `CosineAnnealingLR` stepped per epoch: eta_min + (lr − eta_min)(1 + cos(π·epoch/t_max))/2.
    #[serde(rename = "cosine")]
    Cosine {
        /// Epochs of the half cosine (default: the recipe's epochs).
        #[serde(default)]
        t_max: Option<usize>,
        /// The lowest learning rate.
        #[serde(default)]
        eta_min: f64,
    },
    /// The same learning rate throughout.
    #[serde(rename = "constant")]
    Constant,
    /// nnlab's warm-up + cosine (the `tuned` recipe's): linear from lr/div to lr over `warmup` of the steps,
    /// then cosine to lr/final_div, per step. Runs before recipe files called it `one_cycle`.
    #[serde(rename = "warmup_cosine", alias = "one_cycle")]
    WarmupCosine {
        /// Fraction of all steps spent warming up.
        warmup: f32,
        /// Starting learning rate is lr/div.
        div: f32,
        /// Final learning rate is lr/final_div.
        final_div: f32,
    },
}

impl Schedule {
    /// The schedule in words, for logs and reports.
    pub fn describe(&self) -> String {
        match *self {
            Schedule::Step { step_size, gamma } => format!("step: ×{gamma} every {step_size} epochs"),
            Schedule::OneCycle {
                pct_start,
                div_factor,
                final_div_factor,
                cycle_momentum,
                base_momentum,
                max_momentum,
            } => format!(
                "one-cycle (PyTorch OneCycleLR, per step): from lr/{div_factor} up to lr over {:.0} % of the steps, cosine down to lr/{}{}",
                pct_start * 100.0,
                div_factor * final_div_factor,
                if cycle_momentum {
                    format!(", momentum {max_momentum} → {base_momentum} → {max_momentum}")
                } else {
                    String::new()
                }
            ),
            Schedule::Cosine { t_max, eta_min } => format!(
                "cosine annealing per epoch down to {eta_min}{}",
                t_max.map_or(String::new(), |t| format!(" over {t} epochs"))
            ),
            Schedule::Constant => "constant".into(),
            Schedule::WarmupCosine { warmup, div, final_div } => format!(
                "warm-up + cosine (per step): from lr/{div} up to lr over {:.0} % of the steps, cosine down to lr/{final_div}",
                warmup * 100.0
            ),
        }
    }
}

fn default_pct_start() -> f64 {
    0.3
}
fn default_div_factor() -> f64 {
    25.0
}
fn default_final_div_factor() -> f64 {
    1e4
}
fn default_true() -> bool {
    true
}
fn default_base_momentum() -> f64 {
    0.85
}
fn default_max_momentum() -> f64 {
    0.95
}
fn default_crop_side() -> usize {
    22
}

fn is_zero(v: &f64) -> bool {
    *v == 0.0
}

fn is_zero_epochs(v: &usize) -> bool {
    *v == 0
}

fn seed_model_name() -> String {
    "seed".into()
}

fn default_betas() -> [f32; 2] {
    [0.9, 0.999]
}

fn default_eps() -> f32 {
    1e-8
}

/// Which optimizer a recipe uses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OptimizerKind {
    /// SGD with momentum (and optionally Nesterov and L2 weight decay), as `torch.optim.SGD`.
    #[default]
    Sgd,
    /// `torch.optim.Adam`.
    Adam,
    /// `torch.optim.AdamW`.
    Adamw,
}

/// Everything that determines a training run. Written as `config.json` beside every run, with the model's
/// text, so `--recipe RUN/config.json` re-creates the run from its folder alone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    /// Name of the model trained (runs from before model files trained the seed model).
    #[serde(default = "seed_model_name")]
    pub model: String,
    /// The model file's text, so the run can be re-created without the file (absent in older runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_text: Option<String>,
    /// Which recipe the values came from: a shipped name or the recipe file's name.
    pub recipe: String,
    /// Epochs.
    pub epochs: usize,
    /// Batch size (the last partial batch is kept).
    pub batch_size: usize,
    /// Base (or peak) learning rate (f64 as PyTorch's schedulers compute with it; the optimizer uses f32).
    pub lr: f64,
    /// SGD momentum (dampening 0).
    pub momentum: f32,
    /// The optimizer (runs from before this field trained with SGD).
    #[serde(default)]
    pub optimizer: OptimizerKind,
    /// SGD: Nesterov momentum.
    #[serde(default)]
    pub nesterov: bool,
    /// Weight decay: L2 for SGD and Adam, decoupled for AdamW.
    #[serde(default)]
    pub weight_decay: f32,
    /// Adam/AdamW: decay rates of the first and second moments.
    #[serde(default = "default_betas")]
    pub betas: [f32; 2],
    /// Adam/AdamW: added to the denominator.
    #[serde(default = "default_eps")]
    pub eps: f32,
    /// Label smoothing ε of the training loss (PyTorch's `CrossEntropyLoss(label_smoothing=ε)`); the test
    /// loss stays the plain negative log-likelihood.
    #[serde(default)]
    pub label_smoothing: f64,
    /// Learning-rate schedule.
    pub schedule: Schedule,
    /// Weight averaging: the decay of an exponential moving average of the weights and BatchNorm
    /// statistics, updated after every step and evaluated (and checkpointed) instead of the weights under
    /// optimisation (PyTorch's `AveragedModel` with `get_ema_multi_avg_fn(decay)`, `use_buffers=True`);
    /// 0 = off (runs from before this field had none).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub ema_decay: f64,
    /// Seed of initialisation, shuffling, augmentation and dropout.
    pub seed: u64,
    /// Threads for the engine.
    pub threads: usize,
    /// Probability of the centre crop + resize.
    pub crop_probability: f64,
    /// Side of the centre crop (resized back to 28).
    #[serde(default = "default_crop_side")]
    pub crop_side: usize,
    /// Largest rotation in degrees.
    pub max_degrees: f64,
    /// Largest random translation in pixels (0: none; runs from before this field had none).
    #[serde(default)]
    pub max_shift: u32,
    /// The last N epochs train on the images as they are, without augmentation (0: every epoch augmented;
    /// runs from before this field had none), so the final low-rate steps and the BatchNorm statistics fit
    /// the undistorted digits the test set holds.
    #[serde(default, skip_serializing_if = "is_zero_epochs")]
    pub clean_epochs: usize,
    /// Use only the first N training images (quick runs and tests); `None` = all 60,000.
    pub train_limit: Option<usize>,
    /// Use only the first N test images; `None` = all 10,000.
    pub test_limit: Option<usize>,
    /// Hold out the last N of the 60,000 training images and evaluate on them instead of the test set
    /// (for choosing hyperparameters honestly; the test set stays unseen). The `test_*` metrics of such a
    /// run are validation metrics.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation: Option<usize>,
    /// The brief the recipe is meant for (a name such as `8k`, or clauses), judged when no `--brief` is
    /// given; `None`: the seed brief.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brief: Option<String>,
    /// The MNIST folder the run read (absolute), so `report` finds the same data without flags; not part
    /// of the recipe (absent in older runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<std::path::PathBuf>,
    /// Legitimate changes made on resuming (e.g. "resumed after epoch 3: epochs 3 → 5"), in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<String>,
}

impl TrainConfig {
    /// The optimizer for one step: learning rate `lr`, `momentum` when the schedule moves it (SGD's
    /// momentum, Adam's β1), `step` counted from 1 (Adam's bias corrections).
    pub fn optimizer(&self, lr: f32, momentum: Option<f32>, step: u64) -> Optimizer {
        match self.optimizer {
            OptimizerKind::Sgd => Optimizer::Sgd(Sgd {
                lr,
                momentum: momentum.unwrap_or(self.momentum),
                nesterov: self.nesterov,
                weight_decay: self.weight_decay,
            }),
            OptimizerKind::Adam | OptimizerKind::Adamw => Optimizer::Adam(Adam {
                lr,
                beta1: momentum.unwrap_or(self.betas[0]),
                beta2: self.betas[1],
                eps: self.eps,
                weight_decay: self.weight_decay,
                decoupled: self.optimizer == OptimizerKind::Adamw,
                step,
            }),
        }
    }

    /// The optimizer in words, as a log line shows it.
    pub fn optimizer_text(&self) -> String {
        let wd = if self.weight_decay != 0.0 {
            format!(", weight decay {}", self.weight_decay)
        } else {
            String::new()
        };
        match self.optimizer {
            OptimizerKind::Sgd => format!(
                "SGD, lr {}, momentum {}{}{wd}",
                self.lr,
                self.momentum,
                if self.nesterov { " (Nesterov)" } else { "" }
            ),
            kind => format!(
                "{}, lr {}, betas ({}, {}), eps {:e}{wd}",
                if kind == OptimizerKind::Adam { "Adam" } else { "AdamW" },
                self.lr,
                self.betas[0],
                self.betas[1],
                self.eps
            ),
        }
    }

    /// Whether 0-based `epoch` is one of the last `clean_epochs`, trained without augmentation.
    pub fn is_clean_epoch(&self, epoch: usize) -> bool {
        epoch + self.clean_epochs >= self.epochs
    }

    /// The augmentation of 0-based `epoch`: the recipe's, or `None` (the images as they are, the test
    /// transform) in the last `clean_epochs`.
    pub fn augment_for(&self, epoch: usize) -> Option<Augment> {
        (!self.is_clean_epoch(epoch)).then(|| self.augment())
    }

    /// The recipe's augmentation.
    pub fn augment(&self) -> Augment {
        Augment {
            crop_probability: self.crop_probability,
            crop_side: self.crop_side,
            max_degrees: self.max_degrees,
            max_shift: self.max_shift,
        }
    }
}
