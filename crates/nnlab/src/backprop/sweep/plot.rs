//! The sweep figure: E_total against iteration, one labelled line per learning rate.

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::output::figure::{Figure, plot_err};

/// E_total curves for several rates.
pub struct SweepPlot<'a> {
    /// The rates, in legend order.
    pub lrs: &'a [f64],
    /// One curve per rate.
    pub curves: &'a [Vec<f64>],
    /// The network in words, for the title (`2-2-2 network`, `2-2-1 sigmoid network, 4 examples`).
    pub network: String,
}

impl Figure for SweepPlot<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE).map_err(plot_err)?;
        let n = self.curves.iter().map(Vec::len).max().unwrap_or(1);
        let y_max = self.curves.iter().flatten().copied().fold(0.0, f64::max) * 1.05;
        let mut chart = ChartBuilder::on(root)
            .caption(
                format!("Learning-rate study: E_total per iteration ({})", self.network),
                ("sans-serif", 26),
            )
            .margin(20)
            .x_label_area_size(50)
            .y_label_area_size(80)
            .build_cartesian_2d(1f64..n as f64, 0f64..y_max)
            .map_err(plot_err)?;
        chart
            .configure_mesh()
            .x_desc("iteration")
            .y_desc("E_total")
            .axis_desc_style(("sans-serif", 20))
            .label_style(("sans-serif", 16))
            .x_label_formatter(&|x| format!("{x:.0}"))
            .y_label_formatter(&|y| format!("{y:.4}"))
            .draw()
            .map_err(plot_err)?;
        for (k, (lr, curve)) in self.lrs.iter().zip(self.curves).enumerate() {
            let color = Palette99::pick(k).to_rgba().stroke_width(3);
            chart
                .draw_series(LineSeries::new(
                    curve.iter().enumerate().map(|(i, e)| ((i + 1) as f64, *e)),
                    color,
                ))
                .map_err(plot_err)?
                .label(format!("η = {lr}"))
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 24, y)], color));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .label_font(("sans-serif", 18))
            .draw()
            .map_err(plot_err)?;
        Ok(())
    }
}
