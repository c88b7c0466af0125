//! The torchinfo-style table of any model: per statement its output shape, parameters, receptive field
//! and jump (stride, dilation and pooling included), and multiply-adds per image.

use crate::spec::{Layer, ModelSpec};

/// One row of the summary: one statement of the model file.
#[derive(Debug, Clone, PartialEq)]
pub struct StatementSummary {
    /// The statement's name.
    pub name: String,
    /// The module as PyTorch prints its constructor.
    pub module: String,
    /// Output C×H×W (features, 1, 1 once flattened).
    pub output: [usize; 3],
    /// Whether the output has been flattened to a vector.
    pub flat: bool,
    /// Trainable parameters.
    pub params: usize,
    /// Receptive field (input pixels one output value sees, along one axis) after the statement.
    pub rf: usize,
    /// Jump: input pixels between adjacent outputs after the statement.
    pub jump: usize,
    /// Multiply-adds per image (convolutions and linear layers).
    pub macs: usize,
}

/// Receptive field and jump after `layer`, from those before it: r += (span − 1)·j, j *= stride.
/// Global pooling and the layers after it leave them as they are (the table's convention).
pub fn grow_receptive_field(layer: &Layer, rf: usize, jump: usize) -> (usize, usize) {
    let (span, stride) = layer.window();
    (rf + (span - 1) * jump, jump * stride)
}

/// Multiply-adds of one layer for one image.
pub fn layer_macs(layer: &Layer, output: [usize; 3]) -> usize {
    layer.macs(output)
}

/// One row per statement, in file order.
pub fn summarize(spec: &ModelSpec) -> Vec<StatementSummary> {
    let (mut rf, mut jump) = (1, 1);
    spec.statements
        .iter()
        .map(|st| {
            let layers = &spec.layers[st.layers.clone()];
            let (mut params, mut macs) = (0, 0);
            for l in layers {
                (rf, jump) = grow_receptive_field(&l.layer, rf, jump);
                params += l.layer.params();
                macs += layer_macs(&l.layer, l.output.dims());
            }
            StatementSummary {
                name: st.name.clone(),
                module: st.module.clone(),
                output: layers.last().map_or([0; 3], |l| l.output.dims()),
                flat: layers.last().is_some_and(|l| l.output.flat),
                params,
                rf,
                jump,
                macs,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shipped::shipped;

    #[test]
    fn the_seed_model_has_the_recipes_table() {
        let seed = shipped("seed").unwrap();
        let rows = summarize(&seed);
        assert_eq!(rows.iter().map(|r| r.params).sum::<usize>(), 18_934);
        assert_eq!(
            rows.iter().map(|r| r.rf).collect::<Vec<_>>(),
            [3, 5, 5, 6, 10, 14, 14, 16, 24, 32, 32, 32]
        );
        assert_eq!(
            rows.iter().map(|r| r.params).collect::<Vec<_>>(),
            [132, 2640, 288, 0, 2200, 5824, 512, 0, 2336, 4672, 0, 330]
        );
        assert_eq!(rows[4].output, [20, 10, 10]);
        // docs/recipe.md: about 2.75 M multiply-adds per image.
        assert_eq!(rows.iter().map(|r| r.macs).sum::<usize>(), 2_748_208);
    }

    #[test]
    fn stride_and_dilation_grow_the_receptive_field() {
        let m = ModelSpec::parse(
            "t",
            "t",
            "input 1x28x28\na = Conv2d(1, 4, 3, stride=2)\nb = Conv2d(4, 4, 3, dilation=2)\np = MaxPool2d(2)\n",
        )
        .unwrap();
        let rows = summarize(&m);
        assert_eq!((rows[0].rf, rows[0].jump), (3, 2));
        assert_eq!((rows[1].rf, rows[1].jump), (3 + 4 * 2, 2));
        assert_eq!((rows[2].rf, rows[2].jump), (11 + 2, 4));
    }
}
