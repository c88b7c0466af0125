//! `pareto.png`: every trained trial's parameters against its metric at the furthest rung it reached (the
//! last rung's in colour, earlier rungs grey), the brief's parameter bound and accuracy goal drawn, and
//! the Pareto front of the last rung (no other trial both smaller and better) marked.

use anyhow::Result;
use nnlab_app::search::{SearchRecord, Trial};
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::output::figure::{Figure, plot_err};

/// The plot of a search.
pub struct Pareto<'a> {
    /// The search.
    pub record: &'a SearchRecord,
    /// The brief's parameter bound.
    pub params_bound: Option<f64>,
    /// The brief's accuracy goal (%).
    pub goal: Option<f64>,
}

/// The trials of the last rung that no other last-rung trial beats with fewer or as many parameters.
pub fn front(finals: &[&Trial]) -> Vec<String> {
    finals
        .iter()
        .filter(|t| {
            let m = t.metric().unwrap_or(f64::NEG_INFINITY);
            !finals.iter().any(|o| {
                let om = o.metric().unwrap_or(f64::NEG_INFINITY);
                o.id != t.id && o.params <= t.params && om >= m && (o.params < t.params || om > m)
            })
        })
        .map(|t| t.id.clone())
        .collect()
}

/// (parameters, metric) pairs.
type Points = Vec<(f64, f64)>;

impl Figure for Pareto<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE).map_err(plot_err)?;
        let r = self.record;
        let full = *r.rung_epochs.last().unwrap_or(&0);
        let trained: Vec<&Trial> = r.trials.iter().filter(|t| t.metric().is_some()).collect();
        let finals: Vec<&Trial> = trained
            .iter()
            .copied()
            .filter(|t| t.rungs.last().is_some_and(|g| g.epochs == full))
            .collect();
        let on_front = front(&finals);
        let xs = trained.iter().map(|t| t.params as f64).chain(self.params_bound);
        let (x0, x1) = xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| (a.min(x), b.max(x)));
        let ys = trained.iter().filter_map(|t| t.metric()).chain(self.goal);
        let (y0, y1) = ys.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), y| (a.min(y), b.max(y)));
        // Trials far below the rest (a diverged or lagging start) would squash the axis: the axis stops 3
        // points under the best, and those trials sit on its bottom edge, counted in the legend.
        let floor = y1 - 3.0;
        let y0 = if y0.is_finite() { y0.max(floor) } else { y0 };
        let (x0, x1) = if x0.is_finite() {
            (x0, x1.max(x0 + 1.0))
        } else {
            (0.0, 1.0)
        };
        let (y0, y1) = if y0.is_finite() {
            (y0, y1.max(y0 + 0.01))
        } else {
            (0.0, 1.0)
        };
        let (px, py) = ((x1 - x0) * 0.06, (y1 - y0) * 0.08);
        let space = std::path::Path::new(&r.space)
            .file_name()
            .map_or(r.space.clone(), |n| n.to_string_lossy().into_owned());
        let title = format!(
            "Search of {space}: parameters against validation accuracy ({} trials trained)",
            trained.len()
        );
        let mut chart = ChartBuilder::on(root)
            .caption(title, ("sans-serif", 22))
            .margin(18)
            .x_label_area_size(46)
            .y_label_area_size(70)
            .build_cartesian_2d((x0 - px)..(x1 + px), (y0 - py)..(y1 + py))
            .map_err(plot_err)?;
        chart
            .configure_mesh()
            .x_desc("trainable parameters")
            .y_desc(format!(
                "validation accuracy % (final rung: {} worst of the last epochs)",
                r.options.rank.word()
            ))
            .x_label_formatter(&|x| format!("{x:.0}"))
            .y_label_formatter(&|y| format!("{y:.2}"))
            .label_style(("sans-serif", 14))
            .axis_desc_style(("sans-serif", 15))
            .draw()
            .map_err(plot_err)?;
        let red = RGBColor(200, 60, 40);
        if let Some(b) = self.params_bound {
            chart
                .draw_series(LineSeries::new([(b, y0 - py), (b, y1 + py)], red.stroke_width(2)))
                .map_err(plot_err)?
                .label(format!("brief: parameters < {b}"))
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], red.stroke_width(2)));
        }
        if let Some(g) = self.goal {
            let green = RGBColor(40, 150, 70);
            chart
                .draw_series(LineSeries::new([(x0 - px, g), (x1 + px, g)], green.stroke_width(2)))
                .map_err(plot_err)?
                .label(format!("brief: accuracy ≥ {g} %"))
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], green.stroke_width(2)));
        }
        let grey = RGBColor(160, 160, 160);
        let (early, below): (Points, Points) = trained
            .iter()
            .filter(|t| !finals.iter().any(|f| f.id == t.id))
            .map(|t| (t.params as f64, t.metric().unwrap_or(0.0)))
            .partition(|p| p.1 >= y0);
        chart
            .draw_series(early.iter().map(|p| Circle::new(*p, 4, grey.filled())))
            .map_err(plot_err)?
            .label("pruned at an earlier rung (its last metric)")
            .legend(move |(x, y)| Circle::new((x + 10, y), 4, grey.filled()));
        if !below.is_empty() {
            let edge = y0 - py * 0.5;
            chart
                .draw_series(below.iter().map(|p| Cross::new((p.0, edge), 5, grey.stroke_width(2))))
                .map_err(plot_err)?
                .label(format!("{} pruned below {y0:.1} % (on the bottom edge)", below.len()))
                .legend(move |(x, y)| Cross::new((x + 10, y), 5, grey.stroke_width(2)));
        }
        let blue = RGBColor(40, 90, 200);
        chart
            .draw_series(
                finals
                    .iter()
                    .map(|t| Circle::new((t.params as f64, t.metric().unwrap_or(0.0)), 6, blue.filled())),
            )
            .map_err(plot_err)?
            .label(format!("last rung ({full} epochs, every seed)"))
            .legend(move |(x, y)| Circle::new((x + 10, y), 6, blue.filled()));
        let mut front_points: Vec<(f64, f64)> = finals
            .iter()
            .filter(|t| on_front.contains(&t.id))
            .map(|t| (t.params as f64, t.metric().unwrap_or(0.0)))
            .collect();
        front_points.sort_by(|a, b| a.0.total_cmp(&b.0));
        chart
            .draw_series(LineSeries::new(front_points.clone(), BLACK.stroke_width(2)))
            .map_err(plot_err)?
            .label("Pareto front")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], BLACK.stroke_width(2)));
        for t in finals.iter().filter(|t| on_front.contains(&t.id)) {
            let best = r.best.as_ref().is_some_and(|b| b.id == t.id);
            let text = if best { format!("{} (best)", t.id) } else { t.id.clone() };
            chart
                .draw_series([Text::new(
                    text,
                    (t.params as f64, t.metric().unwrap_or(0.0)),
                    ("sans-serif", 14),
                )])
                .map_err(plot_err)?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font(("sans-serif", 14))
            .draw()
            .map_err(plot_err)?;
        Ok(())
    }
}
