//! The figures of `nnlab mnist inspect`: the input with its saliency and Grad-CAM overlays and the ten
//! probabilities, one grid of feature maps per statement (channels labelled, one colour scale per grid),
//! and the first layer's filters (a diverging scale: blue negative, red positive).

use anyhow::Result;
use nnlab_app::inspect::{FeatureMaps, Filters, Inspection};
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::output::figure::{Figure, centred, pixel_grid, plot_err};

/// Viridis-like stops of the heat scale, from 0 to 1.
const HEAT: [(u8, u8, u8); 5] = [
    (68, 1, 84),
    (59, 82, 139),
    (33, 145, 140),
    (94, 201, 98),
    (253, 231, 37),
];

/// The heat colour of v in [0, 1].
pub fn heat(v: f32) -> RGBColor {
    let x = v.clamp(0.0, 1.0) * (HEAT.len() - 1) as f32;
    let i = (x.floor() as usize).min(HEAT.len() - 2);
    let t = x - i as f32;
    let mix = |a: u8, b: u8| (a as f32 + (b as f32 - a as f32) * t).round() as u8;
    let (a, b) = (HEAT[i], HEAT[i + 1]);
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// A grey input pixel (1 = ink, drawn white on black) under a heat overlay of strength `v`.
pub fn overlay(ink: f32, v: f32) -> RGBColor {
    let g = ink.clamp(0.0, 1.0) * 255.0;
    let h = heat(v);
    let alpha = 0.75 * v.clamp(0.0, 1.0).sqrt();
    let mix = |c: u8| (g * (1.0 - alpha) + c as f32 * alpha).round() as u8;
    RGBColor(mix(h.0), mix(h.1), mix(h.2))
}

/// The input, its saliency and Grad-CAM overlays, and a bar per digit's probability.
pub struct Overview<'a>(pub &'a Inspection);

/// Pixels per input pixel in the overview.
const BIG: i32 = 7;

impl Overview<'_> {
    /// Pixel size of the figure.
    pub fn size(&self) -> (u32, u32) {
        (3 * 28 * BIG as u32 + 4 * 20 + 260, 28 * BIG as u32 + 90)
    }
}

impl Figure for Overview<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let r = self.0;
        root.fill(&WHITE).map_err(plot_err)?;
        let side = 28 * BIG;
        let panels: [(&str, &dyn Fn(usize) -> RGBColor); 3] = [
            ("input", &|k| overlay(r.input[k], 0.0)),
            ("saliency |∂score/∂input|", &|k| overlay(r.input[k], r.saliency[k])),
            ("Grad-CAM", &|k| overlay(r.input[k], r.gradcam[k])),
        ];
        for (i, (title, colour)) in panels.iter().enumerate() {
            let x0 = 20 + i as i32 * (side + 20);
            let title = if i == 2 && !r.gradcam_layer.is_empty() {
                format!("{title} on {}", r.gradcam_layer)
            } else {
                title.to_string()
            };
            root.draw(&Text::new(title, (x0 + side / 2, 22), centred(15, BLACK)))
                .map_err(plot_err)?;
            pixel_grid(root, (x0, 40), (28, 28, BIG), colour)?;
        }
        let caption = format!(
            "the model reads a {} ({:.1} %)",
            r.digit,
            r.probabilities[r.digit] * 100.0
        );
        root.draw(&Text::new(
            caption,
            ((3 * (side + 20)) / 2, side + 65),
            centred(16, BLACK),
        ))
        .map_err(plot_err)?;
        let bx = 20 + 3 * (side + 20) + 10;
        for (d, p) in r.probabilities.iter().enumerate() {
            let y = 44 + d as i32 * 19;
            let colour = if d == r.digit {
                RGBColor(33, 145, 140)
            } else {
                RGBColor(150, 150, 150)
            };
            root.draw(&Text::new(d.to_string(), (bx, y + 7), centred(13, BLACK)))
                .map_err(plot_err)?;
            let len = (p.clamp(0.0, 1.0) * 160.0).round() as i32;
            root.draw(&Rectangle::new(
                [(bx + 12, y), (bx + 12 + len.max(1), y + 14)],
                colour.filled(),
            ))
            .map_err(plot_err)?;
            root.draw(&Text::new(format!("{:.3}", p), (bx + 210, y + 7), centred(12, BLACK)))
                .map_err(plot_err)?;
        }
        Ok(())
    }
}

/// One statement's feature maps as a grid, every channel on the statement's own colour scale.
pub struct MapGrid<'a>(pub &'a FeatureMaps);

