//! Binding a call's arguments to its module's PyTorch signature (positional order, keywords, defaults),
//! then checking the layer against the shape that reaches it and placing it with its state_dict key.

use super::{ConvSpec, KNOWN_MODULES, Layer, PlacedLayer, Shape};
use crate::error::ModelError;
use crate::syntax::{Call, Value};

/// Binds a call's arguments to a signature, then places its layer(s).
pub(super) struct Builder<'a> {
    pub(super) origin: &'a str,
    pub(super) statement: usize,
    pub(super) layers: &'a mut Vec<PlacedLayer>,
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
    pub(super) fn module(&mut self, call: &Call, key: &str, input: Shape) -> Result<Shape, ModelError> {
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
