//! The figures of `nnlab backprop boundary`, in TF Playground's colours (orange −1, white 0, blue +1): the
//! decision boundary with the training (white ring) and test (black ring) points, every neuron's output
//! over the plane laid out as the network with its weights as coloured edges, and the loss per epoch.

use anyhow::Result;
use nnlab_backprop::playground::{Experiment, PLANE};
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::output::figure::{Figure, centred, pixel_grid, plot_err};

/// TF Playground's colour of a value in [−1, 1]: orange, white, blue.
pub fn playground_colour(v: f64) -> RGBColor {
    let t = v.clamp(-1.0, 1.0);
    let (end, k) = if t < 0.0 {
        ((245.0, 147.0, 34.0), -t)
    } else {
        ((8.0, 119.0, 189.0), t)
    };
    let mix = |c: f64| (255.0 + (c - 255.0) * k).round() as u8;
    RGBColor(mix(end.0), mix(end.1), mix(end.2))
}

/// The output over the plane with the points.
pub struct Boundary<'a>(pub &'a Experiment);

const RES: usize = 100;
const CELL: i32 = 5;
const SIDE: i32 = RES as i32 * CELL;

impl Boundary<'_> {
    /// Pixel size.
    pub fn size(&self) -> (u32, u32) {
        (SIDE as u32 + 40, SIDE as u32 + 90)
    }
}

impl Figure for Boundary<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let e = self.0;
        root.fill(&WHITE).map_err(plot_err)?;
        let last = e.history.last().expect("epoch 0 is recorded");
        let title = format!(
            "epoch {}: test loss {:.3}, test accuracy {:.1} %",
            last.epoch,
            last.test_loss,
            last.test_accuracy * 100.0
        );
        root.draw(&Text::new(title, (SIDE / 2 + 20, 22), centred(17, BLACK)))
            .map_err(plot_err)?;
        let origin = (20, 44);
        let output = e.output_grid(RES);
        pixel_grid(root, origin, (RES, RES, CELL), |k| playground_colour(output[k]))?;
        let to_px = |x: f64, y: f64| {
            let s = SIDE as f64 / (2.0 * PLANE);
            (origin.0 + ((x + PLANE) * s) as i32, origin.1 + ((PLANE - y) * s) as i32)
        };
        for (points, ring) in [(&e.train, WHITE), (&e.test, BLACK)] {
            for p in points.iter().filter(|p| p.x.abs() <= PLANE && p.y.abs() <= PLANE) {
                let at = to_px(p.x, p.y);
                root.draw(&Circle::new(at, 4, playground_colour(p.label).filled()))
                    .map_err(plot_err)?;
                root.draw(&Circle::new(at, 4, ring.stroke_width(1))).map_err(plot_err)?;
            }
        }
        let caption = "x1, x2 ∈ [−6, 6] · colour: the output (orange −1, blue +1) · rings: white train, black test";
        root.draw(&Text::new(
            caption,
            (SIDE / 2 + 20, SIDE + 64),
            centred(12, RGBColor(80, 80, 80)),
        ))
        .map_err(plot_err)?;
        Ok(())
    }
}

/// Every neuron's output over the plane, by layer, with the weights as edges.
pub struct Neurons<'a>(pub &'a Experiment);

const N_RES: usize = 30;
const N_CELL: i32 = 2;
const TILE: i32 = N_RES as i32 * N_CELL;
const COLUMN: i32 = 170;
const ROW: i32 = 80;

impl Neurons<'_> {
    /// Pixel size.
    pub fn size(&self) -> (u32, u32) {
        let layers = &self.0.net.layers;
        let tallest = layers.iter().copied().max().unwrap_or(1) as i32;
        ((layers.len() as i32 * COLUMN + 40) as u32, (tallest * ROW + 90) as u32)
    }

    fn tile_at(&self, layer: usize, unit: usize) -> (i32, i32) {
        let (_, h) = self.size();
        let units = self.0.net.layers[layer] as i32;
        let top = (h as i32 - 40 - units * ROW) / 2 + 30;
        (30 + layer as i32 * COLUMN, top + unit as i32 * ROW)
    }
}

