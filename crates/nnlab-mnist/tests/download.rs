//! The downloader against real HTTP servers on 127.0.0.1 serving the real files: one mirror down, one
//! serving corrupted content, one good. Corrupt data must be rejected and leave nothing behind.

mod common;
use common::mnist_dir;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::Arc;

use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use nnlab_mnist::DataError;
use nnlab_mnist::data::dataset::FILES;
use nnlab_mnist::data::download::{DownloadEvent, download};

/// Serves `files` over HTTP/1.1 on an ephemeral loopback port; returns the base URL.
fn serve(files: HashMap<String, Vec<u8>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let files = Arc::new(files);
    std::thread::spawn(move || {
        for stream in listener.incoming().take(64) {
            let Ok(mut stream) = stream else { continue };
            let files = Arc::clone(&files);
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request = String::new();
                reader.read_line(&mut request).unwrap_or_default();
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                    line.clear();
                }
                let name = request
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or("/")
                    .trim_start_matches('/')
                    .to_string();
                let response = match files.get(&name) {
                    Some(body) => {
                        let mut r = format!(
                            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                            body.len()
                        )
                        .into_bytes();
                        r.extend(body);
                        r
                    }
                    None => b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec(),
                };
                let _ = stream.write_all(&response);
            });
        }
    });
    url
}

fn real_files() -> HashMap<String, Vec<u8>> {
    FILES
        .iter()
        .map(|f| (f.to_string(), std::fs::read(mnist_dir().join(f)).unwrap()))
        .collect()
}

/// Valid gzip whose content differs from MNIST's by one byte: only the SHA-256 check can catch it.
fn corrupted_files() -> HashMap<String, Vec<u8>> {
    real_files()
        .into_iter()
        .map(|(name, gz)| {
            let mut content = Vec::new();
            GzDecoder::new(gz.as_slice()).read_to_end(&mut content).unwrap();
            let last = content.len() - 1;
            content[last] ^= 1;
            let mut e = GzEncoder::new(Vec::new(), Compression::fast());
            e.write_all(&content).unwrap();
            (name, e.finish().unwrap())
        })
        .collect()
}

fn down_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    drop(listener);
    url
}

#[test]
fn falls_back_past_a_down_and_a_corrupt_mirror_and_skips_valid_files() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("mnist");
    let mirrors = [down_server(), serve(corrupted_files()), serve(real_files())];
    let mut events = Vec::new();
    download(&target, &mirrors, &mut |e| events.push(e)).unwrap();
    let failures: Vec<&String> = events
        .iter()
        .filter_map(|e| match e {
            DownloadEvent::MirrorFailed { reason, .. } => Some(reason),
            _ => None,
        })
        .collect();
    assert_eq!(
        failures.len(),
        8,
        "each file fails on the down and the corrupt mirror: {failures:?}"
    );
    assert_eq!(failures.iter().filter(|r| r.contains("checksum mismatch")).count(), 4);
    assert_eq!(
        events
            .iter()
            .filter(|e| matches!(e, DownloadEvent::Saved { .. }))
            .count(),
        4
    );
    for f in FILES {
        assert_eq!(
            std::fs::read(target.join(f)).unwrap(),
            std::fs::read(mnist_dir().join(f)).unwrap()
        );
    }
    assert_eq!(
        std::fs::read_dir(&target).unwrap().count(),
        4,
        "no temporary files left"
    );
    nnlab_mnist::Mnist::load(&target).unwrap();

    let mut again = Vec::new();
    download(&target, &[down_server()], &mut |e| again.push(e)).unwrap();
    assert!(again.iter().all(|e| matches!(e, DownloadEvent::Skipped { .. })) && again.len() == 4);
}

#[test]
fn a_corrupt_only_mirror_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("mnist");
    let err = download(&target, &[serve(corrupted_files()), down_server()], &mut |_| {}).unwrap_err();
    assert!(matches!(err, DataError::Download { .. }));
    let message = err.to_string();
    assert!(
        message.contains("checksum mismatch") && message.contains("--data-dir"),
        "{message}"
    );
    assert_eq!(std::fs::read_dir(&target).unwrap().count(), 0, "nothing written");
}
