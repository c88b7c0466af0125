//! What a model file means: each call bound to its PyTorch signature and defaults, every layer placed
//! with its state_dict key and its input and output shapes, and every mistake reported at its line.

use crate::error::ModelError;
use crate::syntax::{Call, Statement, Value, parse_statements};

/// The modules a model file may use.
pub const KNOWN_MODULES: [&str; 10] = [
    "Conv2d",
    "BatchNorm2d",
    "ReLU",
    "Dropout",
    "MaxPool2d",
    "AvgPool2d",
    "AdaptiveAvgPool2d",
    "Flatten",
    "Linear",
    "Sequential",
];

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

/// A feature map's size; `flat` once it has been flattened to a vector (C features, H = W = 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    /// Channels (features when flat).
    pub c: usize,
    /// Height.
    pub h: usize,
    /// Width.
    pub w: usize,
    /// Flattened to a vector.
    pub flat: bool,
}

impl Shape {
    /// Values per image.
    pub fn len(&self) -> usize {
        self.c * self.h * self.w
    }

    /// True when there are no values (never, for a checked model).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// [C, H, W].
    pub fn dims(&self) -> [usize; 3] {
        [self.c, self.h, self.w]
    }
}

impl std::fmt::Display for Shape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.flat {
            write!(f, "{}", self.c)
        } else {
            write!(f, "{}×{}×{}", self.c, self.h, self.w)
        }
    }
}

/// A layer in the model: its state_dict key prefix, where it was written, and its shapes.
#[derive(Debug, Clone, PartialEq)]
pub struct PlacedLayer {
    /// State-dict prefix: `convblock1.0` inside a Sequential, `fc` for a bare module.
    pub key: String,
    /// The layer.
    pub layer: Layer,
    /// Line of its constructor in the file.
    pub line: usize,
    /// Index of the statement it belongs to.
    pub statement: usize,
    /// Shape reaching it.
    pub input: Shape,
    /// Shape it gives.
    pub output: Shape,
}

/// One `name = Module(…)` statement.
#[derive(Debug, Clone, PartialEq)]
pub struct StatementSpec {
    /// The attribute name.
    pub name: String,
    /// Line of the statement.
    pub line: usize,
    /// The module as PyTorch would print its constructor.
    pub module: String,
    /// Whether the module is a `Sequential`.
    pub sequential: bool,
    /// Its layers, as a range of `ModelSpec::layers`.
    pub layers: std::ops::Range<usize>,
}

/// A checked model: input size, statements and layers in order.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelSpec {
    /// A short name: the shipped name or the file's stem.
    pub name: String,
    /// The file's text, exactly as read.
    pub source: String,
    /// Input C×H×W.
    pub input: [usize; 3],
    /// The statements in file order.
    pub statements: Vec<StatementSpec>,
    /// Every layer in execution order (Sequentials unrolled).
    pub layers: Vec<PlacedLayer>,
}

impl ModelSpec {
    /// Reads and checks a model file. `origin` names it in messages (a path, or `model 'seed'`).
    pub fn parse(name: &str, origin: &str, text: &str) -> Result<Self, ModelError> {
        let statements = parse_statements(origin, text)?;
        let mut input = None;
        let mut spec = ModelSpec {
            name: name.to_string(),
            source: text.to_string(),
            input: [0; 3],
            statements: Vec::new(),
            layers: Vec::new(),
        };
        let mut shape = Shape {
            c: 0,
            h: 0,
            w: 0,
            flat: false,
        };
        for st in statements {
            match st {
                Statement::Input { dims, line } => {
                    if input.is_some() {
                        return Err(ModelError::at(
                            origin,
                            line,
                            "a second 'input' line (the input size is given once, first)",
                        ));
                    }
                    if !spec.statements.is_empty() {
                        return Err(ModelError::at(
                            origin,
                            line,
                            "the 'input CxHxW' line must come before the first module",
                        ));
                    }
                    input = Some(dims);
                    spec.input = dims;
                    shape = Shape {
                        c: dims[0],
                        h: dims[1],
                        w: dims[2],
                        flat: false,
                    };
                }
                Statement::Assign { name, line, call } => {
                    if input.is_none() {
                        return Err(ModelError::at(
                            origin,
                            line,
                            "missing 'input CxHxW' line before the first module (e.g. input 1x28x28)",
                        ));
                    }
                    if let Some(prev) = spec.statements.iter().find(|s| s.name == name) {
                        return Err(ModelError::at(
                            origin,
                            line,
                            format!("duplicate name '{name}' (first defined at line {})", prev.line),
                        ));
                    }
                    let start = spec.layers.len();
                    let mut builder = Builder {
                        origin,
                        statement: spec.statements.len(),
                        layers: &mut spec.layers,
                    };
                    shape = builder.module(&call, &name, shape)?;
                    let module = module_repr(&call, &spec.layers[start..]);
                    spec.statements.push(StatementSpec {
                        name,
                        line,
                        module,
                        sequential: call.module == "Sequential",
                        layers: start..spec.layers.len(),
                    });
                }
            }
        }
        if input.is_none() {
            return Err(ModelError::file(
                origin,
                "missing 'input CxHxW' line (e.g. input 1x28x28)",
            ));
        }
        if spec.layers.is_empty() {
            return Err(ModelError::file(
                origin,
                "defines no modules (write statements such as fc = Linear(784, 10))",
            ));
        }
        Ok(spec)
    }

