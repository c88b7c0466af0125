//! `nnlab`: shows, for real, how neural networks learn. This binary wires the engines to the terminal:
//! argument parsing, output formats, progress bars, plots and exit codes.

mod backprop;
mod cli;
mod mnist;
mod output;

use std::process::ExitCode;

use clap::Parser;

/// Keeps freed tensor memory in the process instead of returning it to the kernel: glibc hands blocks
/// over 128 KiB back with munmap, so every step's activations would page-fault in afresh (measured:
/// about a fifth of a training step).
fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator thresholds; called before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
    }
}

fn main() -> ExitCode {
    keep_freed_memory();
    // Exit quietly when the reader of stdout goes away (`nnlab … | head`), as Unix tools do.
    #[cfg(unix)]
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = cli::Cli::parse();
    match cli::run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}
