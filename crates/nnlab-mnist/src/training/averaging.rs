//! Weight averaging: an exponential moving average (EMA) of the weights and the BatchNorm running
//! statistics, kept beside the weights under optimisation and evaluated instead of them. It is PyTorch's
//! `AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(decay), use_buffers=True)` with
//! `update_parameters(model)` after every optimizer step: the first update copies the weights, every later
//! one moves each average towards the current value, `avg += (1 − decay)·(current − avg)` (`torch.lerp`).
//! Why: late in a schedule the weights still wander from batch to batch, and so does the test accuracy of
//! the last epochs; their average over the last few hundred steps is steadier and usually a little better.

use nnlab_model::Network;

/// Moves `average` one EMA step towards `current` (the same model): every parameter, running mean and
/// running variance; `num_batches_tracked` is copied (PyTorch leaves integer buffers to the model's count).
/// `first` (the run's first step) copies instead, as `AveragedModel` does on its first update.
pub fn update_average(average: &mut Network, current: &mut Network, decay: f64, first: bool) {
    let weight = (1.0 - decay) as f32;
    let blend = |avg: &mut [f32], cur: &[f32]| {
        debug_assert_eq!(avg.len(), cur.len(), "the same model");
        if first {
            avg.copy_from_slice(cur);
        } else {
            avg.iter_mut().zip(cur).for_each(|(a, &c)| *a += weight * (c - *a));
        }
    };
    for ((_, a), (_, c)) in average.named_params_mut().into_iter().zip(current.named_params_mut()) {
        blend(&mut a.value, &c.value);
    }
    for ((_, a), (_, c)) in average.batch_norms_mut().into_iter().zip(current.batch_norms_mut()) {
        blend(&mut a.running_mean, &c.running_mean);
        blend(&mut a.running_var, &c.running_var);
        a.batches_tracked = c.batches_tracked;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::seed_model;

    fn first_weight(net: &mut Network) -> f32 {
        net.named_params_mut()[0].1.value[0]
    }

    #[test]
    fn the_first_update_copies_then_each_moves_by_one_minus_decay_of_the_difference() {
        let mut current = Network::new(&seed_model(), 1);
        let mut average = Network::new(&seed_model(), 2);
        update_average(&mut average, &mut current, 0.9, true);
        assert_eq!(first_weight(&mut average), first_weight(&mut current), "first: a copy");

        // Hand computation: avg 0.5, current 1.5 → 0.5 + 0.1·(1.5 − 0.5) = 0.6; then current −0.5 →
        // 0.6 + 0.1·(−0.5 − 0.6) = 0.49. The running statistics move alike; the batch count is copied.
        average.named_params_mut()[0].1.value[0] = 0.5;
        current.named_params_mut()[0].1.value[0] = 1.5;
        {
            let (_, bn) = &mut current.batch_norms_mut()[0];
            bn.running_mean[0] = 2.0;
            bn.running_var[0] = 3.0;
            bn.batches_tracked = 7;
        }
        {
            let (_, bn) = &mut average.batch_norms_mut()[0];
            bn.running_mean[0] = 0.0;
            bn.running_var[0] = 1.0;
        }
        update_average(&mut average, &mut current, 0.9, false);
        assert!((first_weight(&mut average) - 0.6).abs() < 1e-7);
        let (_, bn) = &mut average.batch_norms_mut()[0];
        assert!((bn.running_mean[0] - 0.2).abs() < 1e-7);
        assert!((bn.running_var[0] - 1.2).abs() < 1e-7);
        assert_eq!(bn.batches_tracked, 7);
        current.named_params_mut()[0].1.value[0] = -0.5;
        update_average(&mut average, &mut current, 0.9, false);
        assert!((first_weight(&mut average) - 0.49).abs() < 1e-7);
    }

    #[test]
    fn every_parameter_takes_part() {
        let mut current = Network::new(&seed_model(), 1);
        let mut average = current.clone();
        for (_, p) in current.named_params_mut() {
            p.value.iter_mut().for_each(|v| *v += 1.0);
        }
        update_average(&mut average, &mut current, 0.75, false);
        let mut before = Network::new(&seed_model(), 1);
        for ((name, a), (_, b)) in average.named_params_mut().into_iter().zip(before.named_params_mut()) {
            for (x, y) in a.value.iter().zip(&b.value) {
                assert!((x - (y + 0.25)).abs() < 1e-6, "{name}: {x} vs {y} + 0.25");
            }
        }
    }
}
