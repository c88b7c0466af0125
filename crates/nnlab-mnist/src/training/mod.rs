//! Training the CNN: the recipe as a config, learning-rate schedules, one step, evaluation, the epoch
//! loop, metrics and checkpoints.

pub mod averaging;
pub mod checkpoint;
pub mod config;
pub mod lr_find;
pub mod metrics;
pub mod recipe_file;
pub mod schedule;
pub mod step;
pub mod trainer;

pub use checkpoint::{Checkpoint, CheckpointError};
pub use config::TrainConfig;
pub use metrics::EpochRecord;
pub use recipe_file::{RecipeError, load_recipe, shipped_recipe};
pub use step::{Evaluation, NonFinite, evaluate, train_step, train_step_probed};
pub use trainer::{Finish, Progress, TrainEvent, train};
