//! A trainable network built from a `ModelSpec`. Fusion is a rule: every Conv2d → ReLU → BatchNorm2d
//! [→ Dropout] and every Conv2d → BatchNorm2d → ReLU [→ Dropout] runs as one fused `ConvBlock`; every
//! other layer runs on its own. Parameters carry PyTorch's state_dict keys.

use nnlab_nn::{BatchNorm2d, BlockOrder, ConvBlock, Mode, NoProbe, Param, Pass, Phase, Probe, Tensor};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::modules::{bn_of, conv_of};
use crate::spec::{Layer, ModelSpec};

/// One engine layer (a fused block or a single layer) with the statement name it is profiled under, the
/// state_dict key of each of its parts, and its dropout-mask index (0: no dropout).
#[derive(Debug, Clone)]
struct Unit {
    layer: Box<dyn nnlab_nn::Layer>,
    label: String,
    keys: Vec<String>,
    dropout: u64,
}

/// A network made from a model file: the spec it came from and its layers, ready to train.
#[derive(Debug, Clone)]
pub struct Network {
    spec: ModelSpec,
    units: Vec<Unit>,
    /// Shape of the last unit's output in the last forward pass, to reshape the logits' gradient.
    out_shape: Option<[usize; 4]>,
}

/// A deterministic seed for the dropout masks of one dropout layer (numbered from 1) at one step.
fn dropout_seed(step_seed: u64, layer: u64) -> u64 {
    step_seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ layer.wrapping_mul(0xC2B2_AE3D_27D4_EB4F)
}

/// The fusion rule at layer `i`: Conv → ReLU → BN or Conv → BN → ReLU, each optionally followed by a
/// Dropout, runs as one `ConvBlock`. Returns the block's order and how many layers it takes.
fn fusion_at(layers: &[crate::spec::PlacedLayer], i: usize) -> Option<(BlockOrder, usize)> {
    let kind = |j: usize| layers.get(j).map(|l| l.layer);
    let order = match (kind(i), kind(i + 1), kind(i + 2)) {
        (Some(Layer::Conv2d(_)), Some(Layer::Relu), Some(Layer::BatchNorm2d { .. })) => BlockOrder::ReluThenBn,
        (Some(Layer::Conv2d(_)), Some(Layer::BatchNorm2d { .. }), Some(Layer::Relu)) => BlockOrder::BnThenRelu,
        _ => return None,
    };
    let dropout = matches!(kind(i + 3), Some(Layer::Dropout { .. }));
    Some((order, if dropout { 4 } else { 3 }))
}

impl Network {
    /// Builds the network with PyTorch's default initialisation, drawn in file order from `seed`.
    pub fn new(spec: &ModelSpec, seed: u64) -> Self {
        let rng = &mut ChaCha8Rng::seed_from_u64(seed);
        let layers = &spec.layers;
        let mut units = Vec::new();
        let mut dropouts = 0u64;
        let mut i = 0;
        while i < layers.len() {
            let label = spec.statements[layers[i].statement].name.clone();
            let (layer, keys, taken): (Box<dyn nnlab_nn::Layer>, Vec<String>, usize) = match fusion_at(layers, i) {
                Some((order, taken)) => {
                    let bn_at = if order == BlockOrder::ReluThenBn { i + 2 } else { i + 1 };
                    let (
                        Layer::Conv2d(c),
                        Layer::BatchNorm2d {
                            features,
                            eps,
                            momentum,
                        },
                    ) = (layers[i].layer, layers[bn_at].layer)
                    else {
                        unreachable!("fusion_at matched a convolution and a BatchNorm")
                    };
                    let p = match layers[i + taken - 1].layer {
                        Layer::Dropout { p } if taken == 4 => p,
                        _ => 0.0,
                    };
                    let block = ConvBlock::from_parts(conv_of(&c, rng), bn_of(features, eps, momentum), p, order);
                    let keys = vec![layers[i].key.clone(), layers[bn_at].key.clone()];
                    (Box::new(block), keys, taken)
                }
                None => {
                    let l = &layers[i].layer;
                    ((l.kind().instantiate)(l, rng), vec![layers[i].key.clone()], 1)
                }
            };
            let has_dropout = layers[i..i + taken]
                .iter()
                .any(|l| matches!(l.layer, Layer::Dropout { .. }));
            let dropout = if has_dropout {
                dropouts += 1;
                dropouts
            } else {
                0
            };
            units.push(Unit {
                layer,
                label,
                keys,
                dropout,
            });
            i += taken;
        }
        Self {
            spec: spec.clone(),
            units,
            out_shape: None,
        }
    }

