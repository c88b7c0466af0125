//! The module kinds a model file may use, declared once. [`MODULES`] is the one table: each kind's
//! PyTorch name, its signature (argument names in PyTorch's positional order), its builder (arguments and
//! the input shape → the checked [`Layer`] and its output shape), its PyTorch constructor for the
//! exporter, and the engine layer it trains as. The parser's list of known modules, the builder and the
//! exporter all read it. Adding a module kind means: a [`Layer`] variant and its row here, and the engine's
//! layer file (`nnlab-nn/src/layers/`) implementing `nnlab_nn::Layer`.

use nnlab_nn::{AvgPool2d, BatchNorm2d, Conv2d, ConvOptions, Dropout, Flatten, GlobalAvgPool, Linear, MaxPool2d, Relu};
use rand_chacha::ChaCha8Rng;

use crate::error::ModelError;
use crate::spec::Shape;
use crate::spec::bound::{Bound, show};
use crate::syntax::Value;

/// A checked layer and its output shape, or the error at its line.
pub(crate) type Built = Result<(Layer, Shape), ModelError>;

/// One module kind.
pub struct ModuleKind {
    /// PyTorch's class name, as a model file writes it.
    pub name: &'static str,
    /// Argument names in PyTorch's positional order.
    pub signature: &'static [&'static str],
    /// The layer and its output shape for a call's bound arguments and the shape reaching it; errors
    /// name the line and the argument.
    pub(crate) build: fn(&Bound, Shape) -> Built,
    /// The PyTorch constructor, every setting explicit (`nn.Conv2d(…)`).
    pub export: fn(&Layer) -> String,
    /// The engine's layer, PyTorch's default initialisation drawn from `rng`.
    pub instantiate: fn(&Layer, &mut ChaCha8Rng) -> Box<dyn nnlab_nn::Layer>,
}

