//! The first iteration derived step by step: every forward formula with its numbers, the loss, and each
//! ∂E_total/∂wk written as its chain-rule product.

use crate::network::Net222;

/// One line of the derivation: `symbol = formula = formula with numbers = value`.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// What is computed, e.g. `a_h1` or `∂E/∂w5`.
    pub symbol: String,
    /// The formula in symbols.
    pub formula: String,
    /// The same formula with this iteration's numbers substituted.
    pub substituted: String,
    /// The exact f64 result.
    pub value: f64,
}

/// The derivation in three parts, as the worksheet is laid out.
#[derive(Debug, Clone, PartialEq)]
pub struct Derivation {
    /// h1 … a_o2.
    pub forward: Vec<Step>,
    /// E1, E2, E_total.
    pub loss: Vec<Step>,
    /// The output deltas, hidden deltas, then ∂E/∂w5..w8 and ∂E/∂w1..w4.
    pub gradients: Vec<Step>,
}

fn n(x: f64) -> String {
    let s = format!("{x:.10}");
    let s = s.trim_end_matches('0').trim_end_matches('.').to_string();
    if x < 0.0 { format!("({s})") } else { s }
}

fn step(symbol: &str, formula: &str, substituted: String, value: f64) -> Step {
    Step {
        symbol: symbol.into(),
        formula: formula.into(),
        substituted,
        value,
    }
}

