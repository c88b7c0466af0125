//! Gradients derived three independent ways, side by side: the closed-form chain rule, the autograd
//! engine, and central finite differences.

use crate::mlp::{Example, Mlp};
use crate::network::Net222;

/// Step for central differences: small enough for truncation error ~1e-12, large enough for rounding.
pub const FINITE_DIFFERENCE_STEP: f64 = 1e-6;

/// The three derivations of ∂E_total/∂p for every parameter (the weights, then any biases).
#[derive(Debug, Clone, PartialEq)]
pub struct GradientComparison {
    /// Parameter names, in the order of the vectors below (`w1`, …, then `b1`, …).
    pub names: Vec<String>,
    /// E_total at the weights compared.
    pub loss: f64,
    /// The chain rule written out (the worksheet's formulas, or the delta rule for other shapes).
    pub closed_form: Vec<f64>,
    /// Reverse-mode autograd.
    pub autograd: Vec<f64>,
    /// Central finite differences.
    pub finite_difference: Vec<f64>,
}

impl GradientComparison {
    /// The worksheet's 2-2-2 network, with its hand-written chain-rule formulas as the closed form; with
    /// `with_biases` the two shared biases are compared too.
    pub fn for_net222(net: &Net222, with_biases: bool) -> Self {
        let mlp = Mlp::from_net222(net, with_biases);
        let example = [Example {
            inputs: net.inputs.to_vec(),
            targets: net.targets.to_vec(),
        }];
        let (loss, autograd) = mlp.autograd_gradients(&example);
        let f = net.forward();
        let mut closed_form = net.gradients(&f).to_vec();
        if with_biases {
            closed_form.extend(net.bias_gradients(&f));
        }
        Self {
            names: mlp.parameter_names(),
            loss,
            closed_form,
            autograd,
            finite_difference: mlp.finite_difference_gradients(&example, FINITE_DIFFERENCE_STEP),
        }
    }

    /// Any fully connected network on one or several examples (the loss summed over them), with the delta
    /// rule as the closed form.
    pub fn for_mlp(mlp: &Mlp, examples: &[Example]) -> Self {
        let (loss, autograd) = mlp.autograd_gradients(examples);
        Self {
            names: mlp.parameter_names(),
            loss,
            closed_form: mlp.backprop_gradients(examples),
            autograd,
            finite_difference: mlp.finite_difference_gradients(examples, FINITE_DIFFERENCE_STEP),
        }
    }

    /// Largest |closed form − autograd|, |closed form − finite difference| and |autograd − finite difference|.
    pub fn max_differences(&self) -> [f64; 3] {
        let max_diff = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max);
        [
            max_diff(&self.closed_form, &self.autograd),
            max_diff(&self.closed_form, &self.finite_difference),
            max_diff(&self.autograd, &self.finite_difference),
        ]
    }
}

/// Shorthand for [`GradientComparison::for_net222`] on the worksheet's bias-free network.
pub fn compare_gradients(net: &Net222) -> GradientComparison {
    GradientComparison::for_net222(net, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_three_agree_on_the_worksheet() {
        let c = compare_gradients(&Net222::default());
        let [ca, cf, af] = c.max_differences();
        assert!(ca < 1e-17, "{ca}");
        assert!(cf < 1e-10 && af < 1e-10, "{cf} {af}");
    }

    #[test]
    fn all_three_agree_on_the_biases() {
        let net = Net222::default().with_biases([0.35, 0.6]).unwrap();
        let c = GradientComparison::for_net222(&net, true);
        assert_eq!(c.names[8..], ["b1", "b2"]);
        let [ca, cf, af] = c.max_differences();
        assert!(ca < 1e-16 && cf < 1e-10 && af < 1e-10, "{ca} {cf} {af}");
    }

    #[test]
    fn a_wrong_formula_would_be_caught() {
        let mut c = compare_gradients(&Net222::default());
        c.closed_form[2] *= 1.01;
        assert!(c.max_differences()[1] > 1e-7);
    }
}
