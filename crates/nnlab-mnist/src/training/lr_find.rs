//! The learning-rate range test (as fastai's `lr_find` and torch-lr-finder run it): one pass of
//! mini-batches from a fresh model (the recipe's optimizer) with the learning rate growing exponentially from `start` to `end`,
//! the loss smoothed, stopped once it diverges; the suggestion is the rate where the smoothed loss falls
//! fastest.

use std::sync::Arc;

use nnlab_model::{ModelSpec, Network};

use super::config::TrainConfig;
use super::step::train_step;
use crate::data::Split;
use crate::data::batches::{EpochPlan, Prefetcher};

/// Settings of one range test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RangeTest {
    /// First learning rate.
    pub start: f64,
    /// Last learning rate.
    pub end: f64,
    /// Steps (mini-batches), at most one epoch's worth.
    pub steps: usize,
    /// Smoothing of the loss: an exponential moving average with this weight on the past (bias-corrected).
    pub beta: f64,
    /// Stop once the smoothed loss exceeds this multiple of its lowest value.
    pub diverge_factor: f64,
}

impl Default for RangeTest {
    /// 1e-7 → 10 over 100 steps, β = 0.95 (torch-lr-finder's smoothing: fastai's 0.98 lags a 100-step
    /// test by a decade of learning rate), stop at 4× the lowest smoothed loss.
    fn default() -> Self {
        Self {
            start: 1e-7,
            end: 10.0,
            steps: 100,
            beta: 0.95,
            diverge_factor: 4.0,
        }
    }
}

/// One step of the test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// Learning rate of the step.
    pub lr: f64,
    /// The batch's loss.
    pub loss: f64,
    /// The smoothed loss: a centred moving average, so it does not lag.
    pub smoothed: f64,
}

/// What the test found.
#[derive(Debug, Clone, PartialEq)]
pub struct RangeResult {
    /// Every step taken.
    pub points: Vec<Point>,
    /// The rate where the smoothed loss falls fastest against log(lr).
    pub suggested: f64,
    /// The rate of the lowest smoothed loss.
    pub min_loss_lr: f64,
    /// Why the test stopped before its last step, if it did.
    pub stopped: Option<String>,
}

/// Learning rate of step `i` of `steps`: start·(end/start)^(i/(steps−1)).
pub fn lr_at(test: &RangeTest, i: usize) -> f64 {
    let t = if test.steps > 1 {
        i as f64 / (test.steps - 1) as f64
    } else {
        0.0
    };
    test.start * (test.end / test.start).powf(t)
}

/// The rate of steepest descent of the smoothed loss (skipping the noisy first tenth) and of the lowest
/// smoothed loss; `None` with fewer than three points.
pub fn suggest(points: &[Point]) -> Option<(f64, f64)> {
    if points.len() < 3 {
        return None;
    }
    let min = points.iter().min_by(|a, b| a.smoothed.total_cmp(&b.smoothed))?;
    // Only up to the minimum: past it the loss climbs, and the fall that matters is before.
    let upto = points
        .iter()
        .position(|p| p.smoothed == min.smoothed)
        .unwrap_or(points.len() - 1);
    let skip = (points.len() / 10).min(upto.saturating_sub(1));
    let slope = |i: usize| {
        let (a, b) = (&points[i - 1], &points[i + 1]);
        (b.smoothed - a.smoothed) / (b.lr.ln() - a.lr.ln())
    };
    let steepest = (skip.max(1)..upto.min(points.len() - 1))
        .min_by(|&i, &j| slope(i).total_cmp(&slope(j)))
        .map_or(min.lr / 10.0, |i| points[i].lr);
    Some((steepest, min.lr))
}

/// Replaces each point's causal moving average by a centred one: the mean of the losses within `half`
/// steps on either side. It does not lag (a causal average trails a 100-step test by a decade or more of
/// learning rate), and a divergence spike at the end reaches back only `half` steps.
fn centre(points: &mut [Point], half: usize) {
    let losses: Vec<f64> = points.iter().map(|p| p.loss).collect();
    for (i, p) in points.iter_mut().enumerate() {
        let window = &losses[i.saturating_sub(half)..(i + half + 1).min(losses.len())];
        p.smoothed = window.iter().sum::<f64>() / window.len() as f64;
    }
}