/// Every module kind a model file may use (besides `Sequential`, which nests them).
pub const MODULES: [ModuleKind; 9] = [
    ModuleKind {
        name: "Conv2d",
        signature: &[
            "in_channels",
            "out_channels",
            "kernel_size",
            "stride",
            "padding",
            "dilation",
            "groups",
            "bias",
            "padding_mode",
        ],
        build: build_conv2d,
        export: |l| {
            let Layer::Conv2d(c) = *l else {
                unreachable!("the Conv2d row gets Conv2d layers")
            };
            format!(
                "nn.Conv2d({}, {}, {}, stride={}, padding={}, dilation={}, groups={}, bias={})",
                c.cin,
                c.cout,
                c.k,
                c.stride,
                c.pad,
                c.dilation,
                c.groups,
                py_bool(c.bias)
            )
        },
        instantiate: |l, rng| match *l {
            Layer::Conv2d(c) => Box::new(conv_of(&c, rng)),
            _ => unreachable!("the Conv2d row gets Conv2d layers"),
        },
    },
    ModuleKind {
        name: "BatchNorm2d",
        signature: &["num_features", "eps", "momentum", "affine", "track_running_stats"],
        build: build_batch_norm2d,
        export: |l| match *l {
            Layer::BatchNorm2d {
                features,
                eps,
                momentum,
            } => {
                format!("nn.BatchNorm2d({features}, eps={eps:?}, momentum={momentum:?})")
            }
            _ => unreachable!("the BatchNorm2d row gets BatchNorm2d layers"),
        },
        instantiate: |l, _| match *l {
            Layer::BatchNorm2d {
                features,
                eps,
                momentum,
            } => Box::new(bn_of(features, eps, momentum)),
            _ => unreachable!("the BatchNorm2d row gets BatchNorm2d layers"),
        },
    },
    ModuleKind {
        name: "ReLU",
        signature: &["inplace"],
        build: build_relu,
        export: |_| "nn.ReLU()".into(),
        instantiate: |_, _| Box::new(Relu::default()),
    },
    ModuleKind {
        name: "Dropout",
        signature: &["p", "inplace"],
        build: build_dropout,
        export: |l| match *l {
            Layer::Dropout { p } => format!("nn.Dropout({p:?})"),
            _ => unreachable!("the Dropout row gets Dropout layers"),
        },
        instantiate: |l, _| match *l {
            Layer::Dropout { p } => Box::new(Dropout::new(p)),
            _ => unreachable!("the Dropout row gets Dropout layers"),
        },
    },
    ModuleKind {
        name: "MaxPool2d",
        signature: &["kernel_size", "stride"],
        build: |b, x| pool(b, x).map(|(k, stride, out)| (Layer::MaxPool2d { k, stride }, out)),
        export: |l| match *l {
            Layer::MaxPool2d { k, stride } => format!("nn.MaxPool2d({k}, stride={stride})"),
            _ => unreachable!("the MaxPool2d row gets MaxPool2d layers"),
        },
        instantiate: |l, _| match *l {
            Layer::MaxPool2d { k, stride } => Box::new(MaxPool2d::new(k, stride)),
            _ => unreachable!("the MaxPool2d row gets MaxPool2d layers"),
        },
    },
    ModuleKind {
        name: "AvgPool2d",
        signature: &["kernel_size", "stride"],
        build: |b, x| pool(b, x).map(|(k, stride, out)| (Layer::AvgPool2d { k, stride }, out)),
        export: |l| match *l {
            Layer::AvgPool2d { k, stride } => format!("nn.AvgPool2d({k}, stride={stride})"),
            _ => unreachable!("the AvgPool2d row gets AvgPool2d layers"),
        },
        instantiate: |l, _| match *l {
            Layer::AvgPool2d { k, stride } => Box::new(AvgPool2d::new(k, stride)),
            _ => unreachable!("the AvgPool2d row gets AvgPool2d layers"),
        },
    },
    ModuleKind {
        name: "AdaptiveAvgPool2d",
        signature: &["output_size"],
        build: build_adaptive_avg_pool2d,
        export: |_| "nn.AdaptiveAvgPool2d(1)".into(),
        instantiate: |_, _| Box::new(GlobalAvgPool::default()),
    },
    ModuleKind {
        name: "Flatten",
        signature: &[],
        build: build_flatten,
        export: |_| "nn.Flatten()".into(),
        instantiate: |_, _| Box::new(Flatten::default()),
    },
    ModuleKind {
        name: "Linear",
        signature: &["in_features", "out_features", "bias"],
        build: build_linear,
        export: |l| match *l {
            Layer::Linear { inputs, outputs, bias } => {
                format!("nn.Linear({inputs}, {outputs}, bias={})", py_bool(bias))
            }
            _ => unreachable!("the Linear row gets Linear layers"),
        },
        instantiate: |l, rng| match *l {
            Layer::Linear { inputs, outputs, bias } => Box::new(Linear::with_bias(inputs, outputs, bias, rng)),
            _ => unreachable!("the Linear row gets Linear layers"),
        },
    },
];

/// The module kind of a PyTorch class name, if a model file may use it.
pub fn module_kind(name: &str) -> Option<&'static ModuleKind> {
    MODULES.iter().find(|m| m.name == name)
}

/// Every name a model file may call: the module kinds, then `Sequential`.
pub fn known_modules() -> Vec<&'static str> {
    MODULES.iter().map(|m| m.name).chain(["Sequential"]).collect()
}

impl Layer {
    /// Its row of [`MODULES`].
    pub fn kind(&self) -> &'static ModuleKind {
        module_kind(self.class()).expect("every Layer variant has its row in MODULES")
    }
}

fn py_bool(b: bool) -> &'static str {
    if b { "True" } else { "False" }
}

/// The engine's convolution for a checked one.
pub(crate) fn conv_of(spec: &ConvSpec, rng: &mut ChaCha8Rng) -> Conv2d {
    let opts = ConvOptions {
        stride: spec.stride,
        pad: spec.pad,
        dilation: spec.dilation,
        groups: spec.groups,
        bias: spec.bias,
    };
    Conv2d::with_options(spec.cin, spec.cout, spec.k, opts, rng)
}