    /// The output shape of the last layer.
    pub fn output(&self) -> Shape {
        self.layers.last().map_or(
            Shape {
                c: self.input[0],
                h: self.input[1],
                w: self.input[2],
                flat: false,
            },
            |l| l.output,
        )
    }

    /// Number of outputs per image (the classes): the last layer's values, flattened.
    pub fn outputs(&self) -> usize {
        self.output().len()
    }

    /// Trainable parameters.
    pub fn params(&self) -> usize {
        self.layers.iter().map(|l| l.layer.params()).sum()
    }
}

/// The module as PyTorch prints its constructor (nested Sequentials included).
fn module_repr(call: &Call, layers: &[PlacedLayer]) -> String {
    fn go(call: &Call, layers: &mut std::slice::Iter<PlacedLayer>) -> String {
        if call.module == "Sequential" {
            let inner: Vec<String> = call
                .args
                .iter()
                .filter_map(|a| match a {
                    Value::Call(c) => Some(go(c, layers)),
                    _ => None,
                })
                .collect();
            format!("Sequential({})", inner.join(", "))
        } else {
            layers.next().map(|l| l.layer.describe()).unwrap_or_default()
        }
    }
    go(call, &mut layers.iter())
}

/// Binds a call's arguments to a signature, then places its layer(s).
struct Builder<'a> {
    origin: &'a str,
    statement: usize,
    layers: &'a mut Vec<PlacedLayer>,
}

/// A call's arguments bound to the names of a signature.
struct Bound<'a> {
    origin: &'a str,
    line: usize,
    what: String,
    values: Vec<(&'static str, Option<Value>)>,
}

impl Bound<'_> {
    fn fail<T>(&self, message: impl std::fmt::Display) -> Result<T, ModelError> {
        Err(ModelError::at(
            self.origin,
            self.line,
            format!("{}: {message}", self.what),
        ))
    }

    fn get(&self, key: &str) -> Option<&Value> {
        self.values
            .iter()
            .find(|(k, _)| *k == key)
            .and_then(|(_, v)| v.as_ref())
    }

    fn required(&self, key: &str) -> Result<&Value, ModelError> {
        match self.get(key) {
            Some(v) => Ok(v),
            None => self.fail(format!("missing argument '{key}'")),
        }
    }

    /// An integer argument in `lo..=hi` (a tuple of equal integers counts as one, for square sizes).
    fn int(&self, key: &str, default: Option<usize>, lo: usize, hi: usize) -> Result<usize, ModelError> {
        let v = match (self.get(key), default) {
            (None, Some(d)) => return Ok(d),
            (None, None) => self.required(key)?.clone(),
            (Some(v), _) => v.clone(),
        };
        let n = match v {
            Value::Int(i) => i,
            Value::Tuple(items) if !items.is_empty() && items.iter().all(|x| *x == items[0]) => match items[0] {
                Value::Int(i) => i,
                _ => return self.fail(format!("'{key}' must be an integer")),
            },
            Value::Tuple(_) => {
                return self.fail(format!("'{key}' must be the same along both axes (square sizes only)"));
            }
            _ => return self.fail(format!("'{key}' must be an integer, got {}", show(&v))),
        };
        if (n as i128) < lo as i128 || (n as i128) > hi as i128 {
            let range = if hi == usize::MAX {
                format!("at least {lo}")
            } else {
                format!("{lo}–{hi}")
            };
            return self.fail(format!("'{key}' is {n}, must be {range}"));
        }
        Ok(n as usize)
    }

    fn float(&self, key: &str, default: f64) -> Result<f64, ModelError> {
        match self.get(key) {
            None => Ok(default),
            Some(Value::Int(i)) => Ok(*i as f64),
            Some(Value::Float(f)) => Ok(*f),
            Some(v) => self.fail(format!("'{key}' must be a number, got {}", show(v))),
        }
    }

    fn boolean(&self, key: &str, default: bool) -> Result<bool, ModelError> {
        match self.get(key) {
            None => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(v) => self.fail(format!("'{key}' must be True or False, got {}", show(v))),
        }
    }
}

