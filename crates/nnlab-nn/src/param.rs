//! A trainable tensor with its gradient and its optimizer state.

/// Values, accumulated gradient and momentum buffer of one parameter tensor.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    /// Shape, PyTorch convention (OIHW for convolutions, [out, in] for linear layers).
    pub shape: Vec<usize>,
    /// Current values.
    pub value: Vec<f32>,
    /// ∂loss/∂value from the last backward pass.
    pub grad: Vec<f32>,
    /// SGD momentum buffer, or Adam's first moment (`exp_avg`).
    pub velocity: Vec<f32>,
    /// Adam's second moment (`exp_avg_sq`); empty until Adam first steps this parameter.
    pub second: Vec<f32>,
}

impl Param {
    /// A parameter with the given shape and values, zero gradient and velocity.
    pub fn new(shape: Vec<usize>, value: Vec<f32>) -> Self {
        assert_eq!(shape.iter().product::<usize>(), value.len());
        let n = value.len();
        Self {
            shape,
            value,
            grad: vec![0.0; n],
            velocity: vec![0.0; n],
            second: Vec::new(),
        }
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        self.value.len()
    }

    /// True for a parameter with no values.
    pub fn is_empty(&self) -> bool {
        self.value.is_empty()
    }
}
