//! A batch of feature maps: shape N×C×H×W, data contiguous in that order. Dropped tensors hand their
//! memory to a small pool that `Tensor::zeros` draws from, so a training step allocates no tensor memory
//! once the first step has run.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// N×C×H×W f32 values.
#[derive(Debug, PartialEq)]
pub struct Tensor {
    /// [N, C, H, W].
    pub shape: [usize; 4],
    /// Values, NCHW order.
    pub data: Vec<f32>,
}

/// Buffers below this many values are left to the allocator.
const POOLED_MIN: usize = 1 << 12;
/// Most buffers the pool keeps; more are freed.
const POOLED_MAX: usize = 64;

static POOL: Mutex<Vec<Vec<f32>>> = Mutex::new(Vec::new());
static FRESH: AtomicUsize = AtomicUsize::new(0);

/// A buffer of `len` values: the smallest pooled buffer that fits, else a new (zeroed) one. With `zero`
/// a reused buffer is zeroed; without, it keeps its old values (all initialised floats).
fn pooled(len: usize, zero: bool) -> Vec<f32> {
    if len < POOLED_MIN {
        return vec![0.0; len];
    }
    let reused = {
        let mut pool = POOL.lock().unwrap_or_else(|e| e.into_inner());
        let best = (0..pool.len())
            .filter(|&i| pool[i].capacity() >= len)
            .min_by_key(|&i| pool[i].capacity());
        best.map(|i| pool.swap_remove(i))
    };
    match reused {
        Some(mut buf) => {
            if zero {
                buf.clear();
            } else {
                buf.truncate(len);
            }
            buf.resize(len, 0.0);
            buf
        }
        None => {
            FRESH.fetch_add(1, Ordering::Relaxed);
            vec![0.0; len]
        }
    }
}

impl Clone for Tensor {
    fn clone(&self) -> Self {
        Self::from_slice(self.shape, &self.data)
    }
}

impl Drop for Tensor {
    fn drop(&mut self) {
        if self.data.capacity() >= POOLED_MIN {
            let mut pool = POOL.lock().unwrap_or_else(|e| e.into_inner());
            if pool.len() < POOLED_MAX {
                pool.push(std::mem::take(&mut self.data));
            }
        }
    }
}

impl Tensor {
    /// A zero tensor.
    pub fn zeros(shape: [usize; 4]) -> Self {
        Self {
            shape,
            data: pooled(shape.iter().product(), true),
        }
    }

    /// A tensor whose every value the caller is about to write: pooled memory comes as it is (stale
    /// values), so no pass is spent zeroing it. Only for outputs that are overwritten in full.
    pub fn overwritten(shape: [usize; 4]) -> Self {
        Self {
            shape,
            data: pooled(shape.iter().product(), false),
        }
    }

    /// Wraps data of the given shape.
    pub fn from_vec(shape: [usize; 4], data: Vec<f32>) -> Self {
        assert_eq!(
            shape.iter().product::<usize>(),
            data.len(),
            "tensor data does not match shape {shape:?}"
        );
        Self { shape, data }
    }

    /// A copy of `values` in a (pooled) tensor of the given shape.
    pub fn from_slice(shape: [usize; 4], values: &[f32]) -> Self {
        let mut t = Self::zeros(shape);
        assert_eq!(t.data.len(), values.len(), "tensor data does not match shape {shape:?}");
        t.data.copy_from_slice(values);
        t
    }

    /// How many tensor buffers had to be newly allocated so far (pool misses), to check that steady-state
    /// training allocates none.
    pub fn fresh_allocations() -> usize {
        FRESH.load(Ordering::Relaxed)
    }

    /// Batch size.
    pub fn n(&self) -> usize {
        self.shape[0]
    }

    /// Values per image (C·H·W).
    pub fn per_image(&self) -> usize {
        self.shape[1] * self.shape[2] * self.shape[3]
    }

    /// Spatial size H·W.
    pub fn plane(&self) -> usize {
        self.shape[2] * self.shape[3]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dropped_buffer_comes_back_zeroed_unless_it_is_to_be_overwritten() {
        let mut t = Tensor::zeros([1, 1, 80, 80]);
        t.data.fill(5.0);
        drop(t);
        let stale = Tensor::overwritten([1, 1, 80, 79]);
        assert_eq!(stale.data.len(), 80 * 79);
        drop(stale);
        let mut t = Tensor::zeros([1, 1, 64, 64]);
        t.data.fill(3.0);
        drop(t);
        let again = Tensor::zeros([1, 1, 64, 63]);
        assert_eq!(again.data.len(), 64 * 63);
        assert!(again.data.iter().all(|&v| v == 0.0));
        let copy = Tensor::from_slice([1, 1, 2, 2], &[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(copy.data, [1.0, 2.0, 3.0, 4.0]);
    }
}
