//! IDX files (big-endian header, then raw bytes), gzip-compressed or not; every field is validated.

use std::borrow::Cow;
use std::io::Read;
use std::path::Path;

use flate2::read::GzDecoder;

use super::SIDE;
use super::error::DataError;

/// Magic number of an IDX file of unsigned-byte images (3 dimensions).
pub const IMAGES_MAGIC: u32 = 0x0000_0803;
/// Magic number of an IDX file of unsigned-byte labels (1 dimension).
pub const LABELS_MAGIC: u32 = 0x0000_0801;

/// Reads a file and decompresses it when it starts with the gzip magic bytes.
pub fn read_maybe_gzip(path: &Path) -> Result<Vec<u8>, DataError> {
    let raw = std::fs::read(path).map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => DataError::Missing {
            path: path.to_path_buf(),
        },
        _ => DataError::Io {
            path: path.to_path_buf(),
            source,
        },
    })?;
    let decompressed = match decompress_if_gzip(path, &raw)? {
        Cow::Owned(content) => Some(content),
        Cow::Borrowed(_) => None,
    };
    Ok(decompressed.unwrap_or(raw))
}

/// The content of `raw`: decompressed if it is gzip, else `raw` itself (no copy).
pub fn decompress_if_gzip<'a>(path: &Path, raw: &'a [u8]) -> Result<Cow<'a, [u8]>, DataError> {
    if !raw.starts_with(&[0x1f, 0x8b]) {
        return Ok(Cow::Borrowed(raw));
    }
    let mut out = Vec::with_capacity(raw.len() * 4);
    GzDecoder::new(raw).read_to_end(&mut out).map_err(|e| DataError::Gzip {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    Ok(Cow::Owned(out))
}

fn be_u32(bytes: &[u8], at: usize) -> Option<u32> {
    bytes
        .get(at..at + 4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

fn check_length(path: &Path, expected: usize, actual: usize) -> Result<(), DataError> {
    if expected != actual {
        let kind = if actual < expected {
            "truncated"
        } else {
            "trailing bytes"
        };
        return Err(DataError::Length {
            path: path.to_path_buf(),
            expected,
            actual,
            kind,
        });
    }
    Ok(())
}

fn header(path: &Path, bytes: &[u8], len: usize) -> Result<(), DataError> {
    if bytes.len() < len {
        return Err(DataError::Length {
            path: path.to_path_buf(),
            expected: len,
            actual: bytes.len(),
            kind: "truncated header",
        });
    }
    Ok(())
}

/// Parses an images file: returns the count and `count × 784` pixels, row-major.
pub fn parse_images(path: &Path, bytes: &[u8]) -> Result<(usize, Vec<u8>), DataError> {
    header(path, bytes, 4)?;
    let magic = be_u32(bytes, 0).unwrap_or_default();
    if magic != IMAGES_MAGIC {
        return Err(DataError::BadMagic {
            path: path.to_path_buf(),
            found: magic,
            expected: IMAGES_MAGIC,
            kind: "images",
        });
    }
    header(path, bytes, 16)?;
    let count = be_u32(bytes, 4).unwrap_or_default() as usize;
    let (rows, cols) = (
        be_u32(bytes, 8).unwrap_or_default(),
        be_u32(bytes, 12).unwrap_or_default(),
    );
    if rows as usize != SIDE || cols as usize != SIDE {
        return Err(DataError::BadDimensions {
            path: path.to_path_buf(),
            rows,
            cols,
        });
    }
    check_length(path, count * SIDE * SIDE, bytes.len() - 16)?;
    Ok((count, bytes[16..].to_vec()))
}

/// Parses a labels file, checking every label is 0–9.
pub fn parse_labels(path: &Path, bytes: &[u8]) -> Result<Vec<u8>, DataError> {
    header(path, bytes, 4)?;
    let magic = be_u32(bytes, 0).unwrap_or_default();
    if magic != LABELS_MAGIC {
        return Err(DataError::BadMagic {
            path: path.to_path_buf(),
            found: magic,
            expected: LABELS_MAGIC,
            kind: "labels",
        });
    }
    header(path, bytes, 8)?;
    let count = be_u32(bytes, 4).unwrap_or_default() as usize;
    check_length(path, count, bytes.len() - 8)?;
    let labels = bytes[8..].to_vec();
    if let Some((index, &label)) = labels.iter().enumerate().find(|(_, l)| **l > 9) {
        return Err(DataError::LabelOutOfRange {
            path: path.to_path_buf(),
            index,
            label,
        });
    }
    Ok(labels)
}

/// Encodes images as an IDX file (used by tests and tools that write small data sets).
pub fn encode_images(count: usize, pixels: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + pixels.len());
    for v in [IMAGES_MAGIC, count as u32, SIDE as u32, SIDE as u32] {
        out.extend(v.to_be_bytes());
    }
    out.extend(pixels);
    out
}

/// Encodes labels as an IDX file.
pub fn encode_labels(labels: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + labels.len());
    for v in [LABELS_MAGIC, labels.len() as u32] {
        out.extend(v.to_be_bytes());
    }
    out.extend(labels);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> &'static Path {
        Path::new("x-idx")
    }

    #[test]
    fn round_trips_and_rejects_damage() {
        let pixels = vec![7u8; 2 * 784];
        let bytes = encode_images(2, &pixels);
        assert_eq!(parse_images(p(), &bytes).unwrap(), (2, pixels.clone()));
        assert!(matches!(
            parse_images(p(), &bytes[..bytes.len() - 1]),
            Err(DataError::Length { kind: "truncated", .. })
        ));
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(matches!(
            parse_images(p(), &longer),
            Err(DataError::Length {
                kind: "trailing bytes",
                ..
            })
        ));
        assert!(matches!(parse_labels(p(), &bytes), Err(DataError::BadMagic { .. })));
        let mut dims = bytes.clone();
        dims[11] = 27;
        assert!(matches!(
            parse_images(p(), &dims),
            Err(DataError::BadDimensions { rows: 27, .. })
        ));
        assert!(matches!(
            parse_labels(p(), &encode_labels(&[1, 10])),
            Err(DataError::LabelOutOfRange {
                index: 1,
                label: 10,
                ..
            })
        ));
        assert!(matches!(parse_images(p(), &bytes[..10]), Err(DataError::Length { .. })));
    }
}
