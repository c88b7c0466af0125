//! `nnlab backprop diagram`: the 2-2-2 network drawn with its weights and iteration-1 values.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use nnlab_backprop::table::BiasColumns;
use nnlab_backprop::{BIAS_NAMES, Net222, WEIGHT_NAMES};
use plotters::coord::Shift;
use plotters::prelude::*;

use super::net_args::NetArgs;
use crate::output::figure::{Figure, centred, check_image_path, plot_err, save_figure};

/// Arguments of `nnlab backprop diagram`.
#[derive(Debug, Args)]
pub struct DiagramArgs {
    #[command(flatten)]
    net: NetArgs,
    /// Where to draw it (.svg or .png).
    #[arg(long, value_name = "FILE.svg|.png")]
    out: PathBuf,
}

/// The network and whether to draw its biases.
struct Diagram {
    net: Net222,
    biases: bool,
}

const W: i32 = 1000;
const H: i32 = 620;
/// Extra height below the units for the bias nodes.
const BIAS_BAND: i32 = 120;

impl Diagram {
    fn height(&self) -> i32 {
        if self.biases { H + BIAS_BAND } else { H }
    }
}

fn node_position(layer: usize, unit: usize) -> (i32, i32) {
    (170 + layer as i32 * 330, 210 + unit as i32 * 260)
}

impl Figure for Diagram {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let net = &self.net;
        let f = net.forward();
        root.fill(&WHITE).map_err(plot_err)?;
        root.draw(&Text::new(
            "2-2-2 sigmoid network: weights on the edges, iteration-1 values beside the units",
            (W / 2, 40),
            centred(24, BLACK),
        ))
        .map_err(plot_err)?;
        if self.biases {
            // One bias node per layer, below and between the layers, feeding each of the layer's units.
            let grey = RGBColor(120, 120, 120);
            for (k, name) in BIAS_NAMES.iter().enumerate() {
                let layer = k + 1;
                // Left of the layer's column, so its edges pass beside the units' value labels.
                let node = (node_position(layer, 0).0 - 105, H + 20);
                for unit in 0..2 {
                    root.draw(&PathElement::new(
                        [node, node_position(layer, unit)],
                        grey.stroke_width(2),
                    ))
                    .map_err(plot_err)?;
                }
                root.draw(&Rectangle::new(
                    [(node.0 - 70, node.1 - 22), (node.0 + 70, node.1 + 22)],
                    RGBColor(245, 245, 245).filled(),
                ))
                .map_err(plot_err)?;
                root.draw(&Rectangle::new(
                    [(node.0 - 70, node.1 - 22), (node.0 + 70, node.1 + 22)],
                    grey.stroke_width(2),
                ))
                .map_err(plot_err)?;
                root.draw(&Text::new(
                    format!("{name} = {}", net.biases[k]),
                    node,
                    centred(19, BLACK),
                ))
                .map_err(plot_err)?;
            }
        }
        // Edges in worksheet order: (from layer, from unit) → (to unit); w1..w8.
        let edges = [
            (0, 0, 0),
            (0, 1, 0),
            (0, 0, 1),
            (0, 1, 1),
            (1, 0, 0),
            (1, 1, 0),
            (1, 0, 1),
            (1, 1, 1),
        ];
        for (k, &(layer, from, to)) in edges.iter().enumerate() {
            let (a, b) = (node_position(layer, from), node_position(layer + 1, to));
            let color = if net.weights[k] >= 0.0 {
                RGBColor(40, 90, 200)
            } else {
                RGBColor(200, 60, 40)
            };
            root.draw(&PathElement::new([a, b], color.stroke_width(3)))
                .map_err(plot_err)?;
            // Label at 30% along the edge, so labels of crossing edges do not collide.
            let t = if from == to { 0.5 } else { 0.28 };
            let p = (
                a.0 + ((b.0 - a.0) as f64 * t) as i32,
                a.1 + ((b.1 - a.1) as f64 * t) as i32,
            );
            let label = format!("{} = {}", WEIGHT_NAMES[k], net.weights[k]);
            root.draw(&Rectangle::new(
                [(p.0 - 62, p.1 - 14), (p.0 + 62, p.1 + 14)],
                WHITE.filled(),
            ))
            .map_err(plot_err)?;
            root.draw(&Text::new(label, p, centred(19, color))).map_err(plot_err)?;
        }
        let units = [
            [
                ("i1", format!("{}", net.inputs[0])),
                ("i2", format!("{}", net.inputs[1])),
            ],
            [
                ("h1", format!("a_h1 = {:.6}", f.a_h1)),
                ("h2", format!("a_h2 = {:.6}", f.a_h2)),
            ],
            [
                ("o1", format!("a_o1 = {:.6}\nt1 = {}", f.a_o1, net.targets[0])),
                ("o2", format!("a_o2 = {:.6}\nt2 = {}", f.a_o2, net.targets[1])),
            ],
        ];
        for (layer, pair) in units.iter().enumerate() {
            for (unit, (name, value)) in pair.iter().enumerate() {
                let c = node_position(layer, unit);
                let fill = [
                    RGBColor(230, 240, 255),
                    RGBColor(255, 244, 225),
                    RGBColor(228, 248, 232),
                ][layer];
                root.draw(&Circle::new(c, 42, fill.filled())).map_err(plot_err)?;
                root.draw(&Circle::new(c, 42, BLACK.stroke_width(2)))
                    .map_err(plot_err)?;
                root.draw(&Text::new(name.to_string(), c, centred(26, BLACK)))
                    .map_err(plot_err)?;
                // Values go above the top units and below the bottom ones, clear of the edges' labels.
                let lines: Vec<&str> = value.lines().collect();
                let first_y = if unit == 0 {
                    c.1 - 60 - 24 * (lines.len() as i32 - 1)
                } else {
                    c.1 + 62
                };
                for (line_no, line) in lines.iter().enumerate() {
                    if self.biases {
                        // The bias edges run behind the labels; a white box keeps each label readable.
                        let half = 5 * line.chars().count() as i32;
                        let y = first_y + 24 * line_no as i32;
                        root.draw(&Rectangle::new(
                            [(c.0 - half, y - 11), (c.0 + half, y + 11)],
                            WHITE.filled(),
                        ))
                        .map_err(plot_err)?;
                    }
                    root.draw(&Text::new(
                        line.to_string(),
                        (c.0, first_y + 24 * line_no as i32),
                        centred(18, RGBColor(60, 60, 60)),
                    ))
                    .map_err(plot_err)?;
                }
            }
        }
        for (layer, title) in ["inputs", "hidden (σ)", "outputs (σ)"].iter().enumerate() {
            root.draw(&Text::new(
                title.to_string(),
                (node_position(layer, 0).0, 88),
                centred(20, RGBColor(90, 90, 90)),
            ))
            .map_err(plot_err)?;
        }
        root.draw(&Text::new(
            format!("E_total = ½(t1 − a_o1)² + ½(t2 − a_o2)² = {:.9}", f.e_total),
            (W / 2, self.height() - 30),
            centred(20, BLACK),
        ))
        .map_err(plot_err)?;
        Ok(())
    }
}

/// Runs `nnlab backprop diagram`.
pub fn run(args: DiagramArgs) -> Result<()> {
    check_image_path(&args.out, "--out")?;
    let ws = args.net.worksheet()?;
    let diagram = Diagram {
        net: ws.net,
        biases: ws.bias != BiasColumns::None,
    };
    save_figure(&args.out, (W as u32, diagram.height() as u32), &diagram)?;
    println!("wrote {}", args.out.display());
    Ok(())
}