/// The engine's BatchNorm with a checked one's settings.
pub(crate) fn bn_of(features: usize, eps: f32, momentum: f32) -> BatchNorm2d {
    let mut bn = BatchNorm2d::new(features, momentum);
    bn.eps = eps;
    bn
}

/// A 2-D convolution's settings (square kernels).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvSpec {
    /// Input channels.
    pub cin: usize,
    /// Output channels.
    pub cout: usize,
    /// Kernel size k (k×k).
    pub k: usize,
    /// Stride.
    pub stride: usize,
    /// Zero padding on every side.
    pub pad: usize,
    /// Dilation.
    pub dilation: usize,
    /// Groups (cin for a depthwise convolution).
    pub groups: usize,
    /// Whether the convolution has a bias.
    pub bias: bool,
}

impl ConvSpec {
    /// Output size along one axis of size `n`, `None` when it would reach 0.
    pub fn out_len(&self, n: usize) -> Option<usize> {
        let span = self.dilation * (self.k - 1) + 1;
        (n + 2 * self.pad >= span).then(|| (n + 2 * self.pad - span) / self.stride + 1)
    }
}

/// One layer with its settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Layer {
    /// `Conv2d`.
    Conv2d(ConvSpec),
    /// `BatchNorm2d(num_features, eps, momentum)`.
    BatchNorm2d {
        /// Channels.
        features: usize,
        /// ε.
        eps: f32,
        /// PyTorch momentum.
        momentum: f32,
    },
    /// `ReLU()`.
    Relu,
    /// `Dropout(p)`.
    Dropout {
        /// Drop probability.
        p: f32,
    },
    /// `MaxPool2d(kernel_size, stride)`.
    MaxPool2d {
        /// Window size.
        k: usize,
        /// Stride.
        stride: usize,
    },
    /// `AvgPool2d(kernel_size, stride)`.
    AvgPool2d {
        /// Window size.
        k: usize,
        /// Stride.
        stride: usize,
    },
    /// `AdaptiveAvgPool2d(1)`: global average pooling.
    GlobalAvgPool,
    /// `Flatten()`.
    Flatten,
    /// `Linear(in_features, out_features, bias)`.
    Linear {
        /// Input features.
        inputs: usize,
        /// Output features.
        outputs: usize,
        /// Whether there is a bias.
        bias: bool,
    },
}

impl Layer {
    /// The PyTorch class name.
    pub fn class(&self) -> &'static str {
        match self {
            Layer::Conv2d(_) => "Conv2d",
            Layer::BatchNorm2d { .. } => "BatchNorm2d",
            Layer::Relu => "ReLU",
            Layer::Dropout { .. } => "Dropout",
            Layer::MaxPool2d { .. } => "MaxPool2d",
            Layer::AvgPool2d { .. } => "AvgPool2d",
            Layer::GlobalAvgPool => "AdaptiveAvgPool2d",
            Layer::Flatten => "Flatten",
            Layer::Linear { .. } => "Linear",
        }
    }

    /// The constructor call, arguments that differ from PyTorch's defaults written out.
    pub fn describe(&self) -> String {
        match *self {
            Layer::Conv2d(c) => {
                let mut s = format!("Conv2d({}, {}, {}", c.cin, c.cout, c.k);
                for (key, v, default) in [
                    ("stride", c.stride, 1),
                    ("padding", c.pad, 0),
                    ("dilation", c.dilation, 1),
                    ("groups", c.groups, 1),
                ] {
                    if v != default {
                        s += &format!(", {key}={v}");
                    }
                }
                if !c.bias {
                    s += ", bias=False";
                }
                s + ")"
            }
            Layer::BatchNorm2d {
                features,
                eps,
                momentum,
            } => {
                let mut s = format!("BatchNorm2d({features}");
                if eps != 1e-5 {
                    s += &format!(", eps={eps}");
                }
                if momentum != 0.1 {
                    s += &format!(", momentum={momentum}");
                }
                s + ")"
            }
            Layer::Relu => "ReLU()".into(),
            Layer::Dropout { p } => format!("Dropout({p})"),
            Layer::MaxPool2d { k, stride } => format!("MaxPool2d({k}, {stride})"),
            Layer::AvgPool2d { k, stride } => format!("AvgPool2d({k}, {stride})"),
            Layer::GlobalAvgPool => "AdaptiveAvgPool2d(1)".into(),
            Layer::Flatten => "Flatten()".into(),
            Layer::Linear { inputs, outputs, bias } => {
                format!("Linear({inputs}, {outputs}{})", if bias { "" } else { ", bias=False" })
            }
        }
    }

    /// The window a layer slides over its input and its stride, for the receptive field (1, 1 for a
    /// layer that does not slide).
    pub fn window(&self) -> (usize, usize) {
        match *self {
            Layer::Conv2d(c) => (c.dilation * (c.k - 1) + 1, c.stride),
            Layer::MaxPool2d { k, stride } | Layer::AvgPool2d { k, stride } => (k, stride),
            _ => (1, 1),
        }
    }

    /// Multiply-adds for one image, given the layer's output [C, H, W].
    pub fn macs(&self, output: [usize; 3]) -> usize {
        match *self {
            Layer::Conv2d(c) => output.iter().product::<usize>() * (c.cin / c.groups) * c.k * c.k,
            Layer::Linear { inputs, outputs, .. } => inputs * outputs,
            _ => 0,
        }
    }

    /// Trainable parameters.
    pub fn params(&self) -> usize {
        match *self {
            Layer::Conv2d(c) => c.cout * (c.cin / c.groups) * c.k * c.k + if c.bias { c.cout } else { 0 },
            Layer::BatchNorm2d { features, .. } => 2 * features,
            Layer::Linear { inputs, outputs, bias } => inputs * outputs + if bias { outputs } else { 0 },
            _ => 0,
        }
    }
}

