//! What a model file means: each call bound to its PyTorch signature and defaults, every layer placed
//! with its state_dict key and its input and output shapes, and every mistake reported at its line.

pub(crate) mod bound;
mod build;

use build::Builder;

pub use crate::modules::{ConvSpec, Layer};

use crate::error::ModelError;
use crate::syntax::{Call, Statement, Value, parse_statements};

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
