//! Figures drawn with plotters into memory, then saved atomically as PNG or SVG (chosen by extension).
//! The DejaVu Sans font is embedded so text renders on machines without system fonts.

use std::path::Path;
use std::sync::Once;

use anyhow::{Result, anyhow, bail};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::write_atomic;

static FONT: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");
static REGISTER: Once = Once::new();

/// Something that can draw itself on any plotters backend.
pub trait Figure {
    /// Draws the whole figure on `root`.
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static;
}

/// Text style centred on its anchor point, in the embedded sans-serif font.
pub fn centred(size: u32, color: RGBColor) -> TextStyle<'static> {
    ("sans-serif", size)
        .into_font()
        .color(&color)
        .pos(Pos::new(HPos::Center, VPos::Center))
}

/// Converts a plotters error into an anyhow error.
pub fn plot_err<E: std::error::Error + Send + Sync>(e: DrawingAreaErrorKind<E>) -> anyhow::Error {
    anyhow!("drawing failed: {e}")
}

/// Draws an `h`×`w` grid of square cells of `scale` pixels from `(x0, y0)`, cell `k` (row by row) coloured
/// `colour(k)`: images, feature maps, filters and heat maps drawn pixel by pixel.
pub fn pixel_grid<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    (x0, y0): (i32, i32),
    (h, w, scale): (usize, usize, i32),
    colour: impl Fn(usize) -> RGBColor,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    for k in 0..h * w {
        let (px, py) = (x0 + (k % w) as i32 * scale, y0 + (k / w) as i32 * scale);
        root.draw(&Rectangle::new(
            [(px, py), (px + scale, py + scale)],
            colour(k).filled(),
        ))
        .map_err(plot_err)?;
    }
    Ok(())
}

/// Checks that `path` ends in .png or .svg, naming `flag` otherwise.
pub fn check_image_path(path: &Path, flag: &str) -> Result<()> {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("png") | Some("svg") => Ok(()),
        _ => bail!("{flag} {}: the file name must end in .png or .svg", path.display()),
    }
}

/// Renders `figure` at `size` pixels and writes it to `path` (.png or .svg).
pub fn save_figure(path: &Path, size: (u32, u32), figure: &impl Figure) -> Result<()> {
    REGISTER.call_once(|| {
        for style in [FontStyle::Normal, FontStyle::Bold] {
            let _ = plotters::style::register_font("sans-serif", style, FONT);
        }
    });
    let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("svg") => {
            let mut svg = String::new();
            {
                let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
                figure.draw(&root)?;
                root.present().map_err(plot_err)?;
            }
            Ok(write_atomic(path, svg.as_bytes())?)
        }
        Some("png") => {
            let mut pixels = vec![0u8; (size.0 * size.1 * 3) as usize];
            {
                let root = BitMapBackend::with_buffer(&mut pixels, size).into_drawing_area();
                figure.draw(&root)?;
                root.present().map_err(plot_err)?;
            }
            let mut png = Vec::new();
            image::codecs::png::PngEncoder::new(&mut png)
                .write_image(&pixels, size.0, size.1, image::ExtendedColorType::Rgb8)
                .map_err(|e| anyhow!("encoding {}: {e}", path.display()))?;
            Ok(write_atomic(path, &png)?)
        }
        _ => bail!("{}: the file name must end in .png or .svg", path.display()),
    }
}

use image::ImageEncoder;
