//! The 2-2-2 network of the worksheet: forward pass, loss and the closed-form chain-rule gradients.

use crate::error::{BackpropError, ensure_finite};

/// The logistic sigmoid σ(x) = 1 / (1 + e^-x), used on every unit.
pub fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// Names of the eight weights, in worksheet order (w1..w4 input→hidden, w5..w8 hidden→output).
pub const WEIGHT_NAMES: [&str; 8] = ["w1", "w2", "w3", "w4", "w5", "w6", "w7", "w8"];

/// Names of the two biases: b1 is shared by the hidden units, b2 by the output units.
pub const BIAS_NAMES: [&str; 2] = ["b1", "b2"];

/// One configuration of the 2-2-2 network: inputs, targets, the eight weights and the two biases.
///
/// The worksheet has no biases; they are zero unless set, and a zero bias adds exactly nothing, so a
/// network without biases computes bit for bit what the worksheet computes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Net222 {
    /// Inputs i1, i2.
    pub inputs: [f64; 2],
    /// Targets t1, t2.
    pub targets: [f64; 2],
    /// Weights w1..w8.
    pub weights: [f64; 8],
    /// Biases b1 (hidden layer, shared by h1 and h2) and b2 (output layer, shared by o1 and o2).
    pub biases: [f64; 2],
}

impl Default for Net222 {
    /// The classic worksheet: i = (0.05, 0.1), t = (0.5, 0.5), w = 0.15, 0.2, …, 0.55.
    fn default() -> Self {
        Self {
            inputs: [0.05, 0.1],
            targets: [0.5, 0.5],
            weights: [0.15, 0.2, 0.25, 0.3, 0.4, 0.45, 0.5, 0.55],
            biases: [0.0, 0.0],
        }
    }
}

/// Every intermediate value of one forward pass and its loss.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Forward {
    /// Net input of hidden unit 1: w1·i1 + w2·i2 (+ b1).
    pub h1: f64,
    /// Activation of hidden unit 1.
    pub a_h1: f64,
    /// Net input of hidden unit 2: w3·i1 + w4·i2 (+ b1).
    pub h2: f64,
    /// Activation of hidden unit 2.
    pub a_h2: f64,
    /// Net input of output unit 1: w5·a_h1 + w6·a_h2 (+ b2).
    pub o1: f64,
    /// Activation of output unit 1.
    pub a_o1: f64,
    /// Net input of output unit 2: w7·a_h1 + w8·a_h2 (+ b2).
    pub o2: f64,
    /// Activation of output unit 2.
    pub a_o2: f64,
    /// ½(t1 − a_o1)².
    pub e1: f64,
    /// ½(t2 − a_o2)².
    pub e2: f64,
    /// E1 + E2.
    pub e_total: f64,
}

impl Net222 {
    /// Builds a network after checking every number is finite.
    pub fn new(inputs: [f64; 2], targets: [f64; 2], weights: [f64; 8]) -> Result<Self, BackpropError> {
        for (k, v) in inputs.iter().enumerate() {
            ensure_finite(&format!("i{}", k + 1), *v)?;
        }
        for (k, v) in targets.iter().enumerate() {
            ensure_finite(&format!("t{}", k + 1), *v)?;
        }
        for (name, v) in WEIGHT_NAMES.iter().zip(&weights) {
            ensure_finite(name, *v)?;
        }
        Ok(Self {
            inputs,
            targets,
            weights,
            biases: [0.0, 0.0],
        })
    }

    /// The same network with biases b1, b2 (checked finite).
    pub fn with_biases(self, biases: [f64; 2]) -> Result<Self, BackpropError> {
        for (name, v) in BIAS_NAMES.iter().zip(&biases) {
            ensure_finite(name, *v)?;
        }
        Ok(Self { biases, ..self })
    }

    /// The forward pass and the loss, exactly as the worksheet computes them.
    pub fn forward(&self) -> Forward {
        let [i1, i2] = self.inputs;
        let [t1, t2] = self.targets;
        let [w1, w2, w3, w4, w5, w6, w7, w8] = self.weights;
        let [b1, b2] = self.biases;
        let h1 = w1 * i1 + w2 * i2 + b1;
        let a_h1 = sigmoid(h1);
        let h2 = w3 * i1 + w4 * i2 + b1;
        let a_h2 = sigmoid(h2);
        let o1 = w5 * a_h1 + w6 * a_h2 + b2;
        let a_o1 = sigmoid(o1);
        let o2 = w7 * a_h1 + w8 * a_h2 + b2;
        let a_o2 = sigmoid(o2);
        let e1 = 0.5 * (t1 - a_o1).powi(2);
        let e2 = 0.5 * (t2 - a_o2).powi(2);
        Forward {
            h1,
            a_h1,
            h2,
            a_h2,
            o1,
            a_o1,
            o2,
            a_o2,
            e1,
            e2,
            e_total: e1 + e2,
        }
    }

    /// ∂E_total/∂w1..w8 by the chain rule written out by hand, from a forward pass of this network.
    pub fn gradients(&self, f: &Forward) -> [f64; 8] {
        let [i1, i2] = self.inputs;
        // δ of each output unit is ∂E/∂a_o · ∂a_o/∂o; each hidden unit feeds both outputs, so its δ sums two
        // paths (see `deltas`).
        let [delta_h1, delta_h2, delta_o1, delta_o2] = self.deltas(f);
        [
            delta_h1 * i1,
            delta_h1 * i2,
            delta_h2 * i1,
            delta_h2 * i2,
            delta_o1 * f.a_h1,
            delta_o1 * f.a_h2,
            delta_o2 * f.a_h1,
            delta_o2 * f.a_h2,
        ]
    }