impl Figure for Neurons<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let e = self.0;
        root.fill(&WHITE).map_err(plot_err)?;
        let grids = e.neuron_grids(N_RES);
        // Edges first, under the tiles: blue positive, orange negative, wider for larger |w|.
        for (l, w) in e.net.weights.iter().enumerate() {
            let n_in = e.net.layers[l];
            for (k, &weight) in w.iter().enumerate() {
                let (j, i) = (k / n_in, k % n_in);
                let (a, b) = (self.tile_at(l, i), self.tile_at(l + 1, j));
                let colour = playground_colour(weight.signum());
                let width = (1.0 + weight.abs() * 2.0).min(6.0) as u32;
                root.draw(&PathElement::new(
                    [(a.0 + TILE, a.1 + TILE / 2), (b.0, b.1 + TILE / 2)],
                    colour.stroke_width(width),
                ))
                .map_err(plot_err)?;
            }
        }
        let names: Vec<&str> = e.setup.features.iter().map(|f| f.name()).collect();
        for (l, units) in grids.iter().enumerate() {
            let (x, _) = self.tile_at(l, 0);
            let label = match l {
                0 => "features".to_string(),
                _ if l + 1 == grids.len() => "output".to_string(),
                _ => format!("hidden {l}"),
            };
            root.draw(&Text::new(label, (x + TILE / 2, 14), centred(13, BLACK)))
                .map_err(plot_err)?;
            for (j, values) in units.iter().enumerate() {
                let at = self.tile_at(l, j);
                // Features span other ranges than (−1, 1): scale each by its own largest |value|.
                let scale = if l == 0 {
                    values.iter().fold(1e-12f64, |m, v| m.max(v.abs()))
                } else {
                    1.0
                };
                let scaled: Vec<f64> = values.iter().map(|v| v / scale).collect();
                pixel_grid(root, at, (N_RES, N_RES, N_CELL), |k| playground_colour(scaled[k]))?;
                root.draw(&Rectangle::new([at, (at.0 + TILE, at.1 + TILE)], BLACK.stroke_width(1)))
                    .map_err(plot_err)?;
                let caption = if l == 0 {
                    names[j].to_string()
                } else {
                    format!("b {:+.2}", e.net.biases[l - 1][j])
                };
                root.draw(&Text::new(
                    caption,
                    (at.0 + TILE / 2, at.1 + TILE + 9),
                    centred(11, BLACK),
                ))
                .map_err(plot_err)?;
            }
        }
        Ok(())
    }
}

/// Train and test loss per epoch.
pub struct Loss<'a>(pub &'a Experiment);

impl Figure for Loss<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let h = &self.0.history;
        root.fill(&WHITE).map_err(plot_err)?;
        let top = h
            .iter()
            .map(|s| s.train_loss.max(s.test_loss))
            .fold(0.0f64, f64::max)
            .max(1e-6);
        let last = h.last().map_or(1, |s| s.epoch.max(1));
        let mut chart = ChartBuilder::on(root)
            .caption("loss per epoch: mean ½(output − label)²", ("sans-serif", 18))
            .margin(14)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(0usize..last, 0.0..top * 1.05)
            .map_err(plot_err)?;
        chart
            .configure_mesh()
            .x_desc("epoch")
            .y_desc("loss")
            .label_style(("sans-serif", 13))
            .draw()
            .map_err(plot_err)?;
        for (name, colour, pick) in [
            (
                "train",
                RGBColor(120, 120, 120),
                (|s: &nnlab_backprop::playground::EpochStats| s.train_loss) as fn(&_) -> f64,
            ),
            ("test", RGBColor(8, 119, 189), |s| s.test_loss),
        ] {
            chart
                .draw_series(LineSeries::new(
                    h.iter().map(|s| (s.epoch, pick(s))),
                    colour.stroke_width(2),
                ))
                .map_err(plot_err)?
                .label(name)
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], colour.stroke_width(2)));
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .label_font(("sans-serif", 14))
            .draw()
            .map_err(plot_err)?;
        Ok(())
    }
}
