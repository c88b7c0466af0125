//! A trainable network built from a `ModelSpec`. Fusion is a rule: every Conv2d → ReLU → BatchNorm2d
//! [→ Dropout] and every Conv2d → BatchNorm2d → ReLU [→ Dropout] runs as one fused `ConvBlock`; every
//! other layer runs on its own. Parameters carry PyTorch's state_dict keys.

use nnlab_nn::{
    AvgPool2d, BatchNorm2d, BlockOrder, Conv2d, ConvBlock, ConvOptions, Dropout, GlobalAvgPool, Linear, MaxPool2d,
    Mode, NoProbe, Param, Phase, Probe, Relu, Tensor,
};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::spec::{Layer, ModelSpec};

/// One piece of work in the forward pass: a fused block or a single layer.
#[derive(Debug, Clone)]
enum Op {
    /// Conv → ReLU → BN [→ Dropout] or Conv → BN → ReLU [→ Dropout]; keys of the conv and the BN.
    Block(Box<ConvBlock>, String, String),
    Conv(Conv2d, String),
    Bn(BatchNorm2d, String),
    Relu(Relu),
    Dropout(Dropout),
    MaxPool(MaxPool2d),
    AvgPool(AvgPool2d),
    Gap(GlobalAvgPool),
    /// [N, C, H, W] → [N, C·H·W, 1, 1]; remembers the shape for backward.
    Flatten(Option<[usize; 4]>),
    Linear(Linear, String),
}

