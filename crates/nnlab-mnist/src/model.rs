//! The 18,934-parameter MNIST CNN of RECIPE.md, layer for layer as its architecture table.

use nnlab_nn::{Conv2d, ConvBlock, GlobalAvgPool, Linear, MaxPool2, Mode, NoProbe, Param, Phase, Probe, Tensor};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Dropout probability of every block.
pub const DROPOUT: f32 = 0.1;

/// The network. Field names follow the table in RECIPE.md.
#[derive(Debug, Clone)]
pub struct Cnn {
    /// conv 3×3, 1→12, pad 0, block (BN momentum 0.1): 12×26×26.
    pub c1: ConvBlock,
    /// conv 3×3, 12→24, pad 0, block (BN momentum 0.1): 24×24×24.
    pub c2: ConvBlock,
    /// conv 1×1, 24→12: 12×24×24.
    pub t1: Conv2d,
    /// max-pool 2×2: 12×12×12.
    pub p1: MaxPool2,
    /// conv 3×3, 12→20, pad 0, block (BN momentum 0.2): 20×10×10.
    pub c3: ConvBlock,
    /// conv 3×3, 20→32, pad 1, block (BN momentum 0.2): 32×10×10.
    pub c4: ConvBlock,
    /// conv 1×1, 32→16: 16×10×10.
    pub t2: Conv2d,
    /// max-pool 2×2: 16×5×5.
    pub p2: MaxPool2,
    /// conv 3×3, 16→16, pad 1, block (BN momentum 0.2): 16×5×5.
    pub c5: ConvBlock,
    /// conv 3×3, 16→32, pad 1, block (BN momentum 0.2): 32×5×5.
    pub c6: ConvBlock,
    /// global average pool: 32.
    pub gap: GlobalAvgPool,
    /// linear 32→10 with bias.
    pub fc: Linear,
}

/// One row of the torchsummary-style table.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerSummary {
    /// Name in the architecture table.
    pub name: &'static str,
    /// What the layer does.
    pub op: &'static str,
    /// Output shape C×H×W.
    pub output: [usize; 3],
    /// Trainable parameters.
    pub params: usize,
    /// Receptive field after the layer.
    pub receptive_field: usize,
    /// Jump (input pixels between adjacent outputs).
    pub jump: usize,
}

/// A deterministic seed for the dropout masks of one layer at one training step.
fn dropout_seed(step_seed: u64, layer: u64) -> u64 {
    step_seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ layer.wrapping_mul(0xC2B2_AE3D_27D4_EB4F)
}

impl Cnn {
    /// A freshly initialised network (PyTorch's default initialisation, seeded).
    pub fn new(seed: u64) -> Self {
        let rng = &mut ChaCha8Rng::seed_from_u64(seed);
        Self {
            c1: ConvBlock::new(1, 12, 3, 0, 0.1, DROPOUT, rng),
            c2: ConvBlock::new(12, 24, 3, 0, 0.1, DROPOUT, rng),
            t1: Conv2d::new(24, 12, 1, 0, rng),
            p1: MaxPool2::default(),
            c3: ConvBlock::new(12, 20, 3, 0, 0.2, DROPOUT, rng),
            c4: ConvBlock::new(20, 32, 3, 1, 0.2, DROPOUT, rng),
            t2: Conv2d::new(32, 16, 1, 0, rng),
            p2: MaxPool2::default(),
            c5: ConvBlock::new(16, 16, 3, 1, 0.2, DROPOUT, rng),
            c6: ConvBlock::new(16, 32, 3, 1, 0.2, DROPOUT, rng),
            gap: GlobalAvgPool::default(),
            fc: Linear::new(32, 10, rng),
        }
    }

    /// Images [N, 1, 28, 28] → logits [N, 10, 1, 1]. `step_seed` picks the dropout masks in training.
    pub fn forward(&mut self, x: Tensor, mode: Mode, step_seed: u64) -> Tensor {
        self.forward_probed(x, mode, step_seed, &mut NoProbe)
    }

