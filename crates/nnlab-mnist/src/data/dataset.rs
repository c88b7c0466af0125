//! The two splits of MNIST in memory, loaded from a directory of the four IDX files.

use std::path::{Path, PathBuf};

use super::error::DataError;
use super::idx::{parse_images, parse_labels, read_maybe_gzip};
use super::{CLASSES, PIXELS};

/// The four files, as the public mirrors name them (raw files without `.gz` are accepted too).
pub const FILES: [&str; 4] = [
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
];

/// One split: images as bytes (count × 784, row-major) and labels.
#[derive(Debug, Clone, PartialEq)]
pub struct Split {
    /// Pixels 0–255, image after image.
    pub images: Vec<u8>,
    /// Labels 0–9.
    pub labels: Vec<u8>,
}

/// Both splits.
#[derive(Debug, Clone, PartialEq)]
pub struct Mnist {
    /// 60,000 training images.
    pub train: Split,
    /// 10,000 test images.
    pub test: Split,
}

impl Split {
    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True when the split holds no image.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The pixels of image `i`.
    pub fn image(&self, i: usize) -> &[u8] {
        &self.images[i * PIXELS..(i + 1) * PIXELS]
    }

    /// How many images of each class.
    pub fn class_counts(&self) -> [usize; CLASSES] {
        let mut counts = [0; CLASSES];
        for &l in &self.labels {
            counts[l as usize] += 1;
        }
        counts
    }

    /// Mean and standard deviation of all pixels on the [0, 1] scale.
    pub fn pixel_mean_std(&self) -> (f64, f64) {
        let (mut sum, mut sum_sq) = (0u64, 0u64);
        for &p in &self.images {
            sum += p as u64;
            sum_sq += (p as u64) * (p as u64);
        }
        let n = self.images.len() as f64;
        let mean = sum as f64 / n / 255.0;
        let var = sum_sq as f64 / n / (255.0 * 255.0) - mean * mean;
        (mean, var.max(0.0).sqrt())
    }

    /// The first `n` images (or all if fewer), for quick runs and tests.
    /// The images from index `start` on (the last `len − start`).
    pub fn skip(&self, start: usize) -> Split {
        let start = start.min(self.len());
        Split {
            images: self.images[start * PIXELS..].to_vec(),
            labels: self.labels[start..].to_vec(),
        }
    }

    /// The first `n` images.
    pub fn take(&self, n: usize) -> Split {
        let n = n.min(self.len());
        Split {
            images: self.images[..n * PIXELS].to_vec(),
            labels: self.labels[..n].to_vec(),
        }
    }
}

/// The path of one of [`FILES`] in `dir`: the `.gz` file, or the raw one when only that exists.
pub fn file_path(dir: &Path, gz_name: &str) -> PathBuf {
    let gz = dir.join(gz_name);
    let raw = dir.join(gz_name.trim_end_matches(".gz"));
    if !gz.exists() && raw.exists() { raw } else { gz }
}

/// The names of the files of [`FILES`] that are in `dir` in neither form (`.gz` or raw).
pub fn missing_files(dir: &Path) -> Vec<&'static str> {
    FILES.iter().copied().filter(|f| !file_path(dir, f).is_file()).collect()
}

fn load_split(dir: &Path, images_name: &str, labels_name: &str) -> Result<Split, DataError> {
    let (images_path, labels_path) = (file_path(dir, images_name), file_path(dir, labels_name));
    let (count, images) = parse_images(&images_path, &read_maybe_gzip(&images_path)?)?;
    let labels = parse_labels(&labels_path, &read_maybe_gzip(&labels_path)?)?;
    if count != labels.len() {
        return Err(DataError::CountMismatch {
            images: images_path,
            n_images: count,
            labels: labels_path,
            n_labels: labels.len(),
        });
    }
    Ok(Split { images, labels })
}

impl Mnist {
    /// Loads and validates the four files in `dir`.
    pub fn load(dir: &Path) -> Result<Mnist, DataError> {
        if !dir.is_dir() {
            return Err(DataError::Directory {
                path: dir.to_path_buf(),
                reason: "not a directory".into(),
            });
        }
        std::fs::read_dir(dir).map_err(|e| DataError::Directory {
            path: dir.to_path_buf(),
            reason: format!("cannot be read: {e}"),
        })?;
        let missing = missing_files(dir);
        if !missing.is_empty() {
            return Err(DataError::FilesMissing {
                dir: dir.to_path_buf(),
                names: missing.join(", "),
            });
        }
        Ok(Mnist {
            train: load_split(dir, FILES[0], FILES[1])?,
            test: load_split(dir, FILES[2], FILES[3])?,
        })
    }
}
