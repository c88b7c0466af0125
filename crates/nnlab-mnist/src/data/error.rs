//! Typed errors for reading and fetching MNIST, each naming the file.

use std::path::PathBuf;

use thiserror::Error;

/// Why MNIST data could not be read or fetched.
#[derive(Debug, Error)]
pub enum DataError {
    /// The file does not exist.
    #[error("{path}: file not found")]
    Missing {
        /// The file looked for.
        path: PathBuf,
    },
    /// Some of the four files are absent: every one of them named.
    #[error("{dir}: MNIST files are missing: {names} (each looked for as .gz and raw)")]
    FilesMissing {
        /// The directory looked in.
        dir: PathBuf,
        /// The missing files, comma-separated.
        names: String,
    },
    /// Reading failed (permissions, a directory, I/O error).
    #[error("{path}: cannot read: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The gzip stream is damaged or cut short.
    #[error("{path}: damaged gzip data: {reason}")]
    Gzip {
        /// The file.
        path: PathBuf,
        /// What the decoder said.
        reason: String,
    },
    /// The file is not an IDX file of the expected kind.
    #[error("{path}: wrong magic number {found:#010x} (expected {expected:#010x}, an IDX {kind} file)")]
    BadMagic {
        /// The file.
        path: PathBuf,
        /// Magic found.
        found: u32,
        /// Magic expected.
        expected: u32,
        /// "images" or "labels".
        kind: &'static str,
    },
    /// Image dimensions other than 28×28.
    #[error("{path}: images are {rows}×{cols}, expected 28×28")]
    BadDimensions {
        /// The file.
        path: PathBuf,
        /// Rows in the header.
        rows: u32,
        /// Columns in the header.
        cols: u32,
    },
    /// The file is shorter or longer than its header says.
    #[error("{path}: {kind}: {actual} bytes where the header calls for {expected}")]
    Length {
        /// The file.
        path: PathBuf,
        /// Bytes the header implies.
        expected: usize,
        /// Bytes present.
        actual: usize,
        /// "truncated", "truncated header" or "trailing bytes".
        kind: &'static str,
    },
    /// A label outside 0..=9.
    #[error("{path}: label {label} at index {index} is outside 0–9")]
    LabelOutOfRange {
        /// The file.
        path: PathBuf,
        /// Record index.
        index: usize,
        /// The label.
        label: u8,
    },
    /// Images and labels disagree in count.
    #[error("{images} has {n_images} images but {labels} has {n_labels} labels")]
    CountMismatch {
        /// Images file.
        images: PathBuf,
        /// Its count.
        n_images: usize,
        /// Labels file.
        labels: PathBuf,
        /// Its count.
        n_labels: usize,
    },
    /// The data directory cannot be used.
    #[error("{path}: {reason}")]
    Directory {
        /// The directory.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// Every mirror failed for a file.
    #[error(
        "could not fetch {file} into {dir}: {attempts}. Download the four MNIST .gz files by hand into a folder and pass --data-dir DIR (or set MNIST_DIR)"
    )]
    Download {
        /// The file name.
        file: String,
        /// Where it was to be saved.
        dir: PathBuf,
        /// Each mirror tried and its error.
        attempts: String,
    },
}