    /// `forward`, reporting each layer's wall time to `probe`.
    pub fn forward_probed(&mut self, x: Tensor, mode: Mode, step_seed: u64, probe: &mut impl Probe) -> Tensor {
        let keep = mode == Mode::Train;
        let seed = |layer| dropout_seed(step_seed, layer);
        let f = Phase::Forward;
        let x = probe.time("c1", f, || self.c1.forward(x, mode, seed(1))); // 12×26×26
        let x = probe.time("c2", f, || self.c2.forward(x, mode, seed(2))); // 24×24×24
        let x = probe.time("t1", f, || self.t1.forward(x, keep)); // 12×24×24
        let x = probe.time("p1", f, || self.p1.forward(x, keep)); // 12×12×12
        let x = probe.time("c3", f, || self.c3.forward(x, mode, seed(3))); // 20×10×10
        let x = probe.time("c4", f, || self.c4.forward(x, mode, seed(4))); // 32×10×10
        let x = probe.time("t2", f, || self.t2.forward(x, keep)); // 16×10×10
        let x = probe.time("p2", f, || self.p2.forward(x, keep)); // 16×5×5
        let x = probe.time("c5", f, || self.c5.forward(x, mode, seed(5))); // 16×5×5
        let x = probe.time("c6", f, || self.c6.forward(x, mode, seed(6))); // 32×5×5
        let x = probe.time("gap", f, || self.gap.forward(x)); // 32×1×1
        probe.time("fc", f, || self.fc.forward(x)) // 10
    }

    /// Backpropagates ∂loss/∂logits through every layer, accumulating parameter gradients.
    pub fn backward(&mut self, dlogits: Tensor) {
        self.backward_probed(dlogits, &mut NoProbe)
    }

    /// `backward`, reporting each layer's wall time to `probe`.
    pub fn backward_probed(&mut self, dlogits: Tensor, probe: &mut impl Probe) {
        let b = Phase::Backward;
        let d = probe.time("fc", b, || self.fc.backward(&dlogits));
        let d = probe.time("gap", b, || self.gap.backward(d));
        let d = probe.time("c6", b, || self.c6.backward(d, true).expect("input gradient"));
        let d = probe.time("c5", b, || self.c5.backward(d, true).expect("input gradient"));
        let d = probe.time("p2", b, || self.p2.backward(d));
        let d = probe.time("t2", b, || self.t2.backward(&d, true).expect("input gradient"));
        let d = probe.time("c4", b, || self.c4.backward(d, true).expect("input gradient"));
        let d = probe.time("c3", b, || self.c3.backward(d, true).expect("input gradient"));
        let d = probe.time("p1", b, || self.p1.backward(d));
        let d = probe.time("t1", b, || self.t1.backward(&d, true).expect("input gradient"));
        let d = probe.time("c2", b, || self.c2.backward(d, true).expect("input gradient"));
        probe.time("c1", b, || self.c1.backward(d, false));
    }

