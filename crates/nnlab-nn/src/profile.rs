//! Wall time per layer and phase of a training step, so that optimisation starts from where the time
//! goes. Models call their layers through a `Probe`; `NoProbe` costs nothing, `Profile` keeps the sums.

use std::time::{Duration, Instant};

/// The part of a step a timing belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Phase {
    /// Making the batch tensor from the loader's batch.
    Data,
    /// Forward pass (with the loss).
    Forward,
    /// Backward pass.
    Backward,
    /// Optimizer update.
    Update,
}

/// Receives the wall time of each timed piece of work.
pub trait Probe {
    /// Runs `work`, attributing its wall time to `part` in `phase`.
    fn time<T>(&mut self, part: &str, phase: Phase, work: impl FnOnce() -> T) -> T;
}

/// A probe that times nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProbe;

impl Probe for NoProbe {
    #[inline(always)]
    fn time<T>(&mut self, _: &str, _: Phase, work: impl FnOnce() -> T) -> T {
        work()
    }
}

/// Summed wall time per (part, phase), parts in the order first seen.
#[derive(Debug, Clone, Default)]
pub struct Profile {
    entries: Vec<(String, Phase, Duration)>,
}

impl Probe for Profile {
    fn time<T>(&mut self, part: &str, phase: Phase, work: impl FnOnce() -> T) -> T {
        let start = Instant::now();
        let out = work();
        let spent = start.elapsed();
        match self.entries.iter_mut().find(|(p, ph, _)| *p == part && *ph == phase) {
            Some(entry) => entry.2 += spent,
            None => self.entries.push((part.to_string(), phase, spent)),
        }
        out
    }
}

impl Profile {
    /// Parts in the order first seen.
    pub fn parts(&self) -> Vec<&str> {
        let mut parts: Vec<&str> = Vec::new();
        for (p, _, _) in &self.entries {
            if !parts.contains(&p.as_str()) {
                parts.push(p);
            }
        }
        parts
    }

    /// Time spent on `part` in `phase`.
    pub fn get(&self, part: &str, phase: Phase) -> Duration {
        self.entries
            .iter()
            .filter(|(p, ph, _)| *p == part && *ph == phase)
            .map(|e| e.2)
            .sum()
    }

    /// Time spent in `phase`, all parts together.
    pub fn phase_total(&self, phase: Phase) -> Duration {
        self.entries.iter().filter(|e| e.1 == phase).map(|e| e.2).sum()
    }

    /// Time spent in every phase.
    pub fn total(&self) -> Duration {
        self.entries.iter().map(|e| e.2).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_per_part_and_phase_in_first_seen_order() {
        let mut p = Profile::default();
        let sleep = || std::thread::sleep(Duration::from_millis(2));
        p.time("b", Phase::Forward, sleep);
        p.time("a", Phase::Forward, sleep);
        p.time("b", Phase::Forward, sleep);
        assert_eq!(p.time("a", Phase::Backward, || 7), 7);
        assert_eq!(p.parts(), ["b", "a"]);
        assert!(p.get("b", Phase::Forward) >= Duration::from_millis(4));
        assert!(p.get("a", Phase::Forward) < p.get("b", Phase::Forward) + Duration::from_millis(2));
        assert_eq!(p.phase_total(Phase::Update), Duration::ZERO);
        assert!(p.total() >= p.phase_total(Phase::Forward));
    }
}
