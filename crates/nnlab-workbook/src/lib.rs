//! Spreadsheets of the 2-2-2 backpropagation worksheet: an exporter that writes a live-formula workbook
//! (with a learning-rate sweep and its chart), and an auditor that finds wrong cells in a hand-built one.
//!
//! Both are pure: the exporter returns the file's bytes, the auditor a report.

pub mod audit;
pub mod error;
pub mod export;
mod headers;
mod sweep_sheet;

pub use audit::{AuditReport, EtaSource, Finding, audit_workbook};
pub use error::WorkbookError;
pub use export::{ExportOptions, export_workbook};
pub use sweep_sheet::SweepAudit;
