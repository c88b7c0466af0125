//! The backprop lab's inputs as text — lists of numbers, layer sizes, learning rates, iteration counts —
//! parsed once for the CLI's flags and the web API's query parameters. Each error is a sentence without
//! the flag or field, which the caller names.

/// A comma-separated list of finite numbers, e.g. `-0.4,0.25,1e-3`.
#[derive(Debug, Clone, PartialEq)]
pub struct Numbers(pub Vec<f64>);

/// Parses `Numbers`, rejecting words, NaN and infinities.
pub fn parse_numbers(s: &str) -> Result<Numbers, String> {
    s.split(',')
        .map(|part| {
            let part = part.trim();
            let x: f64 = part.parse().map_err(|_| format!("'{part}' is not a number"))?;
            if x.is_finite() {
                Ok(x)
            } else {
                Err(format!("'{part}' is not a finite number"))
            }
        })
        .collect::<Result<_, _>>()
        .map(Numbers)
}

/// Layer sizes, input layer first, e.g. `2,3,2`.
#[derive(Debug, Clone, PartialEq)]
pub struct Layers(pub Vec<usize>);

/// Parses layer sizes such as `2,3,2`.
pub fn parse_layers(s: &str) -> Result<Layers, String> {
    s.split(',')
        .map(|p| {
            p.trim()
                .parse::<usize>()
                .map_err(|_| format!("'{}' is not a layer size (a whole number)", p.trim()))
        })
        .collect::<Result<_, _>>()
        .map(Layers)
}

/// Parses a learning rate: finite and > 0.
pub fn parse_lr(s: &str) -> Result<f64, String> {
    let x: f64 = s.trim().parse().map_err(|_| format!("'{s}' is not a number"))?;
    if !x.is_finite() || x <= 0.0 {
        return Err(format!("'{s}': the learning rate must be a finite number > 0"));
    }
    Ok(x)
}

/// Parses an iteration count: a whole number ≥ 1.
pub fn parse_iterations(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("'{s}' is not a whole number")),
    }
}

/// Parses a list of learning rates, each finite and > 0.
pub fn parse_lrs(s: &str) -> Result<Numbers, String> {
    let n = parse_numbers(s)?;
    if let Some(bad) = n.0.iter().find(|x| **x <= 0.0) {
        return Err(format!("{bad}: every learning rate must be > 0"));
    }
    Ok(n)
}

/// Exactly `N` numbers if given, else `default`; the error says how many were given (the caller names the
/// flag or field). Shared by the CLI's flags and the web API's query parameters.
pub fn exactly<const N: usize>(values: Option<&[f64]>, default: [f64; N]) -> Result<[f64; N], String> {
    match values {
        None => Ok(default),
        Some(v) if v.len() == N => Ok(std::array::from_fn(|k| v[k])),
        Some(v) => Err(format!("expected {N} comma-separated numbers, got {}", v.len())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_counts_parse_or_say_why_not() {
        assert_eq!(parse_numbers("-0.4, 0.25,1e-3").unwrap().0, [-0.4, 0.25, 1e-3]);
        assert_eq!(parse_numbers("1,abc").unwrap_err(), "'abc' is not a number");
        assert_eq!(parse_numbers("inf").unwrap_err(), "'inf' is not a finite number");
        assert_eq!(parse_layers("2,3,2").unwrap().0, [2, 3, 2]);
        assert!(parse_lr("0").is_err() && parse_lr("0.5").is_ok());
        assert_eq!(parse_iterations("0").unwrap_err(), "must be at least 1");
        assert!(parse_lrs("0.1,-1").unwrap_err().contains("must be > 0"));
        assert_eq!(exactly(Some(&[1.0, 2.0]), [0.0; 2]).unwrap(), [1.0, 2.0]);
        assert_eq!(exactly(None, [7.0; 2]).unwrap(), [7.0, 7.0]);
        assert!(exactly(Some(&[1.0]), [0.0; 2]).unwrap_err().contains("got 1"));
    }
}
