//! A call's arguments bound to the names of its module's signature, with typed, range-checked reads whose
//! errors name the file, the line, the key and the module.

use crate::error::ModelError;
use crate::syntax::Value;

/// A call's arguments bound to the names of a signature.
pub(crate) struct Bound<'a> {
    pub(crate) origin: &'a str,
    pub(crate) line: usize,
    pub(crate) what: String,
    pub(crate) values: Vec<(&'static str, Option<Value>)>,
}

impl Bound<'_> {
    pub(crate) fn fail<T>(&self, message: impl std::fmt::Display) -> Result<T, ModelError> {
        Err(ModelError::at(
            self.origin,
            self.line,
            format!("{}: {message}", self.what),
        ))
    }

    pub(crate) fn get(&self, key: &str) -> Option<&Value> {
        self.values
            .iter()
            .find(|(k, _)| *k == key)
            .and_then(|(_, v)| v.as_ref())
    }

    pub(crate) fn required(&self, key: &str) -> Result<&Value, ModelError> {
        match self.get(key) {
            Some(v) => Ok(v),
            None => self.fail(format!("missing argument '{key}'")),
        }
    }

    /// An integer argument in `lo..=hi` (a tuple of equal integers counts as one, for square sizes).
    pub(crate) fn int(&self, key: &str, default: Option<usize>, lo: usize, hi: usize) -> Result<usize, ModelError> {
        let v = match (self.get(key), default) {
            (None, Some(d)) => return Ok(d),
            (None, None) => self.required(key)?.clone(),
            (Some(v), _) => v.clone(),
        };
        let n = match v {
            Value::Int(i) => i,
            Value::Tuple(items) if !items.is_empty() && items.iter().all(|x| *x == items[0]) => match items[0] {
                Value::Int(i) => i,
                _ => return self.fail(format!("'{key}' must be an integer")),
            },
            Value::Tuple(_) => {
                return self.fail(format!("'{key}' must be the same along both axes (square sizes only)"));
            }
            _ => return self.fail(format!("'{key}' must be an integer, got {}", show(&v))),
        };
        if (n as i128) < lo as i128 || (n as i128) > hi as i128 {
            let range = if hi == usize::MAX {
                format!("at least {lo}")
            } else {
                format!("{lo}–{hi}")
            };
            return self.fail(format!("'{key}' is {n}, must be {range}"));
        }
        Ok(n as usize)
    }

    pub(crate) fn float(&self, key: &str, default: f64) -> Result<f64, ModelError> {
        match self.get(key) {
            None => Ok(default),
            Some(Value::Int(i)) => Ok(*i as f64),
            Some(Value::Float(f)) => Ok(*f),
            Some(v) => self.fail(format!("'{key}' must be a number, got {}", show(v))),
        }
    }

    pub(crate) fn boolean(&self, key: &str, default: bool) -> Result<bool, ModelError> {
        match self.get(key) {
            None => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(v) => self.fail(format!("'{key}' must be True or False, got {}", show(v))),
        }
    }
}

/// A value as the file would write it, for error messages.
pub(crate) fn show(v: &Value) -> String {
    match v {
        Value::Int(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Bool(b) => if *b { "True" } else { "False" }.into(),
        Value::None => "None".into(),
        Value::Str(s) => format!("'{s}'"),
        Value::Tuple(_) => "a tuple".into(),
        Value::Call(c) => format!("{}(…)", c.module),
    }
}
