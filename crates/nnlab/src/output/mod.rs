//! Writing what the CLI produces: figures (atomic files come from the application crate).

pub mod figure;

pub use nnlab_app::atomic::write_atomic;