/// Runs the test on `train` with the model, the recipe's batch size, momentum, augmentation and seed.
pub fn range_test(spec: &ModelSpec, config: &TrainConfig, train: &Arc<Split>, test: &RangeTest) -> RangeResult {
    let mut model = Network::new(spec, config.seed);
    let plan = EpochPlan::train(train.len(), config.batch_size, Some(config.augment()), config.seed, 0);
    let mut points = Vec::new();
    let (mut avg, mut best, mut stopped) = (0.0, f64::INFINITY, None);
    for (i, batch) in Prefetcher::start(Arc::clone(train), plan, 1, 4)
        .take(test.steps)
        .enumerate()
    {
        let lr = lr_at(test, i);
        let opt = config.optimizer(lr as f32, None, i as u64 + 1);
        let loss = match train_step(&mut model, &batch, &opt, config.label_smoothing, i as u64) {
            Ok((loss, _)) => loss,
            Err(why) => {
                stopped = Some(format!("diverged at lr {lr:.3e}: {why}"));
                break;
            }
        };
        avg = test.beta * avg + (1.0 - test.beta) * loss;
        let smoothed = avg / (1.0 - test.beta.powi(i as i32 + 1));
        points.push(Point { lr, loss, smoothed });
        best = best.min(smoothed);
        if smoothed > test.diverge_factor * best {
            stopped = Some(format!(
                "diverged at lr {lr:.3e}: the running average of the loss, {smoothed:.3}, passed {}× its lowest, {best:.3}",
                test.diverge_factor
            ));
            break;
        }
    }
    centre(&mut points, (test.steps / 40).max(2));
    let (suggested, min_loss_lr) = suggest(&points).unwrap_or((test.start, test.start));
    RangeResult {
        points,
        suggested,
        min_loss_lr,
        stopped,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_grow_exponentially_and_the_steepest_fall_is_found() {
        let test = RangeTest {
            start: 1e-4,
            end: 1.0,
            steps: 5,
            ..RangeTest::default()
        };
        let lrs: Vec<f64> = (0..5).map(|i| lr_at(&test, i)).collect();
        for (got, want) in lrs.iter().zip([1e-4, 1e-3, 1e-2, 1e-1, 1.0]) {
            assert!((got / want - 1.0).abs() < 1e-12, "{got} vs {want}");
        }
        // A loss that is flat, falls steeply around lr = 1e-2, bottoms out, then climbs.
        let losses = [2.0, 2.0, 1.99, 1.9, 1.0, 0.5, 0.45, 0.44, 0.6, 3.0];
        let points: Vec<Point> = losses
            .iter()
            .enumerate()
            .map(|(i, &l)| Point {
                lr: 10f64.powi(i as i32 - 6),
                loss: l,
                smoothed: l,
            })
            .collect();
        let (steepest, at_min) = suggest(&points).unwrap();
        assert_eq!(at_min, 10f64.powi(1));
        assert!((steepest / 1e-2 - 1.0).abs() < 1e-12, "{steepest}");
    }

    #[test]
    fn the_centred_average_does_not_lag_a_falling_loss() {
        // A loss that drops from 2 to 1 at step 50: a causal average is still high at step 55, the
        // centred one is halfway at the drop and at 1 a window's width later.
        let mut points: Vec<Point> = (0..100)
            .map(|i| Point {
                lr: i as f64,
                loss: if i < 50 { 2.0 } else { 1.0 },
                smoothed: 0.0,
            })
            .collect();
        centre(&mut points, 5);
        assert!(points[44].smoothed == 2.0 && points[55].smoothed == 1.0);
        assert!(
            points[47].smoothed > 1.6 && points[53].smoothed < 1.4,
            "{:?}",
            &points[45..55]
        );
    }
}
