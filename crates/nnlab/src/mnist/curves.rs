//! `curves.png`: train loss, test loss, train accuracy and test accuracy per epoch, 2×2.

use anyhow::Result;
use nnlab_mnist::training::EpochRecord;
use nnlab_mnist::training::metrics::averaging_caught_up;
use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use crate::output::figure::{Figure, plot_err};

/// Draws the grid and axes of a per-epoch chart: epochs along x (at most 10 labels), accuracy in % with two
/// decimals or a loss with three along y. Shared by every figure that plots metrics per epoch.
pub fn epoch_mesh<DB: DrawingBackend>(
    chart: &mut ChartContext<DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    epochs: usize,
    is_accuracy: bool,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    chart
        .configure_mesh()
        .x_desc("epoch")
        .x_labels(epochs.clamp(2, 10))
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| {
            if is_accuracy {
                format!("{y:.2}")
            } else {
                format!("{y:.3}")
            }
        })
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 15))
        .draw()
        .map_err(plot_err)?;
    Ok(())
}

/// The test curves' colour.
const BLUE_LINE: RGBColor = RGBColor(40, 90, 200);

/// The four training curves of a run (a weight-averaged run's test panels show both sets of weights).
pub struct Curves<'a> {
    /// Per-epoch metrics.
    pub records: &'a [EpochRecord],
    /// Title (recipe, seed).
    pub title: String,
}

impl Figure for Curves<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE).map_err(plot_err)?;
        let root = root.titled(&self.title, ("sans-serif", 24)).map_err(plot_err)?;
        let panels = root.split_evenly((2, 2));
        type Pick = fn(&EpochRecord) -> f64;
        type RawPick = fn(&EpochRecord) -> Option<f64>;
        let series: [(&str, Pick, Option<RawPick>, RGBColor, bool); 4] = [
            ("train loss", |r| r.train_loss, None, RGBColor(200, 60, 40), false),
            (
                "test loss",
                |r| r.test_loss,
                Some(|r| r.raw_test_loss),
                BLUE_LINE,
                false,
            ),
            (
                "train accuracy (%)",
                |r| r.train_accuracy * 100.0,
                None,
                RGBColor(200, 60, 40),
                true,
            ),
            (
                "test accuracy (%)",
                |r| r.test_accuracy * 100.0,
                Some(|r| r.raw_test_accuracy.map(|a| a * 100.0)),
                BLUE_LINE,
                true,
            ),
        ];
        let last = self.records.len().max(2) as f64;
        // A weight-averaged run: its test panels also show the weights under optimisation, and leave the
        // epochs before the average caught up with them (far below: it still blends in the first weights)
        // out of the axis range.
        let settled = averaging_caught_up(self.records);
        for (panel, (name, pick, raw_pick, color, is_accuracy)) in panels.iter().zip(series) {
            let values: Vec<f64> = self.records.iter().map(pick).collect();
            let raw: Vec<(f64, f64)> = match raw_pick {
                Some(f) => self
                    .records
                    .iter()
                    .filter_map(|r| f(r).map(|v| (r.epoch as f64, v)))
                    .collect(),
                None => Vec::new(),
            };
            let from = if raw.is_empty() { 0 } else { settled };
            let (lo, hi) = values[from..]
                .iter()
                .chain(raw.iter().map(|(_, v)| v))
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(*v), b.max(*v)));
            let (lo, hi) = if lo.is_finite() { (lo, hi) } else { (0.0, 1.0) };
            let pad = ((hi - lo) * 0.08).max(if is_accuracy { 0.05 } else { 1e-3 });
            let mut chart = ChartBuilder::on(panel)
                .caption(name, ("sans-serif", 20))
                .margin(12)
                .x_label_area_size(40)
                .y_label_area_size(64)
                .build_cartesian_2d(1f64..last, (lo - pad)..(hi + pad))
                .map_err(plot_err)?;
            epoch_mesh(&mut chart, self.records.len(), is_accuracy)?;
            let mut labelled = false;
            if is_accuracy && name.starts_with("test") && lo - pad < 99.4 && hi + pad > 99.4 {
                chart
                    .draw_series(LineSeries::new(
                        [(1.0, 99.4), (last, 99.4)],
                        RGBColor(120, 120, 120).stroke_width(1),
                    ))
                    .map_err(plot_err)?
                    .label("99.4 % goal")
                    .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], RGBColor(120, 120, 120)));
                labelled = true;
            }
            if !raw.is_empty() {
                let grey = RGBColor(150, 150, 150);
                chart
                    .draw_series(LineSeries::new(raw.clone(), grey.stroke_width(2)))
                    .map_err(plot_err)?
                    .label("weights under optimisation")
                    .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], grey.stroke_width(2)));
                chart
                    .draw_series(raw.iter().map(|p| Circle::new(*p, 3, grey.filled())))
                    .map_err(plot_err)?;
            }
            // The epochs from `from` on set the range, so all of them lie inside it.
            let points: Vec<(f64, f64)> = values
                .iter()
                .enumerate()
                .skip(from)
                .map(|(i, v)| ((i + 1) as f64, *v))
                .collect();
            let line = chart
                .draw_series(LineSeries::new(points.clone(), color.stroke_width(3)))
                .map_err(plot_err)?;
            if !raw.is_empty() {
                let first = self.records.get(from).map_or(1, |r| r.epoch);
                line.label(format!("weight average (evaluated; from epoch {first})"))
                    .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], color.stroke_width(3)));
                labelled = true;
            }
            chart
                .draw_series(points.iter().map(|p| Circle::new(*p, 4, color.filled())))
                .map_err(plot_err)?;
            if labelled {
                chart
                    .configure_series_labels()
                    .position(if is_accuracy {
                        SeriesLabelPosition::LowerRight
                    } else {
                        SeriesLabelPosition::UpperRight
                    })
                    .background_style(WHITE.mix(0.85))
                    .border_style(BLACK)
                    .draw()
                    .map_err(plot_err)?;
            }
        }
        Ok(())
    }
}
