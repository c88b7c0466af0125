//! The learning rate (and, for one-cycle, the momentum) at every step of a run, as PyTorch's schedulers
//! compute them: `StepLR` and `CosineAnnealingLR` per epoch, `OneCycleLR` per batch. Computed in f64, as
//! PyTorch does in Python, then rounded to the f32 the optimizer uses.

use super::config::{Schedule, TrainConfig};

/// What the schedule sets for one optimizer step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepHyper {
    /// The learning rate.
    pub lr: f32,
    /// SGD's momentum (Adam's β1) when the schedule moves it, else `None` (the recipe's own).
    pub momentum: Option<f32>,
}

/// Cosine annealing from `start` to `end` at fraction `pct`, PyTorch's `_annealing_cos`.
fn annealing_cos(start: f64, end: f64, pct: f64) -> f64 {
    let cos_out = (std::f64::consts::PI * pct).cos() + 1.0;
    end + (start - end) / 2.0 * cos_out
}

/// PyTorch `OneCycleLR.get_lr` (two phases, cosine) at `step` of `total` steps: (lr, momentum).
#[allow(clippy::too_many_arguments)]
fn one_cycle(
    max_lr: f64,
    step: usize,
    total: usize,
    pct_start: f64,
    div_factor: f64,
    final_div_factor: f64,
    base_momentum: f64,
    max_momentum: f64,
) -> (f64, f64) {
    let initial = max_lr / div_factor;
    let min_lr = initial / final_div_factor;
    let phase1_end = pct_start * total as f64 - 1.0;
    let phase2_end = total as f64 - 1.0;
    let step = step as f64;
    if step <= phase1_end {
        let pct = step / phase1_end;
        (
            annealing_cos(initial, max_lr, pct),
            annealing_cos(max_momentum, base_momentum, pct),
        )
    } else {
        let pct = (step - phase1_end) / (phase2_end - phase1_end);
        (
            annealing_cos(max_lr, min_lr, pct),
            annealing_cos(base_momentum, max_momentum, pct),
        )
    }
}

