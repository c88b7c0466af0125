//! The learning rate at every step of a run.

use super::config::{Schedule, TrainConfig};

/// Learning rate for `step` (0-based, within the whole run) of epoch `epoch` (0-based).
pub fn learning_rate(config: &TrainConfig, epoch: usize, step: usize, steps_per_epoch: usize) -> f32 {
    match config.schedule {
        Schedule::Step { step_size, gamma } => nnlab_nn::StepLr {
            base: config.lr,
            step_size,
            gamma,
        }
        .lr(epoch),
        Schedule::OneCycle { warmup, div, final_div } => {
            let total = (config.epochs * steps_per_epoch).max(1) as f32;
            let t = step as f32 / total;
            let (start, end) = (config.lr / div, config.lr / final_div);
            if t < warmup {
                start + (config.lr - start) * t / warmup
            } else {
                let progress = ((t - warmup) / (1.0 - warmup)).min(1.0);
                end + (config.lr - end) * 0.5 * (1.0 + (std::f32::consts::PI * progress).cos())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::training::config::Recipe;

    #[test]
    fn seed_recipe_decays_every_three_epochs() {
        let c = TrainConfig::recipe(Recipe::Seed);
        assert_eq!(learning_rate(&c, 0, 0, 235), 0.01);
        assert!((learning_rate(&c, 3, 999, 235) - 0.009).abs() < 1e-9);
        assert!((learning_rate(&c, 18, 0, 235) - 0.01 * 0.9f32.powi(6)).abs() < 1e-9);
    }

    #[test]
    fn one_cycle_rises_to_the_peak_then_falls() {
        let c = TrainConfig::recipe(Recipe::Tuned);
        let total = c.epochs * 100;
        let lrs: Vec<f32> = (0..total).map(|s| learning_rate(&c, s / 100, s, 100)).collect();
        let peak = lrs.iter().copied().fold(0.0, f32::max);
        assert!((peak - c.lr).abs() < 1e-3);
        assert!(lrs[0] < c.lr / 5.0 && *lrs.last().unwrap() < c.lr / 50.0);
    }
}
