//! The optimizers, each exactly as PyTorch updates: SGD with momentum (dampening 0: v = μ·v + g; w −= lr·v),
//! Nesterov momentum and L2 weight decay; Adam; AdamW (decoupled weight decay). And a step schedule.

use crate::Param;

/// Stochastic gradient descent with momentum, as `torch.optim.SGD` (dampening 0).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sgd {
    /// Learning rate.
    pub lr: f32,
    /// Momentum μ.
    pub momentum: f32,
    /// Nesterov momentum: the step is g + μ·v instead of v.
    pub nesterov: bool,
    /// L2 penalty: g += weight_decay·w before the momentum.
    pub weight_decay: f32,
}

impl Sgd {
    /// Plain momentum SGD (no Nesterov, no weight decay).
    pub fn new(lr: f32, momentum: f32) -> Self {
        Self {
            lr,
            momentum,
            nesterov: false,
            weight_decay: 0.0,
        }
    }

    /// Updates every parameter from its gradient, then zeroes the gradient.
    pub fn step<'a>(&self, params: impl IntoIterator<Item = &'a mut Param>) {
        let (mu, lr, wd) = (self.momentum, self.lr, self.weight_decay);
        for p in params {
            let Param {
                value, grad, velocity, ..
            } = p;
            if !self.nesterov && wd == 0.0 {
                for ((w, g), v) in value.iter_mut().zip(grad.iter_mut()).zip(velocity.iter_mut()) {
                    *v = mu * *v + *g;
                    *w -= lr * *v;
                    *g = 0.0;
                }
                continue;
            }
            for ((w, g), v) in value.iter_mut().zip(grad.iter_mut()).zip(velocity.iter_mut()) {
                let d = *g + wd * *w;
                *v = mu * *v + d;
                *w -= lr * if self.nesterov { d + mu * *v } else { *v };
                *g = 0.0;
            }
        }
    }
}

/// Adam, as `torch.optim.Adam` (L2 weight decay added to the gradient) or, `decoupled`,
/// `torch.optim.AdamW` (w ← w·(1 − lr·weight_decay) before the step).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Adam {
    /// Learning rate.
    pub lr: f32,
    /// Decay of the first moment.
    pub beta1: f32,
    /// Decay of the second moment.
    pub beta2: f32,
    /// Added to the denominator.
    pub eps: f32,
    /// Weight decay (L2 for Adam, decoupled for AdamW).
    pub weight_decay: f32,
    /// AdamW's decoupled weight decay.
    pub decoupled: bool,
    /// The step being taken, from 1 (for the bias corrections).
    pub step: u64,
}

impl Adam {
    /// Updates every parameter from its gradient, then zeroes the gradient.
    pub fn step<'a>(&self, params: impl IntoIterator<Item = &'a mut Param>) {
        let (b1, b2, lr, wd) = (self.beta1, self.beta2, self.lr, self.weight_decay);
        let t = self.step.max(1) as i32;
        let bias1 = 1.0 - (b1 as f64).powi(t);
        let bias2_sqrt = (1.0 - (b2 as f64).powi(t)).sqrt();
        let step_size = (lr as f64 / bias1) as f32;
        let bias2_sqrt = bias2_sqrt as f32;
        for p in params {
            if p.second.len() != p.value.len() {
                p.second = vec![0.0; p.value.len()];
            }
            let Param {
                value,
                grad,
                velocity,
                second,
                ..
            } = p;
            for (((w, g), m), v) in value
                .iter_mut()
                .zip(grad.iter_mut())
                .zip(velocity.iter_mut())
                .zip(second.iter_mut())
            {
                let d = if self.decoupled {
                    *w *= 1.0 - lr * wd;
                    *g
                } else {
                    *g + wd * *w
                };
                *m = b1 * *m + (1.0 - b1) * d;
                *v = b2 * *v + (1.0 - b2) * d * d;
                *w -= step_size * *m / (v.sqrt() / bias2_sqrt + self.eps);
                *g = 0.0;
            }
        }
    }
}

