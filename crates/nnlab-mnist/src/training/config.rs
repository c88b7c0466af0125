//! One struct holds a whole recipe; it is written as `config.json` beside every run.

use serde::{Deserialize, Serialize};

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
            schedule: Schedule::Step {
                step_size: 3,
                gamma: 0.9,
            },
            seed: 1,
            threads: 2,
            crop_probability: 0.1,
            max_degrees: 10.0,
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

    /// The recipe's augmentation.
    pub fn augment(&self) -> Augment {
        Augment {
            crop_probability: self.crop_probability,
            max_degrees: self.max_degrees,
            ..Augment::default()
        }
    }
}
