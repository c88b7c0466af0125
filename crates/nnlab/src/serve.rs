//! `nnlab serve`: the flags, handed to the web server's crate (`nnlab-serve`), which does the rest.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

/// Arguments of `nnlab serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on. The default binds loopback only; anything else is reachable from other
    /// machines, and the server has no authentication.
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// Folder of training runs (each written by `nnlab mnist train --out`).
    #[arg(long, default_value = "runs", value_name = "DIR")]
    runs: PathBuf,
    /// A checkpoint for the draw page and /api/predict, besides those of the runs.
    #[arg(long, value_name = "FILE")]
    checkpoint: Option<PathBuf>,
    /// Allow training from the designer (POST /api/runs) on a non-loopback address too. On loopback (the
    /// default) it is always allowed.
    #[arg(long)]
    allow_train: bool,
    /// Where trainings started from the designer read MNIST (default $MNIST_DIR, else data/mnist).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
}

/// Runs `nnlab serve` until Ctrl-C.
pub fn run(args: ServeArgs) -> Result<()> {
    nnlab_serve::run(nnlab_serve::ServeOptions {
        addr: args.addr,
        runs: args.runs,
        checkpoint: args.checkpoint,
        allow_train: args.allow_train,
        data_dir: nnlab_mnist::data::source::resolve(
            args.data_dir.as_deref(),
            std::env::var("MNIST_DIR").ok().as_deref(),
        )
        .0,
    })
}
