//! A network's evaluation-mode function, rebuilt from layers whose backward needs no batch: every
//! BatchNorm2d becomes the per-channel affine map it is in evaluation (a 1×1 depthwise convolution with
//! bias, weight γ/√(var + ε), bias β − mean·weight) and every Dropout drops nothing. Run in training mode
//! (so each layer keeps what its backward needs), it gives the evaluation output exactly, and its backward
//! gives ∂output/∂input of the trained model — what saliency maps and Grad-CAM need. The engine's fused
//! blocks only backpropagate batch statistics, which is training's function, not the model's.

use std::collections::HashMap;

use crate::network::Network;
use crate::spec::{ConvSpec, Layer};

/// The evaluation-mode function of `net` as a network whose training-mode passes compute it.
pub fn frozen(net: &Network) -> Network {
    let mut spec = net.spec().clone();
    for placed in &mut spec.layers {
        placed.layer = match placed.layer {
            Layer::BatchNorm2d { features, .. } => Layer::Conv2d(ConvSpec {
                cin: features,
                cout: features,
                k: 1,
                stride: 1,
                pad: 0,
                dilation: 1,
                groups: features,
                bias: true,
            }),
            Layer::Dropout { .. } => Layer::Dropout { p: 0.0 },
            other => other,
        };
    }
    let mut source = net.clone();
    let mut values: HashMap<String, Vec<f32>> = source
        .named_params()
        .into_iter()
        .map(|(key, p)| (key, p.value.clone()))
        .collect();
    for (prefix, bn) in source.batch_norms_mut() {
        let (scale, shift) = bn.eval_affine();
        values.insert(format!("{prefix}.weight"), scale);
        values.insert(format!("{prefix}.bias"), shift);
    }
    let mut out = Network::new(&spec, 0);
    for (key, param) in out.named_params_mut() {
        let value = values.get(&key).expect("every frozen tensor has a source tensor");
        param.value.copy_from_slice(value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shipped::shipped;
    use nnlab_nn::{Mode, Tensor};

    /// A network whose BatchNorms have seen a few training batches (so running statistics are not 0/1).
    fn trained_a_little(name: &str) -> Network {
        let mut net = Network::new(&shipped(name).unwrap(), 5);
        for step in 0..3 {
            let x = Tensor::from_vec(
                [8, 1, 28, 28],
                (0..8 * 784)
                    .map(|i| ((i * 37 + step * 11) % 97) as f32 / 50.0 - 0.7)
                    .collect(),
            );
            net.forward(x, Mode::Train, step as u64);
        }
        net
    }

    fn input() -> Tensor {
        Tensor::from_vec(
            [1, 1, 28, 28],
            (0..784).map(|i| ((i * 13) % 29) as f32 / 14.0 - 0.5).collect(),
        )
    }

    #[test]
    fn the_frozen_network_computes_the_evaluation_output() {
        for name in ["seed", "small8k"] {
            let mut net = trained_a_little(name);
            let eval = net.forward(input(), Mode::Eval, 0);
            let mut f = frozen(&net);
            let train = f.forward(input(), Mode::Train, 0);
            for (a, b) in eval.data.iter().zip(&train.data) {
                assert!((a - b).abs() < 1e-4, "{name}: {a} vs {b}");
            }
        }
    }

    /// The gradient of one logit with respect to the input, by backward, equals central differences of
    /// the evaluation-mode forward of the original network.
    #[test]
    fn the_input_gradient_matches_finite_differences_of_evaluation() {
        let mut net = trained_a_little("small8k");
        let mut f = frozen(&net);
        let (logits, _) = f.forward_traced(input(), Mode::Train);
        let class = 3;
        let mut d = vec![0.0; logits.data.len()];
        d[class] = 1.0;
        let (dx, grads) = f.backward_to_input(Tensor::from_vec(logits.shape, d));
        assert_eq!(grads.len(), f.execution_plan().len());
        let score = |net: &mut Network, x: Tensor| net.forward(x, Mode::Eval, 0).data[class] as f64;
        let h = 1e-2f32;
        for pixel in [100, 300, 406, 407, 600] {
            let (mut plus, mut minus) = (input(), input());
            plus.data[pixel] += h;
            minus.data[pixel] -= h;
            let numeric = (score(&mut net, plus) - score(&mut net, minus)) / (2.0 * h as f64);
            let analytic = dx.data[pixel] as f64;
            assert!(
                (numeric - analytic).abs() <= 2e-3 + 2e-2 * analytic.abs(),
                "pixel {pixel}: backward {analytic}, finite differences {numeric}"
            );
        }
    }
}