    /// The model this network was built from.
    pub fn spec(&self) -> &ModelSpec {
        &self.spec
    }

    /// How the layers run: one line per engine layer, fused blocks named as such (for summaries and tests).
    pub fn execution_plan(&self) -> Vec<String> {
        self.units
            .iter()
            .map(|u| format!("{}: {}", u.label, u.layer.describe()))
            .collect()
    }

    /// Images [N, C, H, W] → logits [N, outputs, 1, 1]. `step_seed` picks the dropout masks in training.
    pub fn forward(&mut self, x: Tensor, mode: Mode, step_seed: u64) -> Tensor {
        self.forward_probed(x, mode, step_seed, &mut NoProbe)
    }

    /// `forward`, reporting each layer's wall time under its statement's name to `probe`.
    pub fn forward_probed(&mut self, x: Tensor, mode: Mode, step_seed: u64, probe: &mut impl Probe) -> Tensor {
        let mut x = x;
        for u in &mut self.units {
            let pass = Pass {
                mode,
                seed: dropout_seed(step_seed, u.dropout),
            };
            x = probe.time(&u.label, Phase::Forward, || u.layer.forward(x, pass));
        }
        self.out_shape = Some(x.shape);
        flatten(x)
    }

    /// Backpropagates ∂loss/∂logits through every layer, accumulating parameter gradients.
    pub fn backward(&mut self, dlogits: Tensor) {
        self.backward_probed(dlogits, &mut NoProbe)
    }

    /// `backward`, reporting each layer's wall time to `probe`.
    pub fn backward_probed(&mut self, dlogits: Tensor, probe: &mut impl Probe) {
        let shape = self.out_shape.expect("backward before forward");
        let mut d = Some(Tensor::from_vec(shape, take_data(dlogits)));
        for (i, u) in self.units.iter_mut().enumerate().rev() {
            // The first layer's input is the image: its gradient is not needed.
            let need = i > 0;
            let dy = d.take().expect("every layer but the first passes a gradient on");
            d = probe.time(&u.label, Phase::Backward, || u.layer.backward(dy, need));
        }
    }

    /// `forward`, also returning each engine layer's output with its statement's name (a statement's
    /// last layer gives the statement's output) — what `inspect` draws as feature maps.
    pub fn forward_traced(&mut self, x: Tensor, mode: Mode) -> (Tensor, Vec<(String, Tensor)>) {
        let mut x = x;
        let mut trace = Vec::with_capacity(self.units.len());
        for u in &mut self.units {
            let pass = Pass {
                mode,
                seed: dropout_seed(0, u.dropout),
            };
            x = u.layer.forward(x, pass);
            trace.push((u.label.clone(), x.clone()));
        }
        self.out_shape = Some(x.shape);
        (flatten(x), trace)
    }

    /// Backpropagates ∂score/∂logits after a training-mode forward down to the input: returns ∂/∂input
    /// and the gradient at each engine layer's output (in the order of [`Network::forward_traced`]'s trace),
    /// for saliency maps and Grad-CAM. Parameter gradients accumulate as in [`Network::backward`].
    pub fn backward_to_input(&mut self, dlogits: Tensor) -> (Tensor, Vec<Tensor>) {
        let shape = self.out_shape.expect("backward before forward");
        let mut d = Tensor::from_vec(shape, take_data(dlogits));
        let mut grads = Vec::with_capacity(self.units.len());
        for u in self.units.iter_mut().rev() {
            grads.push(d.clone());
            d = u
                .layer
                .backward(d, true)
                .expect("a layer asked for its input gradient gives it");
        }
        grads.reverse();
        (d, grads)
    }