/// An op with the statement name it is profiled under and its dropout-mask index (0: no dropout).
#[derive(Debug, Clone)]
struct Unit {
    op: Op,
    label: String,
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

fn conv_of(spec: &crate::spec::ConvSpec, rng: &mut ChaCha8Rng) -> Conv2d {
    let opts = ConvOptions {
        stride: spec.stride,
        pad: spec.pad,
        dilation: spec.dilation,
        groups: spec.groups,
        bias: spec.bias,
    };
    Conv2d::with_options(spec.cin, spec.cout, spec.k, opts, rng)
}

fn bn_of(features: usize, eps: f32, momentum: f32) -> BatchNorm2d {
    let mut bn = BatchNorm2d::new(features, momentum);
    bn.eps = eps;
    bn
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
            let kind = |j: usize| layers.get(j).map(|l| l.layer);
            let order = match (kind(i), kind(i + 1), kind(i + 2)) {
                (Some(Layer::Conv2d(_)), Some(Layer::Relu), Some(Layer::BatchNorm2d { .. })) => {
                    Some(BlockOrder::ReluThenBn)
                }
                (Some(Layer::Conv2d(_)), Some(Layer::BatchNorm2d { .. }), Some(Layer::Relu)) => {
                    Some(BlockOrder::BnThenRelu)
                }
                _ => None,
            };
            if let (Some(order), Layer::Conv2d(c)) = (order, layers[i].layer) {
                let bn_at = if order == BlockOrder::ReluThenBn { i + 2 } else { i + 1 };
                let Layer::BatchNorm2d {
                    features,
                    eps,
                    momentum,
                } = layers[bn_at].layer
                else {
                    unreachable!("matched above")
                };
                let p = match kind(i + 3) {
                    Some(Layer::Dropout { p }) => Some(p),
                    _ => None,
                };
                let conv = conv_of(&c, rng);
                let block = ConvBlock::from_parts(conv, bn_of(features, eps, momentum), p.unwrap_or(0.0), order);
                let dropout = if p.is_some() {
                    dropouts += 1;
                    dropouts
                } else {
                    0
                };
                units.push(Unit {
                    op: Op::Block(Box::new(block), layers[i].key.clone(), layers[bn_at].key.clone()),
                    label,
                    dropout,
                });
                i += if p.is_some() { 4 } else { 3 };
                continue;
            }
            let key = layers[i].key.clone();
            let mut dropout = 0;
            let op = match layers[i].layer {
                Layer::Conv2d(c) => Op::Conv(conv_of(&c, rng), key),
                Layer::BatchNorm2d {
                    features,
                    eps,
                    momentum,
                } => Op::Bn(bn_of(features, eps, momentum), key),
                Layer::Relu => Op::Relu(Relu::default()),
                Layer::Dropout { p } => {
                    dropouts += 1;
                    dropout = dropouts;
                    Op::Dropout(Dropout::new(p))
                }
                Layer::MaxPool2d { k, stride } => Op::MaxPool(MaxPool2d::new(k, stride)),
                Layer::AvgPool2d { k, stride } => Op::AvgPool(AvgPool2d::new(k, stride)),
                Layer::GlobalAvgPool => Op::Gap(GlobalAvgPool::default()),
                Layer::Flatten => Op::Flatten(None),
                Layer::Linear { inputs, outputs, bias } => {
                    Op::Linear(Linear::with_bias(inputs, outputs, bias, rng), key)
                }
            };
            units.push(Unit { op, label, dropout });
            i += 1;
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

    /// How the layers run: one line per op, fused blocks named as such (for summaries and tests).
    pub fn execution_plan(&self) -> Vec<String> {
        self.units
            .iter()
            .map(|u| match &u.op {
                Op::Block(b, ..) => {
                    let order = match b.order {
                        BlockOrder::ReluThenBn => "Conv→ReLU→BN",
                        BlockOrder::BnThenRelu => "Conv→BN→ReLU",
                    };
                    let drop = if b.dropout.p > 0.0 { "→Dropout" } else { "" };
                    format!("{}: fused {order}{drop}", u.label)
                }
                Op::Conv(..) => format!("{}: Conv2d", u.label),
                Op::Bn(..) => format!("{}: BatchNorm2d", u.label),
                Op::Relu(_) => format!("{}: ReLU", u.label),
                Op::Dropout(_) => format!("{}: Dropout", u.label),
                Op::MaxPool(_) => format!("{}: MaxPool2d", u.label),
                Op::AvgPool(_) => format!("{}: AvgPool2d", u.label),
                Op::Gap(_) => format!("{}: AdaptiveAvgPool2d", u.label),
                Op::Flatten(_) => format!("{}: Flatten", u.label),
                Op::Linear(..) => format!("{}: Linear", u.label),
            })
            .collect()
    }

    /// Images [N, C, H, W] → logits [N, outputs, 1, 1]. `step_seed` picks the dropout masks in training.
    pub fn forward(&mut self, x: Tensor, mode: Mode, step_seed: u64) -> Tensor {
        self.forward_probed(x, mode, step_seed, &mut NoProbe)
    }

    /// `forward`, reporting each op's wall time under its statement's name to `probe`.
    pub fn forward_probed(&mut self, x: Tensor, mode: Mode, step_seed: u64, probe: &mut impl Probe) -> Tensor {
        let keep = mode == Mode::Train;
        let mut x = x;
        for u in &mut self.units {
            let seed = dropout_seed(step_seed, u.dropout);
            x = probe.time(&u.label, Phase::Forward, || match &mut u.op {
                Op::Block(b, ..) => b.forward(x, mode, seed),
                Op::Conv(c, _) => c.forward(x, keep),
                Op::Bn(bn, _) => bn.forward(x, mode),
                Op::Relu(r) => r.forward(x, keep),
                Op::Dropout(d) => d.forward(x, mode, seed),
                Op::MaxPool(p) => p.forward(x, keep),
                Op::AvgPool(p) => p.forward(x),
                Op::Gap(g) => g.forward(x),
                Op::Flatten(shape) => {
                    *shape = Some(x.shape);
                    flatten(x)
                }
                Op::Linear(l, _) => l.forward(x),
            });
        }
        self.out_shape = Some(x.shape);
        flatten(x)
    }

    /// Backpropagates ∂loss/∂logits through every op, accumulating parameter gradients.
    pub fn backward(&mut self, dlogits: Tensor) {
        self.backward_probed(dlogits, &mut NoProbe)
    }

    /// `backward`, reporting each op's wall time to `probe`.
    pub fn backward_probed(&mut self, dlogits: Tensor, probe: &mut impl Probe) {
        let shape = self.out_shape.expect("backward before forward");
        let mut d = Some(Tensor::from_vec(shape, take_data(dlogits)));
        for (i, u) in self.units.iter_mut().enumerate().rev() {
            // The first op's input is the image: its gradient is not needed.
            let need = i > 0;
            let dy = d.take().expect("every op but the first passes a gradient on");
            d = probe.time(&u.label, Phase::Backward, || match &mut u.op {
                Op::Block(b, ..) => b.backward(dy, need),
                Op::Conv(c, _) => c.backward(&dy, need),
                Op::Bn(bn, _) => Some(bn.backward(dy)),
                Op::Relu(r) => Some(r.backward(dy)),
                Op::Dropout(dr) => Some(dr.backward(dy)),
                Op::MaxPool(p) => Some(p.backward(dy)),
                Op::AvgPool(p) => Some(p.backward(dy)),
                Op::Gap(g) => Some(g.backward(dy)),
                Op::Flatten(shape) => Some(Tensor::from_vec(
                    shape.take().expect("backward before forward"),
                    take_data(dy),
                )),
                Op::Linear(l, _) => Some(l.backward(&dy)),
            });
        }
    }

    /// Every trainable tensor with its PyTorch state_dict key, in file order.
    pub fn named_params_mut(&mut self) -> Vec<(String, &mut Param)> {
        let mut out = Vec::new();
        for u in &mut self.units {
            match &mut u.op {
                Op::Block(b, conv_key, bn_key) => {
                    let ConvBlock { conv, bn, .. } = &mut **b;
                    out.push((format!("{conv_key}.weight"), &mut conv.weight));
                    if let Some(bias) = &mut conv.bias {
                        out.push((format!("{conv_key}.bias"), bias));
                    }
                    out.push((format!("{bn_key}.weight"), &mut bn.gamma));
                    out.push((format!("{bn_key}.bias"), &mut bn.beta));
                }
                Op::Conv(c, key) => {
                    out.push((format!("{key}.weight"), &mut c.weight));
                    if let Some(bias) = &mut c.bias {
                        out.push((format!("{key}.bias"), bias));
                    }
                }
                Op::Bn(bn, key) => {
                    out.push((format!("{key}.weight"), &mut bn.gamma));
                    out.push((format!("{key}.bias"), &mut bn.beta));
                }
                Op::Linear(l, key) => {
                    out.push((format!("{key}.weight"), &mut l.weight));
                    if !l.bias.is_empty() {
                        out.push((format!("{key}.bias"), &mut l.bias));
                    }
                }
                _ => {}
            }
        }
        out
    }

    /// Every trainable tensor, for the optimizer.
    pub fn params_mut(&mut self) -> Vec<&mut Param> {
        self.named_params_mut().into_iter().map(|(_, p)| p).collect()
    }

    /// Every BatchNorm with its state_dict key prefix (`convblock1.2`), for its running statistics.
    pub fn batch_norms_mut(&mut self) -> Vec<(String, &mut BatchNorm2d)> {
        let mut out = Vec::new();
        for u in &mut self.units {
            match &mut u.op {
                Op::Block(b, _, key) => out.push((key.clone(), &mut b.bn)),
                Op::Bn(bn, key) => out.push((key.clone(), bn)),
                _ => {}
            }
        }
        out
    }

    /// Number of trainable parameters.
    pub fn parameter_count(&mut self) -> usize {
        self.params_mut().iter().map(|p| p.len()).sum()
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
