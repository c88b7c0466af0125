//! Binding a call's arguments to its module's PyTorch signature (positional order, keywords, defaults),
//! then checking the layer against the shape that reaches it and placing it with its state_dict key.

use super::bound::{Bound, show};
use super::{PlacedLayer, Shape};
use crate::error::ModelError;
use crate::modules::{known_modules, module_kind};
use crate::syntax::{Call, Value};

/// Binds a call's arguments to a signature, then places its layer(s).
pub(super) struct Builder<'a> {
    pub(super) origin: &'a str,
    pub(super) statement: usize,
    pub(super) layers: &'a mut Vec<PlacedLayer>,
}

impl Builder<'_> {
    fn bind<'c>(&self, call: &'c Call, key: &str) -> Result<Bound<'c>, ModelError>
    where
        Self: 'c,
    {
        let what = format!("{key} ({})", call.module);
        let Some(names) = module_kind(&call.module).map(|m| m.signature) else {
            return Err(ModelError::at(
                self.origin,
                call.line,
                format!(
                    "{key}: unknown module '{}' (known: {})",
                    call.module,
                    known_modules().join(", ")
                ),
            ));
        };
        let fail = |m: String| Err(ModelError::at(self.origin, call.line, format!("{what}: {m}")));
        if call.args.len() > names.len() {
            return fail(format!(
                "takes at most {} positional argument(s) ({}), got {}",
                names.len(),
                names.join(", "),
                call.args.len()
            ));
        }
        let mut values: Vec<(&'static str, Option<Value>)> = names.iter().map(|n| (*n, None)).collect();
        for (slot, v) in values.iter_mut().zip(&call.args) {
            slot.1 = Some(v.clone());
        }
        for (k, v) in &call.kwargs {
            match values.iter_mut().find(|(n, _)| n == k) {
                None => {
                    let known = if names.is_empty() {
                        "none".to_string()
                    } else {
                        names.join(", ")
                    };
                    return fail(format!("unknown keyword '{k}' (known: {known})"));
                }
                Some((_, Some(_))) => return fail(format!("'{k}' given both by position and by keyword")),
                Some(slot) => slot.1 = Some(v.clone()),
            }
        }
        Ok(Bound {
            origin: self.origin,
            line: call.line,
            what,
            values,
        })
    }

    /// Places `call` (a layer, or a Sequential of them) under `key`, returning the shape after it.
    pub(super) fn module(&mut self, call: &Call, key: &str, input: Shape) -> Result<Shape, ModelError> {
        if call.module == "Sequential" {
            if !call.kwargs.is_empty() {
                return Err(ModelError::at(
                    self.origin,
                    call.line,
                    format!("{key} (Sequential): takes modules only, no keywords"),
                ));
            }
            if call.args.is_empty() {
                return Err(ModelError::at(
                    self.origin,
                    call.line,
                    format!("{key} (Sequential): is empty"),
                ));
            }
            let mut shape = input;
            for (i, arg) in call.args.iter().enumerate() {
                let Value::Call(child) = arg else {
                    return Err(ModelError::at(
                        self.origin,
                        call.line,
                        format!("{key} (Sequential): argument {} is {}, not a module", i + 1, show(arg)),
                    ));
                };
                shape = self.module(child, &format!("{key}.{i}"), shape)?;
            }
            return Ok(shape);
        }
        let b = self.bind(call, key)?;
        let kind = module_kind(&call.module).expect("bind() found it");
        let (layer, output) = (kind.build)(&b, input)?;
        self.layers.push(PlacedLayer {
            key: key.to_string(),
            layer,
            line: call.line,
            statement: self.statement,
            input,
            output,
        });
        Ok(output)
    }
}