    /// Every trainable tensor with its PyTorch state_dict key, in file order, read-only.
    pub fn named_params(&self) -> Vec<(String, &Param)> {
        self.units
            .iter()
            .flat_map(|u| {
                u.layer
                    .params()
                    .into_iter()
                    .map(|n| (format!("{}.{}", u.keys[n.part], n.name), n.param))
            })
            .collect()
    }

    /// Every trainable tensor with its PyTorch state_dict key, in file order.
    pub fn named_params_mut(&mut self) -> Vec<(String, &mut Param)> {
        self.units
            .iter_mut()
            .flat_map(|u| {
                let keys = &u.keys;
                u.layer
                    .params_mut()
                    .into_iter()
                    .map(move |n| (format!("{}.{}", keys[n.part], n.name), n.param))
            })
            .collect()
    }

    /// Every trainable tensor, for the optimizer.
    pub fn params_mut(&mut self) -> Vec<&mut Param> {
        self.named_params_mut().into_iter().map(|(_, p)| p).collect()
    }

    /// Every BatchNorm with its state_dict key prefix (`convblock1.2`), for its running statistics.
    pub fn batch_norms_mut(&mut self) -> Vec<(String, &mut BatchNorm2d)> {
        self.units
            .iter_mut()
            .filter_map(|u| {
                let keys = &u.keys;
                u.layer.batch_norm_mut().map(|(part, bn)| (keys[part].clone(), bn))
            })
            .collect()
    }

    /// Number of trainable parameters.
    pub fn parameter_count(&self) -> usize {
        self.named_params().iter().map(|(_, p)| p.len()).sum()
    }
}

/// A tensor's values, moved out (the tensor's own drop then pools nothing).
fn take_data(mut t: Tensor) -> Vec<f32> {
    std::mem::take(&mut t.data)
}