/// Derives iteration 1 of `net`; every value equals the engine's (`Net222::forward`, `Net222::gradients`).
/// With `with_biases` each net input shows its bias and the gradients end with ∂E/∂b1 and ∂E/∂b2.
pub fn derive(net: &Net222, with_biases: bool) -> Derivation {
    let f = net.forward();
    let g = net.gradients(&f);
    let [i1, i2] = net.inputs;
    let [t1, t2] = net.targets;
    let [w1, w2, w3, w4, w5, w6, w7, w8] = net.weights;
    let [b1, b2] = net.biases;
    // A net input `wa·xa + wb·xb`, with `+ b` when the network has biases.
    let net_input = |symbol: &str, w: [(&str, f64); 2], x: [(&str, f64); 2], bias: (&str, f64), value: f64| {
        let mut formula = format!("{}·{} + {}·{}", w[0].0, x[0].0, w[1].0, x[1].0);
        let mut substituted = format!("{}·{} + {}·{}", n(w[0].1), n(x[0].1), n(w[1].1), n(x[1].1));
        if with_biases {
            formula.push_str(&format!(" + {}", bias.0));
            substituted.push_str(&format!(" + {}", n(bias.1)));
        }
        step(symbol, &formula, substituted, value)
    };
    let forward = vec![
        net_input(
            "h1",
            [("w1", w1), ("w2", w2)],
            [("i1", i1), ("i2", i2)],
            ("b1", b1),
            f.h1,
        ),
        step("a_h1", "σ(h1) = 1/(1+e^-h1)", format!("σ({})", n(f.h1)), f.a_h1),
        net_input(
            "h2",
            [("w3", w3), ("w4", w4)],
            [("i1", i1), ("i2", i2)],
            ("b1", b1),
            f.h2,
        ),
        step("a_h2", "σ(h2)", format!("σ({})", n(f.h2)), f.a_h2),
        net_input(
            "o1",
            [("w5", w5), ("w6", w6)],
            [("a_h1", f.a_h1), ("a_h2", f.a_h2)],
            ("b2", b2),
            f.o1,
        ),
        step("a_o1", "σ(o1)", format!("σ({})", n(f.o1)), f.a_o1),
        net_input(
            "o2",
            [("w7", w7), ("w8", w8)],
            [("a_h1", f.a_h1), ("a_h2", f.a_h2)],
            ("b2", b2),
            f.o2,
        ),
        step("a_o2", "σ(o2)", format!("σ({})", n(f.o2)), f.a_o2),
    ];
    let loss = vec![
        step("E1", "½(t1 − a_o1)²", format!("½({} − {})²", n(t1), n(f.a_o1)), f.e1),
        step("E2", "½(t2 − a_o2)²", format!("½({} − {})²", n(t2), n(f.a_o2)), f.e2),
        step("E_total", "E1 + E2", format!("{} + {}", n(f.e1), n(f.e2)), f.e_total),
    ];
    let d_o1 = (f.a_o1 - t1) * f.a_o1 * (1.0 - f.a_o1);
    let d_o2 = (f.a_o2 - t2) * f.a_o2 * (1.0 - f.a_o2);
    let s_o1 = f.a_o1 * (1.0 - f.a_o1);
    let s_o2 = f.a_o2 * (1.0 - f.a_o2);
    let s_h1 = f.a_h1 * (1.0 - f.a_h1);
    let s_h2 = f.a_h2 * (1.0 - f.a_h2);
    let e_h1 = d_o1 * w5 + d_o2 * w7;
    let e_h2 = d_o1 * w6 + d_o2 * w8;
    let output_grad = |k: usize, delta: &str, d: f64, s: f64, a_o: f64, t: f64, hidden: &str, a: f64| {
        step(
            &format!("∂E/∂w{k}"),
            &format!(
                "∂E/∂a_{delta} · ∂a_{delta}/∂{delta} · ∂{delta}/∂w{k} = (a_{delta} − t) · a_{delta}(1 − a_{delta}) · {hidden}"
            ),
            format!("{} · {} · {}", n(a_o - t), n(s), n(a)),
            d * a,
        )
    };
    let hidden_grad = |k: usize, unit: &str, via: &str, e: f64, s: f64, input: &str, x: f64| {
        step(
            &format!("∂E/∂w{k}"),
            &format!("∂E/∂a_{unit} · ∂a_{unit}/∂{unit} · ∂{unit}/∂w{k} = ({via}) · a_{unit}(1 − a_{unit}) · {input}"),
            format!("{} · {} · {}", n(e), n(s), n(x)),
            e * s * x,
        )
    };
    let mut gradients = vec![
        step(
            "δo1",
            "(a_o1 − t1) · a_o1(1 − a_o1)",
            format!("{} · {}", n(f.a_o1 - t1), n(s_o1)),
            d_o1,
        ),
        step(
            "δo2",
            "(a_o2 − t2) · a_o2(1 − a_o2)",
            format!("{} · {}", n(f.a_o2 - t2), n(s_o2)),
            d_o2,
        ),
        output_grad(5, "o1", d_o1, s_o1, f.a_o1, t1, "a_h1", f.a_h1),
        output_grad(6, "o1", d_o1, s_o1, f.a_o1, t1, "a_h2", f.a_h2),
        output_grad(7, "o2", d_o2, s_o2, f.a_o2, t2, "a_h1", f.a_h1),
        output_grad(8, "o2", d_o2, s_o2, f.a_o2, t2, "a_h2", f.a_h2),
        step(
            "∂E/∂a_h1",
            "δo1·w5 + δo2·w7 (a_h1 feeds both outputs)",
            format!("{}·{} + {}·{}", n(d_o1), n(w5), n(d_o2), n(w7)),
            e_h1,
        ),
        step(
            "∂E/∂a_h2",
            "δo1·w6 + δo2·w8 (a_h2 feeds both outputs)",
            format!("{}·{} + {}·{}", n(d_o1), n(w6), n(d_o2), n(w8)),
            e_h2,
        ),
        hidden_grad(1, "h1", "δo1·w5 + δo2·w7", e_h1, s_h1, "i1", i1),
        hidden_grad(2, "h1", "δo1·w5 + δo2·w7", e_h1, s_h1, "i2", i2),
        hidden_grad(3, "h2", "δo1·w6 + δo2·w8", e_h2, s_h2, "i1", i1),
        hidden_grad(4, "h2", "δo1·w6 + δo2·w8", e_h2, s_h2, "i2", i2),
    ];
    if with_biases {
        let [d_h1, d_h2, _, _] = net.deltas(&f);
        let [g_b1, g_b2] = net.bias_gradients(&f);
        gradients.extend([
            step(
                "δh1",
                "∂E/∂a_h1 · a_h1(1 − a_h1)",
                format!("{} · {}", n(e_h1), n(s_h1)),
                d_h1,
            ),
            step(
                "δh2",
                "∂E/∂a_h2 · a_h2(1 − a_h2)",
                format!("{} · {}", n(e_h2), n(s_h2)),
                d_h2,
            ),
            step(
                "∂E/∂b2",
                "δo1·∂o1/∂b2 + δo2·∂o2/∂b2 = δo1 + δo2 (b2 enters o1 and o2 with slope 1)",
                format!("{} + {}", n(d_o1), n(d_o2)),
                g_b2,
            ),
            step(
                "∂E/∂b1",
                "δh1·∂h1/∂b1 + δh2·∂h2/∂b1 = δh1 + δh2 (b1 enters h1 and h2 with slope 1)",
                format!("{} + {}", n(d_h1), n(d_h2)),
                g_b1,
            ),
        ]);
    }
    // Pin each gradient step to the engine's value so the explanation can never drift from the table.
    for s in gradients.iter_mut() {
        if let Some(k) = s.symbol.strip_prefix("∂E/∂w").and_then(|k| k.parse::<usize>().ok()) {
            debug_assert!((s.value - g[k - 1]).abs() <= 1e-15 * g[k - 1].abs().max(1e-300) * 4.0);
            s.value = g[k - 1];
        }
    }
    Derivation {
        forward,
        loss,
        gradients,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derivation_values_equal_the_engine() {
        let net = Net222::default();
        let d = derive(&net, false);
        assert_eq!(d.forward[1].value, 0.5068745667645342);
        assert_eq!(d.loss[2].value, 0.014181377937891659);
        let w5 = d.gradients.iter().find(|s| s.symbol == "∂E/∂w5").unwrap();
        assert_eq!(w5.value, 0.01288081863162825);
        assert!(w5.formula.contains("a_o1(1 − a_o1)"));
        assert_eq!(d.gradients.iter().filter(|s| s.symbol.starts_with("∂E/∂w")).count(), 8);
        assert!(!d.forward[0].formula.contains("b1"));
    }

    #[test]
    fn biases_appear_in_net_inputs_and_get_their_own_chain_rule_lines() {
        let net = Net222::default().with_biases([0.35, 0.6]).unwrap();
        let d = derive(&net, true);
        assert_eq!(d.forward[0].formula, "w1·i1 + w2·i2 + b1");
        assert_eq!(d.forward[0].substituted, "0.15·0.05 + 0.2·0.1 + 0.35");
        let f = net.forward();
        let by = |sym: &str| d.gradients.iter().find(|s| s.symbol == sym).unwrap().value;
        assert_eq!(by("∂E/∂b1"), net.bias_gradients(&f)[0]);
        assert_eq!(by("∂E/∂b2"), net.bias_gradients(&f)[1]);
        assert_eq!(d.forward[4].value, f.o1);
    }
}
