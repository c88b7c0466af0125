//! Times training and evaluation steps on random data: `cargo run --release --example step_speed`.
use nnlab_mnist::Cnn;
use nnlab_mnist::data::batches::Batch;
use nnlab_nn::{Mode, Sgd, Tensor};
use std::time::Instant;

fn main() {
    let n = 256;
    let batch = Batch {
        index: 0,
        images: (0..n * 784).map(|i| ((i * 7919) % 255) as f32 / 255.0).collect(),
        labels: (0..n).map(|i| (i % 10) as u8).collect(),
    };
    let mut model = Cnn::new(1);
    let sgd = Sgd {
        lr: 0.01,
        momentum: 0.9,
    };
    for _ in 0..2 {
        nnlab_mnist::training::train_step(&mut model, &batch, &sgd, 1);
    }
    let steps = 10;
    let t = Instant::now();
    for s in 0..steps {
        nnlab_mnist::training::train_step(&mut model, &batch, &sgd, s as u64);
    }
    let dt = t.elapsed().as_secs_f64();
    println!(
        "train: {:.1} ms/step, {:.0} images/s",
        dt * 1000.0 / steps as f64,
        (steps * n) as f64 / dt
    );
    let t = Instant::now();
    for _ in 0..steps {
        model.forward(Tensor::from_vec([n, 1, 28, 28], batch.images.clone()), Mode::Eval, 0);
    }
    let dt = t.elapsed().as_secs_f64();
    println!("eval: {:.0} images/s", (steps * n) as f64 / dt);
}
