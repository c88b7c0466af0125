//! `nnlab mnist download`: the four files from the mirrors, with a progress bar.

use std::path::Path;

use anyhow::Result;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use nnlab_mnist::data::download::{DownloadEvent, download};

use super::data_args::DataArgs;

/// Arguments of `nnlab mnist download`.
#[derive(Debug, Args)]
pub struct DownloadArgs {
    #[command(flatten)]
    data: DataArgs,
}

/// Downloads into `dir`, drawing a progress bar per file on a terminal.
pub fn fetch(dir: &Path, mirrors: &[String]) -> Result<()> {
    let mut bar: Option<ProgressBar> = None;
    let style = ProgressStyle::with_template("{msg:32} {bar:30} {bytes}/{total_bytes} {bytes_per_sec}")
        .expect("valid template");
    download(dir, mirrors, &mut |event| match event {
        DownloadEvent::Skipped { file } => println!("{file}: already present and valid"),
        DownloadEvent::Started { file, url, total } => {
            let b = ProgressBar::new(total.unwrap_or(0))
                .with_style(style.clone())
                .with_message(file);
            b.println(format!("fetching {url}"));
            bar = Some(b);
        }
        DownloadEvent::Progress { bytes } => {
            if let Some(b) = &bar {
                b.set_position(bytes);
            }
        }
        DownloadEvent::MirrorFailed { url, reason } => {
            if let Some(b) = bar.take() {
                b.finish_and_clear();
            }
            eprintln!("{url}: {reason}; trying the next mirror");
        }
        DownloadEvent::Saved { path, bytes } => {
            if let Some(b) = bar.take() {
                b.finish_and_clear();
            }
            println!("{}: {bytes} bytes, SHA-256 of the content verified", path.display());
        }
    })?;
    Ok(())
}

/// Runs `nnlab mnist download`.
pub fn run(args: DownloadArgs) -> Result<()> {
    let (dir, _) = args.data.dir();
    fetch(&dir, &args.data.mirrors())?;
    println!("MNIST is ready in {}", dir.display());
    Ok(())
}
