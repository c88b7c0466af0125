//! Typed errors for exporting and auditing workbooks.

use thiserror::Error;

/// Why a workbook could not be written or read as a 2-2-2 backprop worksheet.
#[derive(Debug, Error)]
pub enum WorkbookError {
    /// The engine rejected the network or schedule.
    #[error(transparent)]
    Network(#[from] nnlab_backprop::BackpropError),
    /// rust_xlsxwriter failed to build the file.
    #[error("cannot build the workbook: {0}")]
    Write(#[from] rust_xlsxwriter::XlsxError),
    /// The file is not a readable xlsx workbook.
    #[error("not a readable .xlsx workbook: {0}")]
    Unreadable(String),
    /// No sheet has a header row naming the worksheet's columns.
    #[error("no sheet has a header row with the 2-2-2 worksheet's columns (i1, i2, t1, t2, w1..w8)")]
    NoHeader,
    /// The header was found but the first data row is not numeric.
    #[error("sheet '{sheet}': row {row} has no numbers under the header (cell {cell})")]
    NoData {
        /// Sheet name.
        sheet: String,
        /// 1-based sheet row.
        row: u32,
        /// The cell that should hold a number.
        cell: String,
    },
    /// What was asked cannot be exported (the message says why).
    #[error("{0}")]
    Invalid(String),
    /// η is neither labelled nor inferable.
    #[error("sheet '{0}': no cell labelled η/eta/lr and fewer than two iterations to infer it from")]
    NoLearningRate(String),
}