/// [N, C, H, W] → [N, C·H·W, 1, 1], the same values.
fn flatten(t: Tensor) -> Tensor {
    let [n, c, h, w] = t.shape;
    if h == 1 && w == 1 {
        return t;
    }
    Tensor::from_vec([n, c * h * w, 1, 1], take_data(t))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shipped::shipped;
    use nnlab_nn::nll_loss;

    #[test]
    fn the_seed_model_fuses_its_six_blocks_and_has_18934_parameters() {
        let mut net = Network::new(&shipped("seed").unwrap(), 0);
        assert_eq!(net.parameter_count(), 18_934);
        let plan = net.execution_plan();
        assert_eq!(
            plan.iter().filter(|p| p.contains("fused Conv→ReLU→BN→Dropout")).count(),
            6,
            "{plan:?}"
        );
        assert_eq!(plan.len(), 12);
        let names: Vec<String> = net.named_params_mut().into_iter().map(|(n, _)| n).collect();
        assert_eq!(
            names[..3],
            ["convblock1.0.weight", "convblock1.2.weight", "convblock1.2.bias"]
        );
        assert!(
            names.contains(&"convblock3.0.weight".to_string())
                && names.ends_with(&["fc.weight".into(), "fc.bias".into()])
        );
        let bns: Vec<String> = net.batch_norms_mut().into_iter().map(|(k, _)| k).collect();
        assert_eq!(
            bns,
            [
                "convblock1.2",
                "convblock2.2",
                "convblock4.2",
                "convblock5.2",
                "convblock7.2",
                "convblock8.2"
            ]
        );
        let y = net.forward(Tensor::zeros([2, 1, 28, 28]), Mode::Eval, 0);
        assert_eq!(y.shape, [2, 10, 1, 1]);
    }

    #[test]
    fn every_module_kind_runs_fused_where_the_rule_says() {
        let mut net = Network::new(&shipped("separable").unwrap(), 0);
        let plan = net.execution_plan();
        assert_eq!(
            plan,
            [
                "stem: fused Conv→BN→ReLU",
                "down: fused Conv→BN→ReLU→Dropout",
                "depthwise: fused Conv→BN→ReLU",
                "pointwise: fused Conv→BN→ReLU→Dropout",
                "pool: MaxPool2d",
                "dilated: fused Conv→ReLU→BN",
                "smooth: AvgPool2d",
                "gap: AdaptiveAvgPool2d",
                "flatten: Flatten",
                "head: Linear",
                "head: ReLU",
                "head: Dropout",
                "head: Linear",
            ]
        );
        assert_eq!(net.parameter_count(), net.spec().params());
        let names: Vec<String> = net.named_params_mut().into_iter().map(|(n, _)| n).collect();
        assert!(names.contains(&"dilated.0.bias".to_string()) && names.contains(&"head.3.bias".to_string()));
        assert_eq!(
            net.forward(Tensor::zeros([3, 1, 28, 28]), Mode::Train, 1).shape,
            [3, 10, 1, 1]
        );
    }

    fn images(n: usize, seed: u64) -> Tensor {
        // Random pixels: repeated patterns would make max-pool ties, where the derivative is undefined.
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        Tensor::from_vec(
            [n, 1, 28, 28],
            (0..n * 784)
                .map(|_| rand::RngExt::random_range(&mut rng, -1.0f32..1.0))
                .collect(),
        )
    }

    /// Reductions run in fixed chunk order, so the gradients are bitwise the same on any thread count.
    #[test]
    fn gradients_do_not_depend_on_the_thread_count() {
        for name in ["seed", "separable"] {
            let spec = shipped(name).unwrap();
            let x = images(10, 1);
            let labels: Vec<u8> = (0..10).map(|i| (i % 10) as u8).collect();
            let grads = |threads: usize| {
                let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
                pool.install(|| {
                    let mut net = Network::new(&spec, 7);
                    let out = nll_loss(&net.forward(x.clone(), Mode::Train, 5), &labels);
                    net.backward(out.grad);
                    net.params_mut().into_iter().map(|p| p.grad.clone()).collect::<Vec<_>>()
                })
            };
            let one = grads(1);
            assert!(one.iter().flatten().any(|g| *g != 0.0));
            assert_eq!(one, grads(3), "{name}");
        }
    }

    /// The whole model's gradient against central differences of the loss, in training mode (fixed
    /// dropout masks, batch statistics). For each parameter tensor the directional derivative along a
    /// ±1/√n direction is compared: single coordinates of a ReLU/max-pool network in f32 sit too often near
    /// a kink, while a direction averages over them and still exposes any mis-scaled layer.
    #[test]
    fn whole_model_gradient_matches_finite_differences() {
        for name in ["seed", "separable"] {
            let n = 8;
            let x = images(n, 5);
            let labels: Vec<u8> = (0..n).map(|i| (i * 3 % 10) as u8).collect();
            let base = Network::new(&shipped(name).unwrap(), 3);
            let loss = |net: &mut Network| nll_loss(&net.forward(x.clone(), Mode::Train, 11), &labels).loss;
            let mut net = base.clone();
            let out = nll_loss(&net.forward(x.clone(), Mode::Train, 11), &labels);
            net.backward(out.grad);
            let analytic: Vec<(String, Vec<f32>)> = net
                .named_params_mut()
                .into_iter()
                .map(|(n, p)| (n, p.grad.clone()))
                .collect();
            let eps = 1e-3f64;
            for (k, (key, grad)) in analytic.iter().enumerate() {
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
                    "{name} {key}: analytic {a}, finite difference {fd}"
                );
            }
        }
    }
}
