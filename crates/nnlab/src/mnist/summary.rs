//! `nnlab mnist summary`: the architecture table.

use anyhow::Result;
use nnlab_mnist::Cnn;
use nnlab_mnist::model::LayerSummary;

/// Prints the torchsummary-style table.
pub fn run() -> Result<()> {
    let rows = Cnn::summary();
    println!(
        "{:<5} {:<44} {:>12} {:>8} {:>4} {:>5}",
        "layer", "operation", "output", "params", "RF", "jump"
    );
    println!("{}", "-".repeat(83));
    for LayerSummary {
        name,
        op,
        output,
        params,
        receptive_field,
        jump,
    } in &rows
    {
        let shape = format!("{}×{}×{}", output[0], output[1], output[2]);
        println!("{name:<5} {op:<44} {shape:>12} {params:>8} {receptive_field:>4} {jump:>5}");
    }
    println!("{}", "-".repeat(83));
    let total: usize = rows.iter().map(|r| r.params).sum();
    let counted = Cnn::new(0).parameter_count();
    println!("total trainable parameters: {total} (counted in the built model: {counted})");
    Ok(())
}