/// No upper bound on a count.
const BIG: usize = usize::MAX;

/// Refuses a flattened vector where a C×H×W feature map is needed.
fn needs_map(b: &Bound, x: Shape) -> Result<(), ModelError> {
    if x.flat {
        b.fail(format!(
            "needs a C×H×W feature map, but a flattened vector of {} reaches it",
            x.c
        ))
    } else {
        Ok(())
    }
}

fn build_conv2d(b: &Bound, x: Shape) -> Built {
    needs_map(b, x)?;
    let cin = b.int("in_channels", None, 1, BIG)?;
    let cout = b.int("out_channels", None, 1, BIG)?;
    let k = b.int("kernel_size", None, 1, 7)?;
    let stride = b.int("stride", Some(1), 1, 2)?;
    let dilation = b.int("dilation", Some(1), 1, BIG)?;
    let groups = b.int("groups", Some(1), 1, BIG)?;
    let bias = b.boolean("bias", true)?;
    match b.get("padding_mode") {
        None => {}
        Some(Value::Str(m)) if m == "zeros" => {}
        Some(v) => return b.fail(format!("padding_mode {} is not supported (only 'zeros')", show(v))),
    }
    let pad = match b.get("padding") {
        Some(Value::Str(s)) if s == "valid" => 0,
        Some(Value::Str(s)) if s == "same" => {
            if stride != 1 || (dilation * (k - 1)) % 2 != 0 {
                return b.fail("padding='same' needs stride 1 and an odd kernel span");
            }
            dilation * (k - 1) / 2
        }
        Some(Value::Str(s)) => {
            return b.fail(format!("padding '{s}' is not supported (a number, 'same' or 'valid')"));
        }
        _ => b.int("padding", Some(0), 0, 16)?,
    };
    if cin != x.c {
        return b.fail(format!(
            "expects {cin} input channels, but the layer before gives {} ({x})",
            x.c
        ));
    }
    if cin % groups != 0 || cout % groups != 0 {
        return b.fail(format!(
            "groups={groups} must divide both in_channels ({cin}) and out_channels ({cout})"
        ));
    }
    let spec = ConvSpec {
        cin,
        cout,
        k,
        stride,
        pad,
        dilation,
        groups,
        bias,
    };
    let (Some(oh), Some(ow)) = (spec.out_len(x.h), spec.out_len(x.w)) else {
        return b.fail(format!(
                "the spatial size reaches 0: a {k}×{k} kernel (dilation {dilation}, padding {pad}) does not fit the {}×{} input",
                x.h, x.w
            ));
    };
    Ok((
        Layer::Conv2d(spec),
        Shape {
            c: cout,
            h: oh,
            w: ow,
            flat: false,
        },
    ))
}