fn show(v: &Value) -> String {
    match v {
        Value::Int(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Bool(b) => if *b { "True" } else { "False" }.into(),
        Value::None => "None".into(),
        Value::Str(s) => format!("'{s}'"),
        Value::Tuple(_) => "a tuple".into(),
        Value::Call(c) => format!("{}(…)", c.module),
    }
}

/// Each module's signature: argument names in PyTorch's positional order.
fn signature(module: &str) -> Option<&'static [&'static str]> {
    Some(match module {
        "Conv2d" => &[
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
        "BatchNorm2d" => &["num_features", "eps", "momentum", "affine", "track_running_stats"],
        "ReLU" => &["inplace"],
        "Dropout" => &["p", "inplace"],
        "MaxPool2d" | "AvgPool2d" => &["kernel_size", "stride"],
        "AdaptiveAvgPool2d" => &["output_size"],
        "Flatten" => &[],
        "Linear" => &["in_features", "out_features", "bias"],
        _ => return None,
    })
}

impl Builder<'_> {
    fn bind<'c>(&self, call: &'c Call, key: &str) -> Result<Bound<'c>, ModelError>
    where
        Self: 'c,
    {
        let what = format!("{key} ({})", call.module);
        let Some(names) = signature(&call.module) else {
            return Err(ModelError::at(
                self.origin,
                call.line,
                format!(
                    "{key}: unknown module '{}' (known: {})",
                    call.module,
                    KNOWN_MODULES.join(", ")
                ),
            ));
        };
        let fail = |m: String| Err(ModelError::at(self.origin, call.line, format!("{what}: {m}")));
        if call.args.len() > names.len() {
            return fail(format!(
                "takes at most {} positional argument(s) ({}), got {}",
                names.len(),
                names.join(", "),
                call.args.len()
            ));
        }
        let mut values: Vec<(&'static str, Option<Value>)> = names.iter().map(|n| (*n, None)).collect();
        for (slot, v) in values.iter_mut().zip(&call.args) {
            slot.1 = Some(v.clone());
        }
        for (k, v) in &call.kwargs {
            match values.iter_mut().find(|(n, _)| n == k) {
                None => {
                    let known = if names.is_empty() {
                        "none".to_string()
                    } else {
                        names.join(", ")
                    };
                    return fail(format!("unknown keyword '{k}' (known: {known})"));
                }
                Some((_, Some(_))) => return fail(format!("'{k}' given both by position and by keyword")),
                Some(slot) => slot.1 = Some(v.clone()),
            }
        }
        Ok(Bound {
            origin: self.origin,
            line: call.line,
            what,
            values,
        })
    }

    /// Places `call` (a layer, or a Sequential of them) under `key`, returning the shape after it.
    fn module(&mut self, call: &Call, key: &str, input: Shape) -> Result<Shape, ModelError> {
        if call.module == "Sequential" {
            if !call.kwargs.is_empty() {
                return Err(ModelError::at(
                    self.origin,
                    call.line,
                    format!("{key} (Sequential): takes modules only, no keywords"),
                ));
            }
            if call.args.is_empty() {
                return Err(ModelError::at(
                    self.origin,
                    call.line,
                    format!("{key} (Sequential): is empty"),
                ));
            }
            let mut shape = input;
            for (i, arg) in call.args.iter().enumerate() {
                let Value::Call(child) = arg else {
                    return Err(ModelError::at(
                        self.origin,
                        call.line,
                        format!("{key} (Sequential): argument {} is {}, not a module", i + 1, show(arg)),
                    ));
                };
                shape = self.module(child, &format!("{key}.{i}"), shape)?;
            }
            return Ok(shape);
        }
        let b = self.bind(call, key)?;
        let (layer, output) = self.layer(&b, &call.module, input)?;
        self.layers.push(PlacedLayer {
            key: key.to_string(),
            layer,
            line: call.line,
            statement: self.statement,
            input,
            output,
        });
        Ok(output)
    }

    fn layer(&self, b: &Bound, module: &str, x: Shape) -> Result<(Layer, Shape), ModelError> {
        let needs_map = |b: &Bound| -> Result<(), ModelError> {
            if x.flat {
                b.fail(format!(
                    "needs a C×H×W feature map, but a flattened vector of {} reaches it",
                    x.c
                ))
            } else {
                Ok(())
            }
        };
        let big = usize::MAX;
        Ok(match module {
            "Conv2d" => {
                needs_map(b)?;
                let cin = b.int("in_channels", None, 1, big)?;
                let cout = b.int("out_channels", None, 1, big)?;
                let k = b.int("kernel_size", None, 1, 7)?;
                let stride = b.int("stride", Some(1), 1, 2)?;
                let dilation = b.int("dilation", Some(1), 1, big)?;
                let groups = b.int("groups", Some(1), 1, big)?;
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
                (
                    Layer::Conv2d(spec),
                    Shape {
                        c: cout,
                        h: oh,
                        w: ow,
                        flat: false,
                    },
                )
            }
            "BatchNorm2d" => {
                needs_map(b)?;
                let features = b.int("num_features", None, 1, big)?;
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
                (
                    Layer::BatchNorm2d {
                        features,
                        eps: eps as f32,
                        momentum: momentum as f32,
                    },
                    x,
                )
            }
            "ReLU" => {
                b.boolean("inplace", false)?;
                (Layer::Relu, x)
            }
            "Dropout" => {
                b.boolean("inplace", false)?;
                let p = b.float("p", 0.5)?;
                if !(0.0..1.0).contains(&p) {
                    return b.fail(format!("'p' is {p}, must be in [0, 1)"));
                }
                (Layer::Dropout { p: p as f32 }, x)
            }
            "MaxPool2d" | "AvgPool2d" => {
                needs_map(b)?;
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
                let layer = if module == "MaxPool2d" {
                    Layer::MaxPool2d { k, stride }
                } else {
                    Layer::AvgPool2d { k, stride }
                };
                (layer, out)
            }
            "AdaptiveAvgPool2d" => {
                needs_map(b)?;
                if b.int("output_size", None, 0, big)? != 1 {
                    return b.fail("only output_size 1 (global average pooling) is supported");
                }
                (
                    Layer::GlobalAvgPool,
                    Shape {
                        c: x.c,
                        h: 1,
                        w: 1,
                        flat: false,
                    },
                )
            }
            "Flatten" => (
                Layer::Flatten,
                Shape {
                    c: x.len(),
                    h: 1,
                    w: 1,
                    flat: true,
                },
            ),
            "Linear" => {
                let inputs = b.int("in_features", None, 1, big)?;
                let outputs = b.int("out_features", None, 1, big)?;
                let bias = b.boolean("bias", true)?;
                if inputs != x.len() {
                    return b.fail(format!(
                        "in_features is {inputs}, but {} feature(s) reach it ({x}{})",
                        x.len(),
                        if x.flat { String::new() } else { " flattened".into() }
                    ));
                }
                (
                    Layer::Linear { inputs, outputs, bias },
                    Shape {
                        c: outputs,
                        h: 1,
                        w: 1,
                        flat: true,
                    },
                )
            }
            other => unreachable!("signature() knows {other}"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        ModelSpec::parse("t", "t.model", text).unwrap_err().to_string()
    }

    #[test]
    fn defaults_keys_and_shapes_follow_pytorch() {
        let m = ModelSpec::parse(
            "t",
            "t.model",
            "input 1x28x28\nb = Sequential(Conv2d(1, 8, 3), ReLU(), BatchNorm2d(8))\np = MaxPool2d(2)\nd = Dropout()\nfc = Linear(8*13*13, 10)\n",
        );
        // `8*13*13` is not a number: arithmetic is not part of the syntax.
        assert!(m.is_err());
        let m = ModelSpec::parse(
            "t",
            "t.model",
            "input 1x28x28\nb = Sequential(Conv2d(1, 8, 3), ReLU(), BatchNorm2d(8))\np = MaxPool2d(2)\nd = Dropout()\nfc = Linear(1352, 10)\n",
        )
        .unwrap();
        let keys: Vec<&str> = m.layers.iter().map(|l| l.key.as_str()).collect();
        assert_eq!(keys, ["b.0", "b.1", "b.2", "p", "d", "fc"]);
        let Layer::Conv2d(c) = m.layers[0].layer else { panic!() };
        assert!(c.bias && c.stride == 1 && c.pad == 0 && c.groups == 1);
        assert_eq!(m.layers[3].layer, Layer::MaxPool2d { k: 2, stride: 2 });
        assert_eq!(m.layers[4].layer, Layer::Dropout { p: 0.5 });
        assert_eq!(m.layers[3].output.dims(), [8, 13, 13]);
        assert_eq!(m.params(), 8 * 9 + 8 + 16 + 1352 * 10 + 10);
        assert_eq!(m.outputs(), 10);
        assert_eq!(
            m.statements[0].module,
            "Sequential(Conv2d(1, 8, 3), ReLU(), BatchNorm2d(8))"
        );
    }

    #[test]
    fn every_mistake_names_its_line_module_and_numbers() {
        let head = "input 1x28x28\n";
        assert_eq!(
            err(&format!("{head}a = Conv2d(1, 8, 3)\nb = Conv2d(12, 24, 3)\n")),
            "t.model:3: b (Conv2d): expects 12 input channels, but the layer before gives 8 (8×26×26)"
        );
        assert!(
            err(&format!("{head}a = Conv3d(1, 8, 3)\n"))
                .contains("a: unknown module 'Conv3d' (known: Conv2d, BatchNorm2d")
        );
        assert!(
            err(&format!("{head}a = Conv2d(1, 8, 3, padd=1)\n"))
                .contains("t.model:2: a (Conv2d): unknown keyword 'padd' (known: in_channels")
        );
        assert!(err(&format!("{head}a = Conv2d(1, 8, 7)\nb = Conv2d(8, 8, 7)\nc = Conv2d(8, 8, 7)\nd = Conv2d(8, 8, 7)\ne = Conv2d(8, 8, 7)\n")).starts_with("t.model:6: e (Conv2d): the spatial size reaches 0"));
        assert_eq!(
            err(&format!("{head}g = AdaptiveAvgPool2d(1)\nfc = Linear(2, 10)\n")),
            "t.model:3: fc (Linear): in_features is 2, but 1 feature(s) reach it (1×1×1 flattened)"
        );
        assert!(
            err(&format!("{head}a = Conv2d(1, 8, 3)\nb = Conv2d(8, 6, 3, groups=4)\n"))
                .contains("groups=4 must divide both in_channels (8) and out_channels (6)")
        );
        assert_eq!(
            err("a = ReLU()\n"),
            "t.model:1: missing 'input CxHxW' line before the first module (e.g. input 1x28x28)"
        );
        assert_eq!(
            err("# nothing\n"),
            "t.model: missing 'input CxHxW' line (e.g. input 1x28x28)"
        );
        assert_eq!(
            err(&format!("{head}a = ReLU()\na = ReLU()\n")),
            "t.model:3: duplicate name 'a' (first defined at line 2)"
        );
        assert!(
            err(&format!(
                "{head}s = Sequential(\n  Conv2d(1, 4, 3),\n  BatchNorm2d(5))\n"
            ))
            .starts_with("t.model:4: s.1 (BatchNorm2d): num_features is 5")
        );
        assert!(err(&format!("{head}a = Conv2d(1, 8, 9)\n")).contains("'kernel_size' is 9, must be 1–7"));
        assert!(err(&format!("{head}f = Flatten()\nb = BatchNorm2d(784)\n")).contains("needs a C×H×W feature map"));
    }

    #[test]
    fn stride_dilation_groups_same_padding_and_pools() {
        let m = ModelSpec::parse(
            "t",
            "t",
            "input 3x28x28\na = Conv2d(3, 6, 3, stride=2, padding=1)\nd = Conv2d(6, 6, 3, padding='same', dilation=2, groups=6, bias=False)\np = AvgPool2d(2, stride=1)\n",
        )
        .unwrap();
        assert_eq!(m.layers[0].output.dims(), [6, 14, 14]);
        assert_eq!(m.layers[1].output.dims(), [6, 14, 14]);
        assert_eq!(m.layers[1].layer.params(), 6 * 9);
        assert_eq!(m.layers[2].output.dims(), [6, 13, 13]);
    }
}
