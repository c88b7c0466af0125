//! `nnlab mnist info`: counts, class histograms, pixel statistics, and sample grids.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use nnlab_mnist::data::augment::Augment;
use nnlab_mnist::data::batches::stream_rng;
use nnlab_mnist::data::{CLASSES, MEAN, PIXELS, STD, Split};

use super::data_args::DataArgs;
use super::grids::DigitGrid;
use crate::output::figure::save_figure;

/// Arguments of `nnlab mnist info`.
#[derive(Debug, Args)]
pub struct InfoArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Write a PNG grid of the first training digits with their labels.
    #[arg(long, value_name = "FILE.png")]
    grid: Option<PathBuf>,
    /// Write a PNG of training digits beside four augmented copies each (the recipe's train transform).
    #[arg(long, value_name = "FILE.png")]
    augment_grid: Option<PathBuf>,
    /// Seed of the augmented copies.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

fn histogram_line(name: &str, split: &Split) -> String {
    let counts = split.class_counts();
    format!(
        "{name:<6}{}",
        counts.iter().map(|c| format!("{c:>7}")).collect::<String>()
    )
}

fn to_unit(pixels: &[u8]) -> Vec<f32> {
    pixels.iter().map(|&p| p as f32 / 255.0).collect()
}

fn check_png(path: &std::path::Path, flag: &str) -> Result<()> {
    if !path.extension().is_some_and(|e| e.eq_ignore_ascii_case("png")) {
        anyhow::bail!("{flag} {}: the file name must end in .png", path.display());
    }
    Ok(())
}

/// Runs `nnlab mnist info`.
pub fn run(args: InfoArgs) -> Result<()> {
    for (p, flag) in [(&args.grid, "--grid"), (&args.augment_grid, "--augment-grid")] {
        if let Some(p) = p {
            check_png(p, flag)?;
        }
    }
    let (dir, _) = args.data.dir();
    let mnist = args.data.load()?;
    println!("MNIST in {}", dir.display());
    println!(
        "train: {} images, test: {} images, 28×28, labels 0–9",
        mnist.train.len(),
        mnist.test.len()
    );
    println!("class {}", (0..CLASSES).map(|c| format!("{c:>7}")).collect::<String>());
    println!("{}", histogram_line("train", &mnist.train));
    println!("{}", histogram_line("test", &mnist.test));
    let (mean, std) = mnist.train.pixel_mean_std();
    println!("train pixels on [0,1]: mean {mean:.4}, std {std:.4} (the recipe normalises with {MEAN}, {STD})");
    if let Some(path) = &args.grid {
        let cells = (0..60)
            .map(|i| {
                (
                    to_unit(mnist.train.image(i)),
                    format!("label {}", mnist.train.labels[i]),
                )
            })
            .collect();
        let grid = DigitGrid {
            title: "MNIST training digits 1–60 with their labels".into(),
            cells,
            cols: 10,
            overlays: Vec::new(),
        };
        save_figure(path, grid.size(), &grid)?;
        println!("wrote {}", path.display());
    }
    if let Some(path) = &args.augment_grid {
        let augment = Augment::default();
        let mut cells = Vec::new();
        let mut out = vec![0.0f32; PIXELS];
        for i in 0..8 {
            let image = mnist.train.image(i);
            cells.push((to_unit(image), format!("original {}", mnist.train.labels[i])));
            let mut rng = stream_rng(args.seed, 0, i as u64);
            for _ in 0..4 {
                augment.apply_into(image, &mut rng, &mut out);
                cells.push((out.iter().map(|v| v * STD + MEAN).collect(), "augmented".into()));
            }
        }
        let grid = DigitGrid {
            title: "Original, then 4 augmented copies".into(),
            cells,
            cols: 5,
            overlays: Vec::new(),
        };
        save_figure(path, grid.size(), &grid)?;
        println!("wrote {}", path.display());
    }
    Ok(())
}
