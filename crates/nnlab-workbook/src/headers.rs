//! Recognises the spellings hand-built worksheets use for each column (`E_tot`, `∂E/∂w1`, `out_h1`, …)
//! and maps them to the canonical names of `nnlab_backprop::table::COLUMNS`.

/// The canonical column a header cell names, if any.
pub fn canonical(header: &str) -> Option<&'static str> {
    let key: String = header
        .to_lowercase()
        .replace('∂', "d")
        .replace("δ", "d")
        .chars()
        .filter(|c| !matches!(c, ' ' | '_' | '/' | '(' | ')' | '·' | '*' | '-' | ':' | '.' | '\u{a0}'))
        .collect();
    let key = key.replace("total", "tot").replace("etot", "etotal");
    let names = nnlab_backprop::table::columns(nnlab_backprop::table::BiasColumns::Learned);
    let find = |name: &str| names.iter().copied().find(|n| *n == name);
    if let Some(k) = key
        .strip_prefix("de")
        .or_else(|| key.strip_prefix("grad"))
        .or_else(|| key.strip_prefix("g"))
    {
        let k = k
            .strip_prefix("etotal")
            .or_else(|| k.strip_prefix("total"))
            .unwrap_or(k);
        let w = k.strip_prefix("dw").or_else(|| k.strip_prefix('w'));
        if let Some(digit) = w.filter(|d| d.len() == 1 && ("1"..="8").contains(d)) {
            return find(&format!("dE_dw{digit}"));
        }
        let b = k
            .strip_prefix("dbias")
            .or_else(|| k.strip_prefix("db"))
            .or_else(|| k.strip_prefix("bias"))
            .or_else(|| k.strip_prefix('b'));
        if let Some(digit) = b.filter(|d| matches!(*d, "1" | "2")) {
            return find(&format!("dE_db{digit}"));
        }
    }
    match key.as_str() {
        "iter" | "iteration" | "iterations" | "step" | "epoch" | "#" | "n" => Some("iter"),
        "etotal" | "e" | "loss" | "error" | "toterror" | "etotalerror" => Some("E_total"),
        "e1" | "eo1" => Some("E1"),
        "e2" | "eo2" => Some("E2"),
        "t1" | "target1" => Some("t1"),
        "t2" | "target2" => Some("t2"),
        "i1" | "input1" | "x1" => Some("i1"),
        "i2" | "input2" | "x2" => Some("i2"),
        "h1" | "neth1" | "inh1" | "zh1" => Some("h1"),
        "h2" | "neth2" | "inh2" | "zh2" => Some("h2"),
        "o1" | "neto1" | "ino1" | "zo1" => Some("o1"),
        "o2" | "neto2" | "ino2" | "zo2" => Some("o2"),
        "ah1" | "outh1" | "sh1" => Some("a_h1"),
        "ah2" | "outh2" | "sh2" => Some("a_h2"),
        "ao1" | "outo1" | "so1" => Some("a_o1"),
        "ao2" | "outo2" | "so2" => Some("a_o2"),
        w if w.len() == 2 && w.starts_with('w') && ("1"..="8").contains(&&w[1..]) => find(w),
        "b1" | "bias1" | "bh" | "bhidden" | "hiddenbias" => Some("b1"),
        "b2" | "bias2" | "bo" | "boutput" | "outputbias" => Some("b2"),
        _ => None,
    }
}

/// Whether a cell's text labels the learning rate.
pub fn is_learning_rate_label(text: &str) -> bool {
    let key: String = text
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == 'η')
        .collect();
    matches!(
        key.as_str(),
        "η" | "eta" | "lr" | "learningrate" | "alpha" | "α" | "ηlearningrate" | "learningrateη"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_built_spellings_are_recognised() {
        for (h, c) in [
            ("E_tot", "E_total"),
            ("E_total", "E_total"),
            ("Total Error", "E_total"),
            ("∂E/∂w1", "dE_dw1"),
            ("dE_dw8", "dE_dw8"),
            ("∂Etotal/∂w5", "dE_dw5"),
            ("a_h1", "a_h1"),
            ("out_o2", "a_o2"),
            ("net h2", "h2"),
            ("W7", "w7"),
            ("t1", "t1"),
            ("E2", "E2"),
        ] {
            assert_eq!(canonical(h), Some(c), "{h}");
        }
        for (h, c) in [
            ("b1", "b1"),
            ("Bias 2", "b2"),
            ("∂E/∂b1", "dE_db1"),
            ("dE_db2", "dE_db2"),
        ] {
            assert_eq!(canonical(h), Some(c), "{h}");
        }
        for h in ["w9", "Forward Propogation", "", "dE_dw0", "b3"] {
            assert_eq!(canonical(h), None, "{h}");
        }
        assert!(
            is_learning_rate_label("η") && is_learning_rate_label("Learning rate") && is_learning_rate_label("eta:")
        );
        assert!(!is_learning_rate_label("w1"));
    }
}
