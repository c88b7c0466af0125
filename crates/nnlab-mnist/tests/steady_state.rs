//! Once warm, a training step allocates no tensor memory: every buffer comes back from the pool that
//! dropped tensors feed. (Its own test binary, so no other test allocates meanwhile.)

use nnlab_mnist::data::batches::Batch;
use nnlab_mnist::training::train_step;
use nnlab_mnist::{Network, seed_model};
use nnlab_nn::{Optimizer, Sgd, Tensor};

#[test]
fn training_steps_after_the_first_allocate_no_tensors() {
    let n = 24;
    let batch = Batch {
        index: 0,
        images: (0..n * 784).map(|i| ((i * 31) % 97) as f32 / 97.0).collect(),
        labels: (0..n).map(|i| (i % 10) as u8).collect(),
    };
    let mut model = Network::new(&seed_model(), 3);
    let sgd = Optimizer::Sgd(Sgd::new(0.01, 0.9));
    train_step(&mut model, &batch, &sgd, 0.0, 0).unwrap();
    let warm = Tensor::fresh_allocations();
    assert!(warm > 0, "the first step allocates");
    for step in 1..4 {
        train_step(&mut model, &batch, &sgd, 0.0, step).unwrap();
    }
    assert_eq!(
        Tensor::fresh_allocations(),
        warm,
        "later steps reuse the first step's buffers"
    );
}
