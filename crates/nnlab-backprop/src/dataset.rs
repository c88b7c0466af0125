//! Small datasets for full-batch gradient descent: a CSV file with a header `x1,…,xn,t1,…,tm`, or one of
//! the classic truth tables (`xor`, `and`, `or`) that show what one layer can and cannot learn.

use crate::mlp::{Activation, Example};

/// Why a dataset cannot be used; `line` is the 1-based line of the file (0 for the file as a whole).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}{message}", if *line == 0 { String::new() } else { format!("line {line}: ") })]
pub struct DataError {
    /// 1-based line, or 0 when the problem is not on one line.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

fn fail<T>(line: usize, message: impl Into<String>) -> Result<T, DataError> {
    Err(DataError {
        line,
        message: message.into(),
    })
}

/// A set of examples with the sizes of their input and target vectors.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// The examples, in file order.
    pub examples: Vec<Example>,
    /// Inputs per example.
    pub inputs: usize,
    /// Targets per example.
    pub targets: usize,
    /// The 1-based file line of each example (0 for a built-in table), for messages about one of them.
    pub lines: Vec<usize>,
}

/// Names of the built-in datasets.
pub const BUILT_IN: [&str; 3] = ["xor", "and", "or"];

/// A built-in two-input truth table: `xor`, `and` or `or` (targets 0 and 1).
pub fn built_in(name: &str) -> Option<Dataset> {
    let rule: fn(bool, bool) -> bool = match name.to_ascii_lowercase().as_str() {
        "xor" => |a, b| a != b,
        "and" => |a, b| a && b,
        "or" => |a, b| a || b,
        _ => return None,
    };
    let examples = [(false, false), (false, true), (true, false), (true, true)]
        .into_iter()
        .map(|(a, b)| Example {
            inputs: vec![f64::from(u8::from(a)), f64::from(u8::from(b))],
            targets: vec![f64::from(u8::from(rule(a, b)))],
        })
        .collect();
    Some(Dataset {
        examples,
        inputs: 2,
        targets: 1,
        lines: vec![0; 4],
    })
}

/// Parses a CSV dataset: a header naming the columns `x1..xn` then `t1..tm` (in that order), then one
/// example per line. Blank lines and lines starting with `#` are skipped.
pub fn parse_csv(text: &str) -> Result<Dataset, DataError> {
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(k, l)| (k + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'));
    let Some((header_line, header)) = lines.next() else {
        return fail(
            0,
            "the file is empty (expected a header x1,…,xn,t1,…,tm and one example per line)",
        );
    };
    let names: Vec<&str> = header.split(',').map(str::trim).collect();
    let inputs = names.iter().take_while(|n| n.starts_with('x')).count();
    let targets = names.len() - inputs;
    for (k, name) in names.iter().enumerate() {
        let expected = if k < inputs {
            format!("x{}", k + 1)
        } else {
            format!("t{}", k - inputs + 1)
        };
        if *name != expected {
            return fail(
                header_line,
                format!(
                    "column {} of the header is '{name}', expected '{expected}' (header x1,…,xn,t1,…,tm)",
                    k + 1
                ),
            );
        }
    }
    if inputs == 0 || targets == 0 {
        return fail(
            header_line,
            "the header needs at least one input column x1 and one target column t1",
        );
    }
    let mut examples = Vec::new();
    let mut example_lines = Vec::new();
    for (line, row) in lines {
        let cells: Vec<&str> = row.split(',').map(str::trim).collect();
        if cells.len() != names.len() {
            return fail(
                line,
                format!("{} values, but the header has {} columns", cells.len(), names.len()),
            );
        }
        let mut values = Vec::with_capacity(cells.len());
        for (cell, name) in cells.iter().zip(&names) {
            match cell.parse::<f64>() {
                Ok(x) if x.is_finite() => values.push(x),
                _ => return fail(line, format!("{name} = '{cell}' is not a finite number")),
            }
        }
        let targets = values.split_off(inputs);
        examples.push(Example {
            inputs: values,
            targets,
        });
        example_lines.push(line);
    }
    if examples.is_empty() {
        return fail(0, "the file has a header but no examples");
    }
    Ok(Dataset {
        examples,
        inputs,
        targets,
        lines: example_lines,
    })
}

impl Dataset {
    /// Checks the targets can be reached by the output activation: a sigmoid outputs values in (0, 1),
    /// so targets must lie in [0, 1]; tanh in [−1, 1]. Returns the offending example's index (0-based)
    /// with the message.
    pub fn check_targets(&self, activation: Activation) -> Result<(), (usize, String)> {
        let (lo, hi, what) = match activation {
            Activation::Sigmoid => (0.0, 1.0, "a sigmoid output lies in (0, 1)"),
            Activation::Tanh => (-1.0, 1.0, "a tanh output lies in (−1, 1)"),
            Activation::Relu => (0.0, f64::INFINITY, "a ReLU output is ≥ 0"),
            Activation::Linear => (f64::NEG_INFINITY, f64::INFINITY, "any number"),
        };
        for (k, e) in self.examples.iter().enumerate() {
            if let Some((j, t)) = e.targets.iter().enumerate().find(|(_, t)| !(lo..=hi).contains(*t)) {
                return Err((k, format!("t{} = {t} cannot be reached: {what}", j + 1)));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_file_and_names_the_line_of_each_mistake() {
        let d = parse_csv("# xor\nx1,x2,t1\n0,0,0\n0,1,1\n\n1,0,1\n1,1,0\n").unwrap();
        assert_eq!((d.inputs, d.targets, d.examples.len()), (2, 1, 4));
        assert_eq!(d.examples, built_in("xor").unwrap().examples);
        assert_eq!(d.lines, [3, 4, 6, 7]);
        assert_eq!(
            parse_csv("x1,x2,t1\n0,0\n").unwrap_err().to_string(),
            "line 2: 2 values, but the header has 3 columns"
        );
        assert_eq!(
            parse_csv("x1,x2,t1\n0,0,0\n0,a,1\n").unwrap_err().to_string(),
            "line 3: x2 = 'a' is not a finite number"
        );
        assert!(parse_csv("").unwrap_err().to_string().contains("empty"));
        assert!(parse_csv("x1,t1\n").unwrap_err().to_string().contains("no examples"));
        assert!(
            parse_csv("a,b,c\n1,2,3\n")
                .unwrap_err()
                .to_string()
                .starts_with("line 1: column 1")
        );
        assert!(
            parse_csv("x1,x2\n1,2\n")
                .unwrap_err()
                .to_string()
                .contains("target column")
        );
        assert!(parse_csv("x1,x2,t1\n1,2,NaN\n").is_err());
    }

    #[test]
    fn targets_outside_the_activations_range_are_refused() {
        let d = parse_csv("x1,t1\n0,0.5\n1,1.5\n").unwrap();
        let (row, msg) = d.check_targets(Activation::Sigmoid).unwrap_err();
        assert_eq!(row, 1);
        assert!(msg.contains("t1 = 1.5"));
        assert!(d.check_targets(Activation::Relu).is_ok());
        assert!(built_in("and").unwrap().check_targets(Activation::Sigmoid).is_ok());
        assert!(built_in("nand").is_none());
    }
}