fn build_batch_norm2d(b: &Bound, x: Shape) -> Built {
    needs_map(b, x)?;
    let features = b.int("num_features", None, 1, BIG)?;
    let eps = b.float("eps", 1e-5)?;
    let momentum = b.float("momentum", 0.1)?;
    if !b.boolean("affine", true)? || !b.boolean("track_running_stats", true)? {
        return b.fail("only affine=True and track_running_stats=True are supported");
    }
    if features != x.c {
        return b.fail(format!(
            "num_features is {features}, but the layer before gives {} channels ({x})",
            x.c
        ));
    }
    if eps.is_nan() || eps <= 0.0 {
        return b.fail(format!("'eps' is {eps}, must be > 0"));
    }
    if !(0.0..=1.0).contains(&momentum) {
        return b.fail(format!("'momentum' is {momentum}, must be in [0, 1]"));
    }
    Ok((
        Layer::BatchNorm2d {
            features,
            eps: eps as f32,
            momentum: momentum as f32,
        },
        x,
    ))
}

fn build_relu(b: &Bound, x: Shape) -> Built {
    b.boolean("inplace", false)?;
    Ok((Layer::Relu, x))
}

fn build_dropout(b: &Bound, x: Shape) -> Built {
    b.boolean("inplace", false)?;
    let p = b.float("p", 0.5)?;
    if !(0.0..1.0).contains(&p) {
        return b.fail(format!("'p' is {p}, must be in [0, 1)"));
    }
    Ok((Layer::Dropout { p: p as f32 }, x))
}

/// A pooling window's size and stride (default: the size), checked against the input.
fn pool(b: &Bound, x: Shape) -> Result<(usize, usize, Shape), ModelError> {
    needs_map(b, x)?;
    let k = b.int("kernel_size", None, 1, 7)?;
    let stride = match b.get("stride") {
        None | Some(Value::None) => k,
        _ => b.int("stride", None, 1, 7)?,
    };
    if x.h < k || x.w < k {
        return b.fail(format!(
            "the spatial size reaches 0: a {k}×{k} window does not fit the {}×{} input",
            x.h, x.w
        ));
    }
    let out = Shape {
        c: x.c,
        h: (x.h - k) / stride + 1,
        w: (x.w - k) / stride + 1,
        flat: false,
    };
    Ok((k, stride, out))
}

fn build_adaptive_avg_pool2d(b: &Bound, x: Shape) -> Built {
    needs_map(b, x)?;
    if b.int("output_size", None, 0, BIG)? != 1 {
        return b.fail("only output_size 1 (global average pooling) is supported");
    }
    Ok((
        Layer::GlobalAvgPool,
        Shape {
            c: x.c,
            h: 1,
            w: 1,
            flat: false,
        },
    ))
}

fn build_flatten(_: &Bound, x: Shape) -> Built {
    Ok((
        Layer::Flatten,
        Shape {
            c: x.len(),
            h: 1,
            w: 1,
            flat: true,
        },
    ))
}

fn build_linear(b: &Bound, x: Shape) -> Built {
    let inputs = b.int("in_features", None, 1, BIG)?;
    let outputs = b.int("out_features", None, 1, BIG)?;
    let bias = b.boolean("bias", true)?;
    if inputs != x.len() {
        return b.fail(format!(
            "in_features is {inputs}, but {} feature(s) reach it ({x}{})",
            x.len(),
            if x.flat { String::new() } else { " flattened".into() }
        ));
    }
    Ok((
        Layer::Linear { inputs, outputs, bias },
        Shape {
            c: outputs,
            h: 1,
            w: 1,
            flat: true,
        },
    ))
}
