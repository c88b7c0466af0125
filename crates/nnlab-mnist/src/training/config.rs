//! One struct holds a whole recipe; it is written as `config.json` beside every run.

use serde::{Deserialize, Serialize};

use nnlab_nn::{Adam, Optimizer, Sgd};

use crate::data::augment::Augment;

/// The named recipes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Recipe {
    /// RECIPE.md's recipe exactly: SGD lr 0.01, momentum 0.95, ×0.9 every 3 epochs, 19 epochs.
    Seed,
    /// Same model and budget: batch 128 and a one-cycle schedule (warm-up to a higher peak, cosine down).
    Tuned,
}

/// How the learning rate moves during training.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Schedule {
    /// lr · gamma^⌊epoch/step_size⌋, constant within an epoch (PyTorch StepLR).
    Step {
        /// Epochs between decays.
        step_size: usize,
        /// Decay factor.
        gamma: f32,
    },
    /// Linear warm-up from lr/div to lr over `warmup` of the steps, then cosine to lr/final_div (per step).
    OneCycle {
        /// Fraction of all steps spent warming up.
        warmup: f32,
        /// Starting learning rate is lr/div.
        div: f32,
        /// Final learning rate is lr/final_div.
        final_div: f32,
    },
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

/// Everything that determines a training run (with the model, whose text every checkpoint carries).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Name of the model trained (runs from before model files trained the seed model).
    #[serde(default = "seed_model_name")]
    pub model: String,
    /// Which recipe the values came from.
    pub recipe: Recipe,
    /// Epochs.
    pub epochs: usize,
    /// Batch size (the last partial batch is kept).
    pub batch_size: usize,
    /// Base (or peak) learning rate.
    pub lr: f32,
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
    /// Seed of initialisation, shuffling, augmentation and dropout.
    pub seed: u64,
    /// Threads for the engine.
    pub threads: usize,
    /// Probability of the centre crop + resize.
    pub crop_probability: f64,
    /// Largest rotation in degrees.
    pub max_degrees: f64,
    /// Largest random translation in pixels (0: none; runs from before this field had none).
    #[serde(default)]
    pub max_shift: u32,
    /// Use only the first N training images (quick runs and tests); `None` = all 60,000.
    pub train_limit: Option<usize>,
    /// Use only the first N test images; `None` = all 10,000.
    pub test_limit: Option<usize>,
    /// Legitimate changes made on resuming (e.g. "resumed after epoch 3: epochs 3 → 5"), in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<String>,
}

impl TrainConfig {
    /// The values of a named recipe.
    pub fn recipe(recipe: Recipe) -> Self {
        let seed_recipe = Self {
            model: seed_model_name(),
            recipe,
            epochs: 19,
            batch_size: 256,
            lr: 0.01,
            momentum: 0.95,
            optimizer: OptimizerKind::Sgd,
            nesterov: false,
            weight_decay: 0.0,
            betas: default_betas(),
            eps: default_eps(),
            label_smoothing: 0.0,
            schedule: Schedule::Step {
                step_size: 3,
                gamma: 0.9,
            },
            seed: 1,
            threads: 2,
            crop_probability: 0.1,
            max_degrees: 10.0,
            max_shift: 0,
            train_limit: None,
            test_limit: None,
            changes: Vec::new(),
        };
        match recipe {
            Recipe::Seed => seed_recipe,
            Recipe::Tuned => Self {
                batch_size: 128,
                lr: 0.05,
                momentum: 0.9,
                schedule: Schedule::OneCycle {
                    warmup: 0.2,
                    div: 10.0,
                    final_div: 200.0,
                },
                ..seed_recipe
            },
        }
    }

    /// The optimizer for one step: learning rate `lr`, `step` counted from 1 (Adam's bias corrections).
    pub fn optimizer(&self, lr: f32, step: u64) -> Optimizer {
        match self.optimizer {
            OptimizerKind::Sgd => Optimizer::Sgd(Sgd {
                lr,
                momentum: self.momentum,
                nesterov: self.nesterov,
                weight_decay: self.weight_decay,
            }),
            OptimizerKind::Adam | OptimizerKind::Adamw => Optimizer::Adam(Adam {
                lr,
                beta1: self.betas[0],
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

    /// The recipe's augmentation.
    pub fn augment(&self) -> Augment {
        Augment {
            crop_probability: self.crop_probability,
            max_degrees: self.max_degrees,
            max_shift: self.max_shift,
            ..Augment::default()
        }
    }
}
