//! Ctrl-C during training: the first SIGINT asks the run to stop after the step under way (the trainer's
//! callback checks the flag); a second one ends the process at once.

use std::sync::atomic::{AtomicBool, Ordering};

/// Set by the first Ctrl-C (SIGINT): training stops after the step under way.
pub static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// The first SIGINT asks training to stop; a second one ends the process at once. (Only an atomic swap,
/// `write` and `_exit`: all safe in a signal handler.)
extern "C" fn on_sigint(_: libc::c_int) {
    if INTERRUPTED.swap(true, Ordering::SeqCst) {
        const MESSAGE: &[u8] = b"\ninterrupted twice: exiting at once\n";
        // SAFETY: `write` and `_exit` are async-signal-safe.
        unsafe {
            libc::write(2, MESSAGE.as_ptr().cast(), MESSAGE.len());
            libc::_exit(130);
        }
    }
}

/// Installs the SIGINT handler for training.
pub fn install_interrupt_handler() {
    // SAFETY: the handler only touches an atomic and calls `_exit`.
    unsafe {
        libc::signal(libc::SIGINT, on_sigint as *const () as libc::sighandler_t);
    }
}
