//! Grids of digit images with a caption under each, as PNG.

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::inspect_figures::overlay;
use crate::output::figure::{Figure, centred, pixel_grid, plot_err};

/// Pixels per image pixel.
const SCALE: i32 = 3;
/// Space under each digit for its caption.
const CAPTION: i32 = 22;
/// Gap between cells.
const GAP: i32 = 8;

/// Digits (values in [0, 1], 28×28) with captions, laid out `cols` per row under a title.
pub struct DigitGrid {
    /// Title over the grid.
    pub title: String,
    /// Images and their captions.
    pub cells: Vec<(Vec<f32>, String)>,
    /// Cells per row.
    pub cols: usize,
    /// A heat map per cell (values in [0, 1], 28×28) drawn over its digit, e.g. Grad-CAM; empty for none.
    pub overlays: Vec<Vec<f32>>,
}

impl DigitGrid {
    /// Pixel size of the whole figure.
    pub fn size(&self) -> (u32, u32) {
        let rows = self.cells.len().div_ceil(self.cols) as i32;
        let w = self.cols as i32 * (28 * SCALE + GAP) + GAP;
        let h = 50 + rows * (28 * SCALE + CAPTION + GAP);
        (w as u32, h as u32)
    }
}

impl Figure for DigitGrid {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE).map_err(plot_err)?;
        let (w, _) = self.size();
        root.draw(&Text::new(self.title.clone(), (w as i32 / 2, 24), centred(20, BLACK)))
            .map_err(plot_err)?;
        for (k, (pixels, caption)) in self.cells.iter().enumerate() {
            let (r, c) = ((k / self.cols) as i32, (k % self.cols) as i32);
            let x0 = GAP + c * (28 * SCALE + GAP);
            let y0 = 50 + r * (28 * SCALE + CAPTION + GAP);
            let heat = self.overlays.get(k);
            pixel_grid(root, (x0, y0), (28, 28, SCALE), |i| {
                overlay(pixels[i], heat.map_or(0.0, |h| h[i]))
            })?;
            root.draw(&Text::new(
                caption.clone(),
                (x0 + 14 * SCALE, y0 + 28 * SCALE + CAPTION / 2 + 1),
                centred(15, BLACK),
            ))
            .map_err(plot_err)?;
        }
        Ok(())
    }
}
