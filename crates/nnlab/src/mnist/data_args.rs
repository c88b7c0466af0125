//! Where the data comes from (`--data-dir`, `$MNIST_DIR`, `data/mnist`) and fetching it when missing.

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::Args;
use nnlab_mnist::Mnist;
use nnlab_mnist::data::dataset::missing_files;
use nnlab_mnist::data::download::MIRRORS;
use nnlab_mnist::data::source::{DirSource, resolve};

/// Data-location flags shared by the commands that read MNIST.
#[derive(Debug, Clone, Args)]
pub struct DataArgs {
    /// Directory with the four MNIST files (.gz or raw); default $MNIST_DIR, else data/mnist.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Never download; fail if the files are missing.
    #[arg(long)]
    pub offline: bool,
    /// Mirror base URL to download from (repeat for several; default: the public mirrors).
    #[arg(long, value_name = "URL")]
    pub mirror: Vec<String>,
}

impl DataArgs {
    /// The data directory and how it was chosen.
    pub fn dir(&self) -> (PathBuf, DirSource) {
        resolve(self.data_dir.as_deref(), std::env::var("MNIST_DIR").ok().as_deref())
    }

    /// These flags, or — when no `--data-dir` is given and `recorded` (the folder a run read, from its
    /// config.json) still holds the four files — that folder.
    pub fn or_recorded(&self, recorded: Option<&std::path::Path>) -> DataArgs {
        match recorded {
            Some(dir) if self.data_dir.is_none() && missing_files(dir).is_empty() => DataArgs {
                data_dir: Some(dir.to_path_buf()),
                ..self.clone()
            },
            _ => self.clone(),
        }
    }

    /// The folder the data is read from, made absolute, for a run to record.
    pub fn absolute_dir(&self) -> PathBuf {
        let dir = self.dir().0;
        dir.canonicalize().unwrap_or(dir)
    }

    /// The mirrors to try, in order.
    pub fn mirrors(&self) -> Vec<String> {
        if self.mirror.is_empty() {
            MIRRORS.iter().map(|m| m.to_string()).collect()
        } else {
            self.mirror
                .iter()
                .map(|m| if m.ends_with('/') { m.clone() } else { format!("{m}/") })
                .collect()
        }
    }

    /// Loads MNIST, downloading it first when it is missing (unless --offline).
    pub fn load(&self) -> Result<Mnist> {
        let (dir, source) = self.dir();
        let missing = missing_files(&dir);
        if !missing.is_empty() {
            let how = match source {
                DirSource::Flag => "--data-dir",
                DirSource::Environment => "MNIST_DIR",
                DirSource::Default => "the default data/mnist",
            };
            if self.offline {
                bail!(
                    "MNIST files are missing in {} (from {how}): {} (each looked for as .gz and raw); --offline forbids downloading; point --data-dir or MNIST_DIR at a folder with the four files",
                    dir.display(),
                    missing.join(", ")
                );
            }
            eprintln!(
                "MNIST files missing in {} (from {how}): {}; downloading them",
                dir.display(),
                missing.join(", ")
            );
            super::download::fetch(&dir, &self.mirrors())?;
        }
        Ok(Mnist::load(&dir)?)
    }
}
