//! Successive halving's arithmetic: the rungs (epochs each rung trains to) for a number of trials, and the
//! promotion rule (the best 1/η by metric, ties to fewer parameters).

/// The epochs each rung trains to, for `trials` trials, the full budget `epochs` and reduction factor `eta`:
/// every rung trains η times as long as the one before, the last to the full budget. There are as many
/// rungs as halvings leave at least η trials for the last one (so the final choice is among several).
pub fn rungs(trials: usize, epochs: usize, eta: usize) -> Vec<usize> {
    let eta = eta.max(2);
    let mut halvings = 0;
    let mut left = trials;
    while left.div_ceil(eta) >= eta && eta.pow(halvings as u32 + 1) <= epochs {
        left = left.div_ceil(eta);
        halvings += 1;
    }
    let mut out: Vec<usize> = (0..=halvings)
        .map(|i| epochs.div_ceil(eta.pow((halvings - i) as u32)).max(1))
        .collect();
    out.dedup();
    out
}

/// How many of `n` trials a rung promotes: ⌈n/η⌉, at least one.
pub fn promoted(n: usize, eta: usize) -> usize {
    n.div_ceil(eta.max(2)).max(1)
}

/// Ranks trials best first: by metric (higher is better), ties to fewer parameters, then to the lower id.
pub fn rank(candidates: &mut [(usize, f64, usize)]) {
    candidates.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.2.cmp(&b.2)).then(a.0.cmp(&b.0)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rungs_grow_by_eta_up_to_the_full_budget() {
        assert_eq!(rungs(27, 15, 3), [2, 5, 15]);
        assert_eq!(rungs(81, 15, 3), [2, 5, 15], "no rung shorter than the budget allows");
        assert_eq!(rungs(9, 15, 3), [5, 15]);
        assert_eq!(rungs(8, 15, 3), [5, 15]);
        assert_eq!(rungs(5, 15, 3), [15], "too few trials to halve and keep η: one rung");
        assert_eq!(rungs(1, 15, 3), [15]);
        assert_eq!(rungs(16, 20, 2), [3, 5, 10, 20]);
        assert_eq!(rungs(27, 2, 3), [2]);
    }

    #[test]
    fn promotion_keeps_the_best_third_ties_to_fewer_parameters() {
        assert_eq!(
            (promoted(27, 3), promoted(9, 3), promoted(10, 3), promoted(1, 3)),
            (9, 3, 4, 1)
        );
        let mut c = vec![(0, 98.0, 500), (1, 99.0, 900), (2, 99.0, 700), (3, 97.0, 100)];
        rank(&mut c);
        let order: Vec<usize> = c.iter().map(|t| t.0).collect();
        assert_eq!(order, [2, 1, 0, 3]);
    }
}