/// Any of the optimizers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Optimizer {
    /// SGD (momentum, Nesterov, weight decay).
    Sgd(Sgd),
    /// Adam or AdamW.
    Adam(Adam),
}

impl Optimizer {
    /// Updates every parameter from its gradient, then zeroes the gradient.
    pub fn step<'a>(&self, params: impl IntoIterator<Item = &'a mut Param>) {
        match self {
            Optimizer::Sgd(s) => s.step(params),
            Optimizer::Adam(a) => a.step(params),
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
        let sgd = Sgd::new(0.1, 0.9);
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

    /// Two steps by hand, from PyTorch's update rules: w = 1, g = 1 then g = 0.5.
    #[test]
    fn nesterov_weight_decay_adam_and_adamw_follow_pytorch() {
        let run = |opt: &dyn Fn(u64) -> Optimizer| {
            let mut p = Param::new(vec![1], vec![1.0]);
            for (t, g) in [(1, 1.0), (2, 0.5)] {
                p.grad[0] = g;
                opt(t).step([&mut p]);
            }
            p.value[0] as f64
        };
        // SGD, μ = 0.9, wd = 0.1, Nesterov: d1 = 1.1, v1 = 1.1, w1 = 1 − 0.1·(1.1 + 0.99) = 0.791;
        // d2 = 0.5 + 0.0791 = 0.5791, v2 = 0.99 + 0.5791 = 1.5691, w2 = 0.791 − 0.1·(0.5791 + 1.41219).
        let sgd = run(&|_| {
            Optimizer::Sgd(Sgd {
                lr: 0.1,
                momentum: 0.9,
                nesterov: true,
                weight_decay: 0.1,
            })
        });
        assert!((sgd - (0.791 - 0.1 * (0.5791 + 0.9 * 1.5691))).abs() < 1e-6, "{sgd}");
        // Adam, lr 0.1, β = (0.9, 0.999), eps 1e-8, wd 0: step 1 moves by lr·m̂/√v̂ = 0.1 exactly;
        // step 2: m = 0.09 + 0.05 = 0.14, v = 0.000999 + 0.00025 = 0.001249 (×0.999 and + 0.001·0.25),
        // m̂ = 0.14/0.19, v̂ = 0.0012490/0.001999.
        let adam = |decoupled, wd| {
            run(&move |t| {
                Optimizer::Adam(Adam {
                    lr: 0.1,
                    beta1: 0.9,
                    beta2: 0.999,
                    eps: 1e-8,
                    weight_decay: wd,
                    decoupled,
                    step: t,
                })
            })
        };
        let v2: f64 = 0.999 * 0.001 + 0.001 * 0.25;
        let step2 = 0.1 * (0.14 / 0.19) / ((v2 / (1.0 - 0.999f64.powi(2))).sqrt() + 1e-8);
        let plain = adam(false, 0.0);
        assert!((plain - (1.0 - 0.1 - step2)).abs() < 1e-6, "{plain}");
        // AdamW, wd 0.1: w ← w·0.99 before each step, the gradient untouched.
        let w = adam(true, 0.1);
        assert!((w - ((1.0 * 0.99 - 0.1) * 0.99 - step2)).abs() < 1e-6, "{w}");
        // Adam with L2, wd 0.1: d1 = 1.1 (step 1 still moves by exactly lr), d2 = 0.5 + 0.1·0.9 = 0.59.
        let l2 = adam(false, 0.1);
        let (m2, v2) = (0.9 * 0.11 + 0.1 * 0.59, 0.999 * 0.001 * 1.21 + 0.001 * 0.59f64.powi(2));
        let step2 = 0.1 * (m2 / 0.19) / ((v2 / (1.0 - 0.999f64.powi(2))).sqrt() + 1e-8);
        assert!((l2 - (0.9 - step2)).abs() < 1e-6, "{l2}");
    }
}