/// The schedule's values for `step` (0-based, counted over the whole run) in `epoch` (0-based).
pub fn step_hyper(config: &TrainConfig, epoch: usize, step: usize, steps_per_epoch: usize) -> StepHyper {
    let lr = |x: f64| StepHyper {
        lr: x as f32,
        momentum: None,
    };
    match config.schedule {
        Schedule::Step { step_size, gamma } => StepHyper {
            lr: nnlab_nn::StepLr {
                base: config.lr as f32,
                step_size,
                gamma,
            }
            .lr(epoch),
            momentum: None,
        },
        Schedule::Constant => StepHyper {
            lr: config.lr as f32,
            momentum: None,
        },
        Schedule::Cosine { t_max, eta_min } => {
            let t_max = t_max.unwrap_or(config.epochs).max(1) as f64;
            let base = config.lr;
            lr(eta_min + (base - eta_min) * (1.0 + (std::f64::consts::PI * epoch as f64 / t_max).cos()) / 2.0)
        }
        Schedule::OneCycle {
            pct_start,
            div_factor,
            final_div_factor,
            cycle_momentum,
            base_momentum,
            max_momentum,
        } => {
            let total = (config.epochs * steps_per_epoch).max(2);
            let (rate, momentum) = one_cycle(
                config.lr,
                step.min(total - 1),
                total,
                pct_start,
                div_factor,
                final_div_factor,
                base_momentum,
                max_momentum,
            );
            StepHyper {
                lr: rate as f32,
                momentum: cycle_momentum.then_some(momentum as f32),
            }
        }
        Schedule::WarmupCosine { warmup, div, final_div } => {
            let total = (config.epochs * steps_per_epoch).max(1) as f32;
            let t = step as f32 / total;
            let peak = config.lr as f32;
            let (start, end) = (peak / div, peak / final_div);
            StepHyper {
                lr: if t < warmup {
                    start + (peak - start) * t / warmup
                } else {
                    let progress = ((t - warmup) / (1.0 - warmup)).min(1.0);
                    end + (peak - end) * 0.5 * (1.0 + (std::f32::consts::PI * progress).cos())
                },
                momentum: None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::training::recipe_file::shipped_recipe;

    fn learning_rate(config: &TrainConfig, epoch: usize, step: usize, steps_per_epoch: usize) -> f32 {
        step_hyper(config, epoch, step, steps_per_epoch).lr
    }

    fn with(schedule: Schedule, lr: f64, epochs: usize) -> TrainConfig {
        TrainConfig {
            schedule,
            lr,
            epochs,
            ..shipped_recipe("seed").unwrap()
        }
    }

    #[test]
    fn seed_recipe_decays_every_three_epochs() {
        let c = shipped_recipe("seed").unwrap();
        assert_eq!(learning_rate(&c, 0, 0, 235), 0.01);
        assert!((learning_rate(&c, 3, 999, 235) - 0.009).abs() < 1e-9);
        assert!((learning_rate(&c, 18, 0, 235) - 0.01 * 0.9f32.powi(6)).abs() < 1e-9);
    }

    #[test]
    fn warmup_cosine_rises_to_the_peak_then_falls() {
        let c = shipped_recipe("tuned").unwrap();
        let total = c.epochs * 100;
        let lrs: Vec<f32> = (0..total).map(|s| learning_rate(&c, s / 100, s, 100)).collect();
        let peak = lrs.iter().copied().fold(0.0, f32::max);
        let top = c.lr as f32;
        assert!((peak - top).abs() < 1e-3);
        assert!(lrs[0] < top / 5.0 && *lrs.last().unwrap() < top / 50.0);
    }

    /// Values printed by PyTorch 2.15: `OneCycleLR(SGD(lr=0.1, momentum=0.9), max_lr=0.1, total_steps=100)`,
    /// the group's lr and momentum before each `optimizer.step()`.
    #[test]
    fn one_cycle_is_pytorchs_one_cycle_lr() {
        let c = with(
            Schedule::OneCycle {
                pct_start: 0.3,
                div_factor: 25.0,
                final_div_factor: 1e4,
                cycle_momentum: true,
                base_momentum: 0.85,
                max_momentum: 0.95,
            },
            0.1,
            10,
        );
        let torch = [
            (0, 0.0040000000000000036, 0.95),
            (1, 0.004281378056590748, 0.9497068978577179),
            (10, 0.029516394846410082, 0.9234204220349895),
            (29, 0.1, 0.85),
            (30, 0.09994965352845243, 0.8500503466729342),
            (50, 0.0793893450575732, 0.8706107373853763),
            (98, 5.07464715475788e-05, 0.9499496533270657),
            (99, 4e-07, 0.95),
        ];
        for (step, lr, momentum) in torch {
            let h = step_hyper(&c, step / 10, step, 10);
            assert_eq!(h.lr, lr as f32, "lr at step {step}");
            assert_eq!(h.momentum, Some(momentum as f32), "momentum at step {step}");
        }
        // With Adam it is β1 that moves (PyTorch sets betas[0]); without cycle_momentum nothing moves.
        let mut adam = c.clone();
        adam.optimizer = crate::training::config::OptimizerKind::Adam;
        let h = step_hyper(&adam, 0, 0, 10);
        match adam.optimizer(h.lr, h.momentum, 1) {
            nnlab_nn::Optimizer::Adam(a) => assert_eq!(a.beta1, 0.95),
            other => panic!("{other:?}"),
        }
        adam.schedule = Schedule::OneCycle {
            pct_start: 0.3,
            div_factor: 25.0,
            final_div_factor: 1e4,
            cycle_momentum: false,
            base_momentum: 0.85,
            max_momentum: 0.95,
        };
        assert_eq!(step_hyper(&adam, 0, 5, 10).momentum, None);
    }

    /// PyTorch 2.15: `CosineAnnealingLR(SGD(lr=0.1), T_max=15, eta_min=0.001)`, lr in epochs 0, 1, 7, 14.
    #[test]
    fn cosine_is_pytorchs_cosine_annealing_lr() {
        let c = with(
            Schedule::Cosine {
                t_max: None,
                eta_min: 0.001,
            },
            0.1,
            15,
        );
        for (epoch, lr) in [
            (0, 0.1),
            (1, 0.09891830623632339),
            (7, 0.05567415893174885),
            (14, 0.0020816937636766184),
        ] {
            let ours = learning_rate(&c, epoch, epoch * 50, 50);
            assert!(
                (ours - lr as f32).abs() <= f32::EPSILON * lr as f32,
                "epoch {epoch}: {ours} vs {lr}"
            );
        }
        let constant = with(Schedule::Constant, 0.03, 5);
        assert!((0..5).all(|e| learning_rate(&constant, e, e * 7, 7) == 0.03));
    }
}
