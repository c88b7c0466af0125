//! The models MNIST trains: any model file whose input is 1×28×28 and whose output is the ten classes.
//! The seed model, the 18,934-parameter CNN of docs/recipe.md, ships as `models/seed.model`.

use nnlab_model::{ModelError, ModelSpec};

use crate::data::{CLASSES, SIDE};

/// The CNN of docs/recipe.md, the shipped `seed` model.
pub fn seed_model() -> ModelSpec {
    nnlab_model::shipped("seed").expect("the seed model ships with nnlab")
}

/// Checks that a model takes MNIST's 1×28×28 images and gives one output per class.
pub fn check_for_mnist(spec: &ModelSpec) -> Result<(), ModelError> {
    let origin = format!("model '{}'", spec.name);
    if spec.input != [1, SIDE, SIDE] {
        let [c, h, w] = spec.input;
        return Err(ModelError::file(
            &origin,
            format!("its input is {c}x{h}x{w}, MNIST images are 1x28x28 (write 'input 1x28x28')"),
        ));
    }
    if spec.outputs() != CLASSES {
        return Err(ModelError::file(
            &origin,
            format!(
                "its last layer gives {} ({} values), MNIST needs 10 (one per digit)",
                spec.output(),
                spec.outputs()
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_model_fits_and_others_are_told_why_not() {
        check_for_mnist(&seed_model()).unwrap();
        let wrong = ModelSpec::parse("x", "x", "input 1x28x28\nfc = Linear(784, 9)\n").unwrap();
        assert_eq!(
            check_for_mnist(&wrong).unwrap_err().to_string(),
            "model 'x': its last layer gives 9 (9 values), MNIST needs 10 (one per digit)"
        );
        let rgb = ModelSpec::parse("y", "y", "input 3x28x28\nfc = Linear(2352, 10)\n").unwrap();
        assert!(
            check_for_mnist(&rgb)
                .unwrap_err()
                .to_string()
                .contains("input is 3x28x28")
        );
    }
}