    /// The blocks in order with their PyTorch module names, and the two 1×1 transitions and the head.
    #[allow(clippy::type_complexity)]
    fn parts_mut(
        &mut self,
    ) -> (
        [(&'static str, &mut ConvBlock); 6],
        [(&'static str, &mut Param); 2],
        &mut Linear,
    ) {
        let Cnn {
            c1,
            c2,
            t1,
            c3,
            c4,
            t2,
            c5,
            c6,
            fc,
            ..
        } = self;
        (
            [
                ("convblock1", c1),
                ("convblock2", c2),
                ("convblock4", c3),
                ("convblock5", c4),
                ("convblock7", c5),
                ("convblock8", c6),
            ],
            [("convblock3", &mut t1.weight), ("convblock6", &mut t2.weight)],
            fc,
        )
    }

    /// Every trainable tensor with its PyTorch name, in a fixed order.
    pub fn named_params_mut(&mut self) -> Vec<(String, &mut Param)> {
        let (blocks, transitions, fc) = self.parts_mut();
        let mut out = Vec::new();
        for (name, b) in blocks {
            out.push((format!("{name}.0.weight"), &mut b.conv.weight));
            out.push((format!("{name}.2.weight"), &mut b.bn.gamma));
            out.push((format!("{name}.2.bias"), &mut b.bn.beta));
        }
        for (name, w) in transitions {
            out.push((format!("{name}.0.weight"), w));
        }
        out.push(("fc.weight".into(), &mut fc.weight));
        out.push(("fc.bias".into(), &mut fc.bias));
        out
    }

    /// Every trainable tensor, for the optimizer.
    pub fn params_mut(&mut self) -> Vec<&mut Param> {
        self.named_params_mut().into_iter().map(|(_, p)| p).collect()
    }

    /// BatchNorm running statistics by PyTorch name: (prefix, running mean, running var, batches tracked).
    pub fn batch_norms_mut(&mut self) -> Vec<(&'static str, &mut nnlab_nn::BatchNorm2d)> {
        self.parts_mut()
            .0
            .into_iter()
            .map(|(name, b)| (name, &mut b.bn))
            .collect()
    }

    /// Number of trainable parameters.
    pub fn parameter_count(&mut self) -> usize {
        self.params_mut().iter().map(|p| p.len()).sum()
    }

    /// The architecture table: output shape, parameters, receptive field and jump per layer.
    pub fn summary() -> Vec<LayerSummary> {
        // (name, op, out C×H×W, params, kernel, stride)
        type Row = (&'static str, &'static str, [usize; 3], usize, usize, usize);
        let rows: [Row; 12] = [
            (
                "c1",
                "conv 3×3 1→12 + ReLU + BN + Dropout",
                [12, 26, 26],
                108 + 24,
                3,
                1,
            ),
            (
                "c2",
                "conv 3×3 12→24 + ReLU + BN + Dropout",
                [24, 24, 24],
                2592 + 48,
                3,
                1,
            ),
            ("t1", "conv 1×1 24→12", [12, 24, 24], 288, 1, 1),
            ("p1", "max-pool 2×2 /2", [12, 12, 12], 0, 2, 2),
            (
                "c3",
                "conv 3×3 12→20 + ReLU + BN + Dropout",
                [20, 10, 10],
                2160 + 40,
                3,
                1,
            ),
            (
                "c4",
                "conv 3×3 20→32 pad 1 + ReLU + BN + Dropout",
                [32, 10, 10],
                5760 + 64,
                3,
                1,
            ),
            ("t2", "conv 1×1 32→16", [16, 10, 10], 512, 1, 1),
            ("p2", "max-pool 2×2 /2", [16, 5, 5], 0, 2, 2),
            (
                "c5",
                "conv 3×3 16→16 pad 1 + ReLU + BN + Dropout",
                [16, 5, 5],
                2304 + 32,
                3,
                1,
            ),
            (
                "c6",
                "conv 3×3 16→32 pad 1 + ReLU + BN + Dropout",
                [32, 5, 5],
                4608 + 64,
                3,
                1,
            ),
            ("gap", "global average pool", [32, 1, 1], 0, 0, 1),
            ("fc", "linear 32→10 + bias, log-softmax", [10, 1, 1], 330, 0, 1),
        ];
        let (mut rf, mut jump) = (1, 1);
        rows.iter()
            .map(|&(name, op, output, params, k, stride)| {
                if k > 0 {
                    rf += (k - 1) * jump;
                    jump *= stride;
                }
                LayerSummary {
                    name,
                    op,
                    output,
                    params,
                    receptive_field: rf,
                    jump,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nnlab_nn::nll_loss;

    #[test]
    fn has_exactly_the_recipes_parameters_and_shapes() {
        let mut net = Cnn::new(0);
        assert_eq!(net.parameter_count(), 18_934);
        let summary = Cnn::summary();
        assert_eq!(summary.iter().map(|r| r.params).sum::<usize>(), 18_934);
        assert_eq!(
            summary.iter().map(|r| r.receptive_field).collect::<Vec<_>>(),
            [3, 5, 5, 6, 10, 14, 14, 16, 24, 32, 32, 32]
        );
        let y = net.forward(Tensor::zeros([2, 1, 28, 28]), Mode::Eval, 0);
        assert_eq!(y.shape, [2, 10, 1, 1]);
    }

    /// Reductions run in fixed chunk order, so the gradients are bitwise the same on any thread count.
    #[test]
    fn gradients_do_not_depend_on_the_thread_count() {
        let n = 10;
        let x = Tensor::from_vec(
            [n, 1, 28, 28],
            (0..n * 784).map(|i| ((i * 37) % 101) as f32 / 50.0 - 1.0).collect(),
        );
        let labels: Vec<u8> = (0..n).map(|i| (i % 10) as u8).collect();
        let grads = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| {
                let mut net = Cnn::new(7);
                let out = nll_loss(&net.forward(x.clone(), Mode::Train, 5), &labels);
                net.backward(out.grad);
                net.params_mut().into_iter().map(|p| p.grad.clone()).collect::<Vec<_>>()
            })
        };
        let one = grads(1);
        assert!(one.iter().flatten().any(|g| *g != 0.0));
        assert_eq!(one, grads(3));
    }

    /// The whole model's gradient against central differences of the loss, in training mode (fixed
    /// dropout masks, batch statistics). For each parameter tensor the directional derivative along a
    /// random unit direction of ±1/√n entries is compared: single coordinates of a ReLU/max-pool network in f32 sit too
    /// often near a kink, while a direction averages over them and still exposes any mis-scaled layer.
    #[test]
    fn whole_model_gradient_matches_finite_differences() {
        let n = 8;
        // Random pixels: repeated patterns would make max-pool ties, where the derivative is undefined.
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let images: Vec<f32> = (0..n * 784)
            .map(|_| rand::RngExt::random_range(&mut rng, -1.0f32..1.0))
            .collect();
        let labels: Vec<u8> = (0..n).map(|i| (i * 3 % 10) as u8).collect();
        let x = Tensor::from_vec([n, 1, 28, 28], images);
        let base = Cnn::new(3);
        let loss = |net: &mut Cnn| nll_loss(&net.forward(x.clone(), Mode::Train, 11), &labels).loss;
        let mut net = base.clone();
        let out = nll_loss(&net.forward(x.clone(), Mode::Train, 11), &labels);
        net.backward(out.grad);
        let analytic: Vec<(String, Vec<f32>)> = net
            .named_params_mut()
            .into_iter()
            .map(|(n, p)| (n, p.grad.clone()))
            .collect();
        let eps = 1e-3f64;
        for (k, (name, grad)) in analytic.iter().enumerate() {
            let norm = (grad.len() as f64).sqrt();
            let direction: Vec<f64> = (0..grad.len())
                .map(|i| if (i * 2654435761) % 7 < 3 { -1.0 } else { 1.0 } / norm)
                .collect();
            let along = |sign: f64| {
                let mut m = base.clone();
                let p = &mut m.named_params_mut()[k].1.value;
                p.iter_mut()
                    .zip(&direction)
                    .for_each(|(v, d)| *v += (sign * eps * d) as f32);
                loss(&mut m)
            };
            let fd = (along(1.0) - along(-1.0)) / (2.0 * eps);
            let a: f64 = grad.iter().zip(&direction).map(|(g, d)| *g as f64 * d).sum();
            assert!(
                (a - fd).abs() <= 3e-3 + 5e-2 * a.abs().max(fd.abs()),
                "{name}: analytic {a}, finite difference {fd}"
            );
        }
    }
}
