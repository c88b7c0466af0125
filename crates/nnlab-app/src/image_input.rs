//! Reading an image someone gave us, bounded: the dimensions come from the file's header first and are
//! refused above a limit before any pixel is decoded, and the decoder's allocations are capped, so no
//! file (a 400-megapixel PNG is a 438 kB file) can make nnlab allocate more than a few hundred MB.

use std::io::{BufRead, Cursor, Seek};
use std::path::Path;

use image::{DynamicImage, ImageReader, Limits};

/// Default largest width and height accepted.
pub const DEFAULT_MAX_SIDE: u32 = 4096;

/// Most memory the decoder may allocate.
const MAX_ALLOC: u64 = 256 << 20;

/// Decodes the image at `path` if neither side exceeds `max_side`; the error says why not.
pub fn decode_bounded(path: &Path, max_side: u32) -> Result<DynamicImage, String> {
    let open = || {
        ImageReader::open(path)
            .map_err(|e| format!("cannot read the image: {e}"))?
            .with_guessed_format()
            .map_err(|e| format!("cannot read the image: {e}"))
    };
    decode_with(open, max_side)
}

/// Decodes an image held in memory (an upload), with the same limits as [`decode_bounded`].
pub fn decode_bounded_bytes(bytes: &[u8], max_side: u32) -> Result<DynamicImage, String> {
    let open = || {
        ImageReader::new(Cursor::new(bytes))
            .with_guessed_format()
            .map_err(|e| format!("cannot read the image: {e}"))
    };
    decode_with(open, max_side)
}

/// Reads the header through one reader, then decodes through a second one with the limits set.
fn decode_with<R: BufRead + Seek>(
    open: impl Fn() -> Result<ImageReader<R>, String>,
    max_side: u32,
) -> Result<DynamicImage, String> {
    let reader = open()?;
    if reader.format().is_none() {
        return Err("cannot read the image: not a PNG, JPEG, BMP, GIF or WebP file".into());
    }
    let (w, h) = reader
        .into_dimensions()
        .map_err(|e| format!("cannot read the image: {e}"))?;
    if w > max_side || h > max_side {
        return Err(format!(
            "the image is {w}×{h} pixels, larger than the {max_side}×{max_side} limit (--max-image-side); refused before decoding"
        ));
    }
    let mut reader = open()?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(max_side);
    limits.max_image_height = Some(max_side);
    limits.max_alloc = Some(MAX_ALLOC);
    reader.limits(limits);
    reader.decode().map_err(|e| match e {
        image::ImageError::Limits(_) => format!(
            "the image is {w}×{h} pixels and decoding it needs more than {} MB; refused",
            MAX_ALLOC >> 20
        ),
        e => format!("cannot read the image: {e}"),
    })
}
