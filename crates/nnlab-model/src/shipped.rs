//! The model files that ship inside the binary, and finding a model by name or path.

use std::path::Path;

use crate::error::ModelError;
use crate::spec::ModelSpec;

/// Shipped models: (name, file text). The files live in the repository's `models/` folder.
pub const SHIPPED: [(&str, &str); 5] = [
    ("seed", include_str!("../models/seed.model")),
    ("separable", include_str!("../models/separable.model")),
    ("small8k", include_str!("../models/small8k.model")),
    ("small5k", include_str!("../models/small5k.model")),
    ("small20", include_str!("../models/small20.model")),
];

/// The extension of model files.
pub const EXTENSION: &str = "model";

/// A shipped model by name.
pub fn shipped(name: &str) -> Option<ModelSpec> {
    SHIPPED
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(n, text)| ModelSpec::parse(n, &format!("model '{n}'"), text).expect("shipped models are valid"))
}

/// The names of the shipped models.
pub fn shipped_names() -> Vec<&'static str> {
    SHIPPED.iter().map(|(n, _)| *n).collect()
}

/// A model from `NAME` (a shipped model) or `FILE` (any path). A path that exists wins; an argument
/// that looks like a path (has a `/` or a `.`) is never taken for a name.
pub fn resolve(arg: &str) -> Result<ModelSpec, ModelError> {
    let path = Path::new(arg);
    if path.is_file() {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ModelError::file(arg, format!("cannot read the model file: {e}")))?;
        let name = path
            .file_stem()
            .map_or(arg.to_string(), |s| s.to_string_lossy().into_owned());
        return ModelSpec::parse(&name, arg, &text);
    }
    if !arg.contains(['/', '.'])
        && let Some(spec) = shipped(arg)
    {
        return Ok(spec);
    }
    Err(ModelError::file(
        arg,
        format!(
            "no such model file, and no shipped model of that name (shipped: {})",
            shipped_names().join(", ")
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_model_parses_and_names_resolve() {
        for (name, _) in SHIPPED {
            assert_eq!(resolve(name).unwrap().name, name);
        }
        let e = resolve("nosuch").unwrap_err().to_string();
        assert_eq!(
            e,
            "nosuch: no such model file, and no shipped model of that name (shipped: seed, separable, small8k, small5k, small20)"
        );
        assert!(resolve("dir/seed").is_err());
    }

    /// The candidates docs/experiments.md's 8k table reports stay loadable and under the brief's budget.
    #[test]
    fn every_candidate_model_file_parses_under_8000_parameters() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/candidates");
        let mut files = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == EXTENSION) {
                let spec = resolve(path.to_str().unwrap()).unwrap_or_else(|e| panic!("{e}"));
                assert!(spec.params() < 8000, "{}: {} parameters", path.display(), spec.params());
                files += 1;
            }
        }
        assert!(files >= 4, "{files} candidate files in {}", dir.display());
    }

    #[test]
    fn the_small_models_keep_under_their_budgets() {
        assert_eq!(shipped("small8k").unwrap().params(), 6558);
        assert_eq!(shipped("small5k").unwrap().params(), 4910);
        assert_eq!(shipped("small20").unwrap().params(), 7568);
        assert_eq!(shipped("seed").unwrap().params(), 18934);
    }
}
