//! Per-thread scratch buffers, so that the parallel loops over images allocate nothing once warm.

use std::cell::RefCell;

/// The scratch space of one worker thread: a few growable f32 buffers.
#[derive(Debug, Default)]
pub(crate) struct Workspace {
    buffers: [Vec<f32>; 4],
}

thread_local! {
    static WORKSPACE: RefCell<Workspace> = RefCell::default();
}

impl Workspace {
    /// Runs `work` with this thread's workspace.
    pub(crate) fn with<R>(work: impl FnOnce(&mut Workspace) -> R) -> R {
        WORKSPACE.with_borrow_mut(work)
    }

    /// Four buffers of the given lengths; their contents are left over from earlier use.
    pub(crate) fn buffers(&mut self, lens: [usize; 4]) -> [&mut [f32]; 4] {
        let [a, b, c, d] = &mut self.buffers;
        for (buf, &len) in [&mut *a, &mut *b, &mut *c, &mut *d].into_iter().zip(&lens) {
            if buf.len() < len {
                buf.resize(len, 0.0);
            }
        }
        [
            &mut a[..lens[0]],
            &mut b[..lens[1]],
            &mut c[..lens[2]],
            &mut d[..lens[3]],
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_have_the_asked_lengths_and_are_reused() {
        Workspace::with(|ws| {
            let [a, b, c, d] = ws.buffers([3, 0, 5, 1]);
            assert_eq!([a.len(), b.len(), c.len(), d.len()], [3, 0, 5, 1]);
            a[0] = 7.0;
        });
        Workspace::with(|ws| assert_eq!(ws.buffers([1, 0, 0, 0])[0][0], 7.0));
    }
}
