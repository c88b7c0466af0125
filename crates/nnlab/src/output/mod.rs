//! Writing what nnlab produces: atomic files, number formatting, figures.

pub mod atomic;
pub mod figure;
pub mod image_input;

pub use atomic::write_atomic;
