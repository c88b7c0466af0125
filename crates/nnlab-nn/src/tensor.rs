//! A batch of feature maps: shape N×C×H×W, data contiguous in that order.

/// N×C×H×W f32 values.
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    /// [N, C, H, W].
    pub shape: [usize; 4],
    /// Values, NCHW order.
    pub data: Vec<f32>,
}

impl Tensor {
    /// A zero tensor.
    pub fn zeros(shape: [usize; 4]) -> Self {
        Self {
            shape,
            data: vec![0.0; shape.iter().product()],
        }
    }

    /// Wraps data of the given shape.
    pub fn from_vec(shape: [usize; 4], data: Vec<f32>) -> Self {
        assert_eq!(
            shape.iter().product::<usize>(),
            data.len(),
            "tensor data does not match shape {shape:?}"
        );
        Self { shape, data }
    }

    /// Batch size.
    pub fn n(&self) -> usize {
        self.shape[0]
    }

    /// Values per image (C·H·W).
    pub fn per_image(&self) -> usize {
        self.shape[1] * self.shape[2] * self.shape[3]
    }

    /// Spatial size H·W.
    pub fn plane(&self) -> usize {
        self.shape[2] * self.shape[3]
    }
}
