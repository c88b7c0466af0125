//! Gradients derived three independent ways, side by side: the closed-form chain rule, the autograd
//! engine, and central finite differences.

use crate::mlp::Mlp;
use crate::network::Net222;

/// Step for central differences: small enough for truncation error ~1e-12, large enough for rounding.
pub const FINITE_DIFFERENCE_STEP: f64 = 1e-6;

/// The three derivations of ∂E_total/∂w for every weight.
#[derive(Debug, Clone, PartialEq)]
pub struct GradientComparison {
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
    /// The worksheet's 2-2-2 network, with its hand-written chain-rule formulas as the closed form.
    pub fn for_net222(net: &Net222) -> Self {
        let mlp = Mlp::from_net222(net);
        let (loss, autograd) = mlp.autograd_gradients(&net.inputs, &net.targets);
        Self {
            loss,
            closed_form: net.gradients(&net.forward()).to_vec(),
            autograd,
            finite_difference: mlp.finite_difference_gradients(&net.inputs, &net.targets, FINITE_DIFFERENCE_STEP),
        }
    }

    /// Any fully connected network, with the delta rule as the closed form.
    pub fn for_mlp(mlp: &Mlp, inputs: &[f64], targets: &[f64]) -> Self {
        let (loss, autograd) = mlp.autograd_gradients(inputs, targets);
        Self {
            loss,
            closed_form: mlp.backprop_gradients(inputs, targets),
            autograd,
            finite_difference: mlp.finite_difference_gradients(inputs, targets, FINITE_DIFFERENCE_STEP),
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

/// Shorthand for [`GradientComparison::for_net222`].
pub fn compare_gradients(net: &Net222) -> GradientComparison {
    GradientComparison::for_net222(net)
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
    fn a_wrong_formula_would_be_caught() {
        let mut c = compare_gradients(&Net222::default());
        c.closed_form[2] *= 1.01;
        assert!(c.max_differences()[1] > 1e-7);
    }
}
