//! nnlab's application: what both front ends (the `nnlab` CLI and the `nnlab-serve` web server) do with
//! the engines, written once. A run folder and its files ([`run_folder`]), an image or 784 pixels → ten
//! probabilities ([`classify`]), a recipe with its overrides, checked against a resumed run
//! ([`overrides`]), briefs ([`brief`]) and the engine's thread pool ([`threads`]). Nothing here prints or
//! exits; every failure is an [`AppError`] whose message names the flag, file or field at fault.

pub mod atomic;
pub mod backprop_input;
pub mod boundary;
pub mod brief;
pub mod classify;
pub mod error;
pub mod image_input;
pub mod inspect;
pub mod model;
pub mod model_summary;
pub mod overrides;
pub mod run_folder;
pub mod search;
pub mod threads;
pub mod training;

pub use brief::{Brief, BriefError, BriefResult, Verdict};
pub use error::AppError;
pub use overrides::RecipeOverrides;
pub use run_folder::{Run, RunFolder, RunStatus};

/// The result type of the application's functions.
pub type Result<T, E = AppError> = std::result::Result<T, E>;
