//! The confusion matrix as a heat map with counts.

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::output::figure::{Figure, centred, plot_err};

/// Counts of (true, predicted) pairs.
pub struct ConfusionPlot {
    /// `matrix[true][predicted]`.
    pub matrix: [[usize; 10]; 10],
    /// Overall accuracy, for the title.
    pub accuracy: f64,
}

impl Figure for ConfusionPlot {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE).map_err(plot_err)?;
        let title = format!(
            "Confusion matrix on the test set (accuracy {:.2} %)",
            self.accuracy * 100.0
        );
        root.draw(&Text::new(title, (380, 24), centred(20, BLACK)))
            .map_err(plot_err)?;
        let (x0, y0, cell) = (110, 90, 60);
        root.draw(&Text::new("predicted", (x0 + 5 * cell, y0 - 42), centred(18, BLACK)))
            .map_err(plot_err)?;
        root.draw(&Text::new("true", (x0 - 70, y0 + 5 * cell), centred(18, BLACK)))
            .map_err(plot_err)?;
        for t in 0..10 {
            let row_total: usize = self.matrix[t].iter().sum::<usize>().max(1);
            root.draw(&Text::new(
                t.to_string(),
                (x0 - 20, y0 + t as i32 * cell + cell / 2),
                centred(16, BLACK),
            ))
            .map_err(plot_err)?;
            root.draw(&Text::new(
                t.to_string(),
                (x0 + t as i32 * cell + cell / 2, y0 - 16),
                centred(16, BLACK),
            ))
            .map_err(plot_err)?;
            for p in 0..10 {
                let n = self.matrix[t][p];
                let share = n as f64 / row_total as f64;
                // Diagonal in blue by share; mistakes in red, visible even when rare.
                let color = if t == p {
                    RGBColor((255.0 - 200.0 * share) as u8, (255.0 - 150.0 * share) as u8, 255)
                } else if n == 0 {
                    WHITE
                } else {
                    let s = (share * 20.0).clamp(0.15, 1.0);
                    RGBColor(255, (255.0 - 180.0 * s) as u8, (255.0 - 180.0 * s) as u8)
                };
                let (cx, cy) = (x0 + p as i32 * cell, y0 + t as i32 * cell);
                root.draw(&Rectangle::new([(cx, cy), (cx + cell, cy + cell)], color.filled()))
                    .map_err(plot_err)?;
                root.draw(&Rectangle::new(
                    [(cx, cy), (cx + cell, cy + cell)],
                    RGBColor(200, 200, 200),
                ))
                .map_err(plot_err)?;
                if n > 0 {
                    let ink = if t == p && share > 0.6 { WHITE } else { BLACK };
                    root.draw(&Text::new(
                        n.to_string(),
                        (cx + cell / 2, cy + cell / 2),
                        centred(15, ink),
                    ))
                    .map_err(plot_err)?;
                }
            }
        }
        Ok(())
    }
}
