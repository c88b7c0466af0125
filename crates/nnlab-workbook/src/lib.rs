//! Spreadsheets of the 2-2-2 backpropagation worksheet: an exporter that writes a live-formula workbook
//! (with a learning-rate sweep and its chart), and an auditor that finds wrong cells in a hand-built one;
//! and any TF Playground network's first training steps as a live-formula workbook ([`network_sheet`]).
//!
//! Both are pure: the exporter returns the file's bytes, the auditor a report.

pub mod audit;
pub mod error;
pub mod export;
mod headers;
pub mod network_sheet;
mod sweep_sheet;

pub use audit::{AuditReport, EtaSource, Finding, audit_workbook};
pub use error::WorkbookError;
pub use export::{ExportOptions, export_workbook};
pub use network_sheet::{MAX_EXPORT_WEIGHTS, NetworkSheet};
pub use sweep_sheet::SweepAudit;
