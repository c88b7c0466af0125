//! The reader on the real MNIST files (from MNIST_DIR, default ../shared/mnist) and on damaged copies.

mod common;
use common::mnist_dir;

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use flate2::Compression;
use flate2::write::GzEncoder;
use nnlab_mnist::data::dataset::FILES;
use nnlab_mnist::data::idx::{encode_images, encode_labels};
use nnlab_mnist::{DataError, Mnist};

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// A small valid data set (raw or gzip per file) in `dir`, made from the first real images.
fn small_set(dir: &Path, real: &Mnist, n: usize) {
    let (tr, te) = (real.train.take(n), real.test.take(n));
    std::fs::write(dir.join(FILES[0]), gz(&encode_images(n, &tr.images))).unwrap();
    std::fs::write(dir.join(FILES[1].trim_end_matches(".gz")), encode_labels(&tr.labels)).unwrap();
    std::fs::write(dir.join(FILES[2]), gz(&encode_images(n, &te.images))).unwrap();
    std::fs::write(dir.join(FILES[3]), gz(&encode_labels(&te.labels))).unwrap();
}

#[test]
fn reads_the_real_files_fast_and_right() {
    let t = Instant::now();
    let m = Mnist::load(&mnist_dir()).unwrap();
    let elapsed = t.elapsed();
    assert_eq!((m.train.len(), m.test.len()), (60_000, 10_000));
    assert_eq!(m.train.labels[..10], [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
    assert_eq!(m.test.labels[..10], [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
    let (mean, std) = m.train.pixel_mean_std();
    assert_eq!(
        (format!("{mean:.4}"), format!("{std:.4}")),
        ("0.1307".into(), "0.3081".into())
    );
    assert_eq!(
        m.test.class_counts(),
        [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    );
    eprintln!("decoded both splits in {elapsed:?}");
}

#[test]
fn every_kind_of_damage_is_refused_with_the_file_named() {
    let real = Mnist::load(&mnist_dir()).unwrap();
    let check = |damage: &dyn Fn(&Path), expect: &dyn Fn(&DataError) -> bool, file: &str| {
        let dir = tempfile::tempdir().unwrap();
        small_set(dir.path(), &real, 20);
        assert!(Mnist::load(dir.path()).is_ok());
        damage(dir.path());
        let err = Mnist::load(dir.path()).unwrap_err();
        assert!(expect(&err), "unexpected error: {err}");
        assert!(err.to_string().contains(file), "{err} should name {file}");
    };
    let train_images = |d: &Path| d.join(FILES[0]);
    // Truncated gzip stream.
    check(
        &|d| {
            let b = std::fs::read(train_images(d)).unwrap();
            std::fs::write(train_images(d), &b[..b.len() / 2]).unwrap();
        },
        &|e| matches!(e, DataError::Gzip { .. }),
        FILES[0],
    );
    // Wrong magic: labels where images belong.
    check(
        &|d| std::fs::write(train_images(d), gz(&encode_labels(&[1, 2]))).unwrap(),
        &|e| matches!(e, DataError::BadMagic { .. }),
        FILES[0],
    );
    // Truncated payload inside a valid gzip.
    check(
        &|d| {
            let mut raw = encode_images(20, &real.train.take(20).images);
            raw.truncate(raw.len() - 5);
            std::fs::write(train_images(d), gz(&raw)).unwrap();
        },
        &|e| matches!(e, DataError::Length { kind: "truncated", .. }),
        FILES[0],
    );
    // Trailing bytes.
    check(
        &|d| {
            let mut raw = encode_images(20, &real.train.take(20).images);
            raw.extend([0, 0, 0]);
            std::fs::write(train_images(d), gz(&raw)).unwrap();
        },
        &|e| {
            matches!(
                e,
                DataError::Length {
                    kind: "trailing bytes",
                    ..
                }
            )
        },
        FILES[0],
    );
    // Count mismatch between images and labels.
    check(
        &|d| std::fs::write(d.join(FILES[3]), gz(&encode_labels(&real.test.labels[..19]))).unwrap(),
        &|e| matches!(e, DataError::CountMismatch { .. }),
        "t10k-labels",
    );
    // Label out of range (raw, uncompressed labels file).
    check(
        &|d| {
            let mut labels = real.train.labels[..20].to_vec();
            labels[7] = 12;
            std::fs::write(d.join(FILES[1].trim_end_matches(".gz")), encode_labels(&labels)).unwrap();
        },
        &|e| {
            matches!(
                e,
                DataError::LabelOutOfRange {
                    index: 7,
                    label: 12,
                    ..
                }
            )
        },
        "train-labels",
    );
    // Missing files: every one named, in one error.
    check(
        &|d| {
            std::fs::remove_file(d.join(FILES[2])).unwrap();
            std::fs::remove_file(nnlab_mnist::data::dataset::file_path(d, FILES[1])).unwrap();
        },
        &|e| {
            matches!(e, DataError::FilesMissing { .. })
                && e.to_string().ends_with(
                    "MNIST files are missing: train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz (each looked for as .gz and raw)",
                )
        },
        "t10k-images",
    );
    // Not 28×28.
    check(
        &|d| {
            let mut raw = encode_images(1, &[0; 784]);
            raw[11] = 14;
            std::fs::write(train_images(d), gz(&raw)).unwrap();
        },
        &|e| matches!(e, DataError::BadDimensions { .. }),
        FILES[0],
    );
}

#[test]
fn a_path_that_is_not_a_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plain-file");
    std::fs::write(&file, "x").unwrap();
    let err = Mnist::load(&file).unwrap_err();
    assert!(matches!(err, DataError::Directory { .. }) && err.to_string().contains("plain-file"));
}
