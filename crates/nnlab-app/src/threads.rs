//! The engine's thread count: rayon's global pool, set once per process.

use crate::{AppError, Result};

/// Sets the engine's thread count (rayon's global pool); a second call with the same count is fine, a
/// different count is refused naming `--threads`.
pub fn init_threads(threads: usize) -> Result<()> {
    if threads == 0 {
        return Err(AppError::invalid("--threads must be at least 1"));
    }
    if rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build_global()
        .is_err()
        && rayon::current_num_threads() != threads
    {
        return Err(AppError::invalid(format!(
            "--threads: the thread pool is already running with {} threads",
            rayon::current_num_threads()
        )));
    }
    Ok(())
}
