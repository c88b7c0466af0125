//! SGD with momentum in PyTorch's form (dampening 0): v = μ·v + g; w −= lr·v. And a step schedule.

use crate::Param;

/// Stochastic gradient descent with momentum.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sgd {
    /// Learning rate.
    pub lr: f32,
    /// Momentum μ.
    pub momentum: f32,
}

impl Sgd {
    /// Updates every parameter from its gradient, then zeroes the gradient.
    pub fn step<'a>(&self, params: impl IntoIterator<Item = &'a mut Param>) {
        for p in params {
            for ((w, g), v) in p.value.iter_mut().zip(p.grad.iter_mut()).zip(p.velocity.iter_mut()) {
                *v = self.momentum * *v + *g;
                *w -= self.lr * *v;
                *g = 0.0;
            }
        }
    }
}

/// lr = base · γ^⌊epoch / step_size⌋ (epochs counted from 0), as PyTorch's StepLR.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepLr {
    /// Learning rate of the first epochs.
    pub base: f32,
    /// Epochs between decays.
    pub step_size: usize,
    /// Decay factor.
    pub gamma: f32,
}

impl StepLr {
    /// Learning rate during `epoch` (0-based).
    pub fn lr(&self, epoch: usize) -> f32 {
        self.base * self.gamma.powi((epoch / self.step_size.max(1)) as i32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn momentum_and_schedule_follow_pytorch() {
        let mut p = Param::new(vec![1], vec![1.0]);
        let sgd = Sgd { lr: 0.1, momentum: 0.9 };
        p.grad[0] = 1.0;
        sgd.step([&mut p]);
        assert!((p.value[0] - 0.9).abs() < 1e-7 && p.grad[0] == 0.0);
        p.grad[0] = 1.0;
        sgd.step([&mut p]);
        assert!((p.velocity[0] - 1.9).abs() < 1e-6 && (p.value[0] - (0.9 - 0.19)).abs() < 1e-6);
        let s = StepLr {
            base: 0.01,
            step_size: 3,
            gamma: 0.9,
        };
        assert_eq!(s.lr(0), 0.01);
        assert_eq!(s.lr(2), 0.01);
        assert!((s.lr(3) - 0.009).abs() < 1e-9 && (s.lr(6) - 0.0081).abs() < 1e-9);
    }
}
