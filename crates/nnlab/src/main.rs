//! `nnlab`: shows, for real, how neural networks learn. This binary wires the engines to the terminal:
//! argument parsing, output formats, progress bars, plots and exit codes.

mod backprop;
mod cli;
mod mnist;
mod output;
mod serve;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
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