impl MapGrid<'_> {
    /// Pixels per map value, so every map is drawn about 84 pixels wide.
    fn scale(&self) -> i32 {
        (84 / self.0.shape[2].max(1) as i32).max(4)
    }

    fn columns(&self) -> usize {
        self.0.shape[0].min(8)
    }

    /// Pixel size of the figure.
    pub fn size(&self) -> (u32, u32) {
        let [c, h, w] = self.0.shape;
        let s = self.scale();
        let cols = self.columns() as i32;
        let rows = c.div_ceil(self.columns()) as i32;
        let width = (cols * (w as i32 * s + 12) + 12).max(420);
        (width as u32, (70 + rows * (h as i32 * s + 26)) as u32)
    }
}

impl Figure for MapGrid<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let m = self.0;
        let [c, h, w] = m.shape;
        let s = self.scale();
        root.fill(&WHITE).map_err(plot_err)?;
        let (width, _) = self.size();
        let rf = m
            .geometry
            .map_or(String::new(), |g| format!(", receptive field {} px", g.rf));
        let title = format!("{}: {c}×{h}×{w}{rf}", m.name);
        root.draw(&Text::new(title, (width as i32 / 2, 20), centred(16, BLACK)))
            .map_err(plot_err)?;
        let scale = format!(
            "colour scale {:.3} (dark) … {:.3} (bright), the same for every channel",
            m.min, m.max
        );
        root.draw(&Text::new(
            scale,
            (width as i32 / 2, 42),
            centred(12, RGBColor(90, 90, 90)),
        ))
        .map_err(plot_err)?;
        let span = (m.max - m.min).max(1e-12);
        for ch in 0..c {
            let (row, col) = ((ch / self.columns()) as i32, (ch % self.columns()) as i32);
            let x0 = 12 + col * (w as i32 * s + 12);
            let y0 = 60 + row * (h as i32 * s + 26);
            let values = m.channel(ch);
            pixel_grid(root, (x0, y0), (h, w, s), |k| heat((values[k] - m.min) / span))?;
            root.draw(&Text::new(
                format!("ch {ch}"),
                (x0 + w as i32 * s / 2, y0 + h as i32 * s + 11),
                centred(12, BLACK),
            ))
            .map_err(plot_err)?;
        }
        Ok(())
    }
}

/// The first convolution's filters (input channel 0), on one symmetric diverging scale.
pub struct FilterGrid<'a>(pub &'a Filters);

/// Pixels per filter weight.
const WEIGHT: i32 = 16;

impl FilterGrid<'_> {
    /// Pixel size of the figure.
    pub fn size(&self) -> (u32, u32) {
        let [out, _, k, _] = self.0.shape;
        let cols = out.min(8) as i32;
        let rows = out.div_ceil(8) as i32;
        let width = (cols * (k as i32 * WEIGHT + 14) + 14).max(420);
        (width as u32, (66 + rows * (k as i32 * WEIGHT + 26)) as u32)
    }
}

/// Blue for negative, white for 0, red for positive, at |v| / `max`.
fn diverging(v: f32, max: f32) -> RGBColor {
    let t = (v / max).clamp(-1.0, 1.0);
    let fade = |c: f32| (255.0 - (255.0 - c) * t.abs()).round() as u8;
    if t < 0.0 {
        RGBColor(fade(40.0), fade(90.0), fade(200.0))
    } else {
        RGBColor(fade(200.0), fade(40.0), fade(40.0))
    }
}

impl Figure for FilterGrid<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let f = self.0;
        let [out, cin, k, _] = f.shape;
        root.fill(&WHITE).map_err(plot_err)?;
        let (width, _) = self.size();
        let max = f.values.iter().map(|v| v.abs()).fold(1e-12f32, f32::max);
        let title = format!(
            "{}: the first layer's {out} filters ({k}×{k}, input channel 0 of {cin})",
            f.name
        );
        root.draw(&Text::new(title, (width as i32 / 2, 20), centred(15, BLACK)))
            .map_err(plot_err)?;
        let legend = format!("blue −{max:.3} · white 0 · red +{max:.3}");
        root.draw(&Text::new(
            legend,
            (width as i32 / 2, 40),
            centred(12, RGBColor(90, 90, 90)),
        ))
        .map_err(plot_err)?;
        for o in 0..out {
            let (row, col) = ((o / 8) as i32, (o % 8) as i32);
            let x0 = 14 + col * (k as i32 * WEIGHT + 14);
            let y0 = 56 + row * (k as i32 * WEIGHT + 26);
            let weights = &f.values[o * cin * k * k..][..k * k];
            pixel_grid(root, (x0, y0), (k, k, WEIGHT), |i| diverging(weights[i], max))?;
            root.draw(&Text::new(
                format!("ch {o}"),
                (x0 + k as i32 * WEIGHT / 2, y0 + k as i32 * WEIGHT + 11),
                centred(12, BLACK),
            ))
            .map_err(plot_err)?;
        }
        Ok(())
    }
}