    /// The δ (∂E/∂net input) of every unit: [δh1, δh2, δo1, δo2].
    pub fn deltas(&self, f: &Forward) -> [f64; 4] {
        let [t1, t2] = self.targets;
        let [_, _, _, _, w5, w6, w7, w8] = self.weights;
        let delta_o1 = (f.a_o1 - t1) * f.a_o1 * (1.0 - f.a_o1);
        let delta_o2 = (f.a_o2 - t2) * f.a_o2 * (1.0 - f.a_o2);
        let delta_h1 = (delta_o1 * w5 + delta_o2 * w7) * f.a_h1 * (1.0 - f.a_h1);
        let delta_h2 = (delta_o1 * w6 + delta_o2 * w8) * f.a_h2 * (1.0 - f.a_h2);
        [delta_h1, delta_h2, delta_o1, delta_o2]
    }

    /// ∂E_total/∂b1 and ∂E_total/∂b2: a bias shared by a layer's units enters each of their net inputs
    /// with slope 1, so its gradient is the sum of their δs.
    pub fn bias_gradients(&self, f: &Forward) -> [f64; 2] {
        let [dh1, dh2, do1, do2] = self.deltas(f);
        [dh1 + dh2, do1 + do2]
    }

    /// E_total as a function of the weights alone, for finite differences.
    pub fn loss_with(&self, weights: [f64; 8]) -> f64 {
        Net222 { weights, ..*self }.forward().e_total
    }

    /// E_total as a function of the biases alone, for finite differences.
    pub fn loss_with_biases(&self, biases: [f64; 2]) -> f64 {
        Net222 { biases, ..*self }.forward().e_total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_iteration_matches_recipe_exactly() {
        let net = Net222::default();
        let f = net.forward();
        // docs/recipe.md prints h1 and h2 rounded; f64 gives 0.15·0.05 + 0.2·0.1 = 0.027500000000000004.
        assert!((f.h1 - 0.0275).abs() < 1e-17);
        assert_eq!(f.a_h1, 0.5068745667645342);
        assert!((f.h2 - 0.0425).abs() < 1e-17);
        assert_eq!(f.a_h2, 0.5106234010049637);
        assert_eq!(f.o1, 0.4325303571580474);
        assert_eq!(f.a_o1, 0.606477732206728);
        assert_eq!(f.o2, 0.5342801539349972);
        assert_eq!(f.a_o2, 0.6304808354506348);
        assert_eq!(f.e_total, 0.014181377937891659);
        let g = net.gradients(&f);
        assert_eq!(g[4], 0.01288081863162825);
        assert_eq!(g[0], 0.0003169933959102902);
    }

    #[test]
    fn closed_form_matches_central_differences() {
        let net = Net222::new([0.3, -0.7], [0.9, 0.1], [-0.4, 0.25, 0.6, -1.1, 0.8, -0.3, 0.05, 1.7]).unwrap();
        let g = net.gradients(&net.forward());
        for k in 0..8 {
            let eps = 1e-6;
            let (mut up, mut down) = (net.weights, net.weights);
            up[k] += eps;
            down[k] -= eps;
            let fd = (net.loss_with(up) - net.loss_with(down)) / (2.0 * eps);
            assert!((fd - g[k]).abs() < 1e-9, "w{}: {fd} vs {}", k + 1, g[k]);
        }
    }

    #[test]
    fn zero_biases_change_nothing_and_bias_gradients_match_central_differences() {
        let plain = Net222::default();
        let zero = plain.with_biases([0.0, 0.0]).unwrap();
        assert_eq!(plain.forward(), zero.forward());
        // The best-known worked example with biases: b1 = 0.35, b2 = 0.60, targets 0.01, 0.99.
        let net = Net222::new([0.05, 0.1], [0.01, 0.99], [0.15, 0.2, 0.25, 0.3, 0.4, 0.45, 0.5, 0.55])
            .unwrap()
            .with_biases([0.35, 0.6])
            .unwrap();
        let f = net.forward();
        assert!((f.h1 - 0.3775).abs() < 1e-15);
        assert!((f.a_o1 - 0.75136507).abs() < 1e-8);
        assert!((f.e_total - 0.298371109).abs() < 1e-9);
        assert!((net.gradients(&f)[4] - 0.082167041).abs() < 1e-9);
        let g = net.bias_gradients(&f);
        for k in 0..2 {
            let eps = 1e-6;
            let (mut up, mut down) = (net.biases, net.biases);
            up[k] += eps;
            down[k] -= eps;
            let fd = (net.loss_with_biases(up) - net.loss_with_biases(down)) / (2.0 * eps);
            assert!((fd - g[k]).abs() < 1e-9, "b{}: {fd} vs {}", k + 1, g[k]);
        }
        assert!(zero.with_biases([f64::NAN, 0.0]).is_err());
    }

    #[test]
    fn rejects_non_finite_numbers() {
        let err = Net222::new([f64::NAN, 0.0], [0.5, 0.5], [0.0; 8]).unwrap_err();
        assert_eq!(err.to_string(), "i1 must be a finite number, got NaN");
    }
}
