//! Batches for training and evaluation: a seeded shuffle every epoch, the last partial batch kept, and
//! batches prepared on worker threads ahead of the trainer (bounded prefetch).
//!
//! Every batch's augmentation draws from its own generator, seeded by (seed, epoch, batch), so the same
//! seed gives the same batches on any machine and with any number of workers.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use super::PIXELS;
use super::augment::{Augment, normalise_into};
use super::dataset::Split;

/// One batch: normalised images (N×1×28×28, contiguous) and their labels.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    /// Position of the batch in its epoch.
    pub index: usize,
    /// N × 784 normalised pixels.
    pub images: Vec<f32>,
    /// N labels.
    pub labels: Vec<u8>,
}

impl Batch {
    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True when the batch is empty.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }
}

/// A generator for one (seed, epoch, stream) triple, independent of every other.
pub fn stream_rng(seed: u64, epoch: usize, stream: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(((epoch as u64) << 32) ^ stream);
    rng
}

/// The order of the examples in `epoch`: a Fisher–Yates shuffle seeded by (seed, epoch).
pub fn epoch_order(n: usize, seed: u64, epoch: usize) -> Vec<u32> {
    let mut order: Vec<u32> = (0..n as u32).collect();
    order.shuffle(&mut stream_rng(seed, epoch, u32::MAX as u64));
    order
}

/// Builds one batch from the examples `indices`, augmented with `augment` (train) or only normalised (test).
pub fn prepare_batch(
    split: &Split,
    index: usize,
    indices: &[u32],
    augment: Option<&Augment>,
    seed: u64,
    epoch: usize,
) -> Batch {
    let mut images = vec![0.0f32; indices.len() * PIXELS];
    let mut rng = stream_rng(seed, epoch, index as u64);
    for (out, &i) in images.chunks_exact_mut(PIXELS).zip(indices) {
        match augment {
            Some(a) => a.apply_into(split.image(i as usize), &mut rng, out),
            None => normalise_into(split.image(i as usize), out),
        }
    }
    Batch {
        index,
        images,
        labels: indices.iter().map(|&i| split.labels[i as usize]).collect(),
    }
}

/// What an epoch of batches is made from.
#[derive(Debug, Clone)]
pub struct EpochPlan {
    /// Example order (shuffled for training, identity for evaluation).
    pub order: Vec<u32>,
    /// Batch size; the last batch may be smaller.
    pub batch_size: usize,
    /// Train augmentation, or `None` for the test transform.
    pub augment: Option<Augment>,
    /// Run seed.
    pub seed: u64,
    /// Epoch number (part of every batch's generator seed).
    pub epoch: usize,
}

impl EpochPlan {
    /// A training epoch: shuffled order, with `augment` (`None`: the images as they are, the test transform).
    pub fn train(n: usize, batch_size: usize, augment: Option<Augment>, seed: u64, epoch: usize) -> Self {
        Self {
            order: epoch_order(n, seed, epoch),
            batch_size,
            augment,
            seed,
            epoch,
        }
    }

    /// An evaluation pass: examples in order, no augmentation.
    pub fn eval(n: usize, batch_size: usize) -> Self {
        Self {
            order: (0..n as u32).collect(),
            batch_size,
            augment: None,
            seed: 0,
            epoch: 0,
        }
    }

    /// Number of batches, the partial last one included.
    pub fn batches(&self) -> usize {
        self.order.len().div_ceil(self.batch_size)
    }
}

/// Batches of one epoch, prepared by worker threads at most `depth` batches ahead, delivered in order.
pub struct Prefetcher {
    receivers: Vec<Receiver<Batch>>,
    next: usize,
    total: usize,
    workers: Vec<JoinHandle<()>>,
}

impl Prefetcher {
    /// Starts `workers` threads (at least one); worker w prepares batches w, w + workers, ….
    pub fn start(split: Arc<Split>, plan: EpochPlan, workers: usize, depth: usize) -> Self {
        let workers = workers.max(1);
        let total = plan.batches();
        let plan = Arc::new(plan);
        let mut receivers = Vec::with_capacity(workers);
        let mut handles = Vec::with_capacity(workers);
        for w in 0..workers {
            let (tx, rx): (SyncSender<Batch>, Receiver<Batch>) = sync_channel(depth.max(1));
            let (split, plan) = (Arc::clone(&split), Arc::clone(&plan));
            handles.push(std::thread::spawn(move || {
                for b in (w..total).step_by(workers) {
                    let end = ((b + 1) * plan.batch_size).min(plan.order.len());
                    let indices = &plan.order[b * plan.batch_size..end];
                    let batch = prepare_batch(&split, b, indices, plan.augment.as_ref(), plan.seed, plan.epoch);
                    if tx.send(batch).is_err() {
                        return;
                    }
                }
            }));
            receivers.push(rx);
        }
        Self {
            receivers,
            next: 0,
            total,
            workers: handles,
        }
    }

    /// Number of batches in the epoch.
    pub fn total(&self) -> usize {
        self.total
    }
}

impl Iterator for Prefetcher {
    type Item = Batch;
    fn next(&mut self) -> Option<Batch> {
        if self.next >= self.total {
            return None;
        }
        let batch = self.receivers[self.next % self.receivers.len()].recv().ok()?;
        self.next += 1;
        Some(batch)
    }
}

impl Drop for Prefetcher {
    fn drop(&mut self) {
        self.receivers.clear();
        for h in self.workers.drain(..) {
            let _ = h.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny_split(n: usize) -> Split {
        Split {
            images: (0..n * PIXELS).map(|i| (i % 251) as u8).collect(),
            labels: (0..n).map(|i| (i % 10) as u8).collect(),
        }
    }

    #[test]
    fn same_seed_same_batches_whatever_the_worker_count() {
        let split = Arc::new(tiny_split(50));
        let run = |workers| {
            Prefetcher::start(
                Arc::clone(&split),
                EpochPlan::train(50, 16, Some(Augment::default()), 7, 3),
                workers,
                2,
            )
            .collect::<Vec<_>>()
        };
        let one = run(1);
        assert_eq!(one, run(3));
        assert_eq!(one.iter().map(Batch::len).collect::<Vec<_>>(), [16, 16, 16, 2]);
        let other_epoch: Vec<_> = Prefetcher::start(
            Arc::clone(&split),
            EpochPlan::train(50, 16, Some(Augment::default()), 7, 4),
            1,
            2,
        )
        .collect();
        assert_ne!(one[0].labels, other_epoch[0].labels);
    }

    #[test]
    fn every_example_appears_once_per_epoch() {
        let mut order = epoch_order(1000, 1, 0);
        assert_ne!(order[..10], (0..10).collect::<Vec<u32>>()[..]);
        order.sort();
        assert_eq!(order, (0..1000).collect::<Vec<u32>>());
    }

    #[test]
    fn dropping_an_unfinished_epoch_stops_the_workers() {
        let split = Arc::new(tiny_split(100));
        let mut p = Prefetcher::start(split, EpochPlan::eval(100, 4), 2, 1);
        assert_eq!(p.next().unwrap().labels, [0, 1, 2, 3]);
        drop(p);
    }
}
