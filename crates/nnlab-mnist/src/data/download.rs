//! Fetching the four files over HTTP(S) from public mirrors: the next mirror on failure, the SHA-256 of
//! each file's decompressed content verified, files written atomically, valid files skipped.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::dataset::FILES;
use super::error::DataError;
use super::idx::decompress_if_gzip;
use crate::atomic::write_atomic;

/// Public mirrors serving the four `.gz` files.
pub const MIRRORS: [&str; 2] = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
];

/// SHA-256 of each file's decompressed content, in [`FILES`] order, as the files published by the MNIST mirrors hash.
pub const SHA256_DECOMPRESSED: [&str; 4] = [
    "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
];

/// What the downloader is doing, for a progress display.
#[derive(Debug, Clone, PartialEq)]
pub enum DownloadEvent {
    /// A valid copy is already there.
    Skipped {
        /// File name.
        file: String,
    },
    /// A request started; `total` is the Content-Length when the server sent one.
    Started {
        /// File name.
        file: String,
        /// Full URL.
        url: String,
        /// Expected bytes.
        total: Option<u64>,
    },
    /// Bytes received so far for the current request.
    Progress {
        /// Bytes so far.
        bytes: u64,
    },
    /// A mirror failed; the next one will be tried.
    MirrorFailed {
        /// Full URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// The file is verified and in place.
    Saved {
        /// Where.
        path: PathBuf,
        /// Its size.
        bytes: u64,
    },
}

/// SHA-256 of `bytes` as lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// True when `path` exists and its decompressed content has the expected checksum.
pub fn is_valid(path: &Path, expected_sha: &str) -> bool {
    std::fs::read(path)
        .ok()
        .and_then(|raw| decompress_if_gzip(path, &raw).ok().map(|content| sha256_hex(&content)))
        .is_some_and(|sha| sha == expected_sha)
}

fn fetch(
    agent: &ureq::Agent,
    url: &str,
    on_event: &mut dyn FnMut(DownloadEvent),
    file: &str,
) -> Result<Vec<u8>, String> {
    let mut response = agent.get(url).call().map_err(|e| e.to_string())?;
    let total = response
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    on_event(DownloadEvent::Started {
        file: file.into(),
        url: url.into(),
        total,
    });
    let mut reader = response.body_mut().as_reader();
    let mut body = Vec::with_capacity(total.unwrap_or(1 << 20) as usize);
    let mut chunk = vec![0u8; 1 << 16];
    loop {
        let n = reader.read(&mut chunk).map_err(|e| e.to_string())?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
        on_event(DownloadEvent::Progress {
            bytes: body.len() as u64,
        });
    }
    if let Some(total) = total.filter(|t| *t != body.len() as u64) {
        return Err(format!("connection closed after {} of {total} bytes", body.len()));
    }
    Ok(body)
}

/// Downloads whichever of the four files are missing or invalid in `dir` from `mirrors` (base URLs
/// ending in `/`), trying each mirror in turn.
pub fn download(dir: &Path, mirrors: &[String], on_event: &mut dyn FnMut(DownloadEvent)) -> Result<(), DataError> {
    std::fs::create_dir_all(dir).map_err(|e| DataError::Directory {
        path: dir.to_path_buf(),
        reason: format!("cannot be created: {e}"),
    })?;
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_connect(Some(Duration::from_secs(15)))
        .timeout_global(Some(Duration::from_secs(600)))
        .build()
        .into();
    for (file, sha) in FILES.iter().zip(SHA256_DECOMPRESSED) {
        let target = dir.join(file);
        if is_valid(&target, sha) {
            on_event(DownloadEvent::Skipped { file: file.to_string() });
            continue;
        }
        let mut attempts = Vec::new();
        let mut saved = false;
        for mirror in mirrors {
            let url = format!("{mirror}{file}");
            let result = fetch(&agent, &url, on_event, file).and_then(|body| {
                let content = decompress_if_gzip(&target, &body).map_err(|e| e.to_string())?;
                let got = sha256_hex(&content);
                if got != sha {
                    return Err(format!(
                        "checksum mismatch (decompressed SHA-256 {got}, expected {sha})"
                    ));
                }
                write_atomic(&target, &body).map_err(|e| format!("cannot write {}: {e}", target.display()))?;
                Ok(body.len() as u64)
            });
            match result {
                Ok(bytes) => {
                    on_event(DownloadEvent::Saved {
                        path: target.clone(),
                        bytes,
                    });
                    saved = true;
                    break;
                }
                Err(reason) => {
                    on_event(DownloadEvent::MirrorFailed {
                        url: url.clone(),
                        reason: reason.clone(),
                    });
                    attempts.push(format!("{url}: {reason}"));
                }
            }
        }
        if !saved {
            return Err(DataError::Download {
                file: file.to_string(),
                dir: dir.to_path_buf(),
                attempts: attempts.join("; "),
            });
        }
    }
    Ok(())
}
