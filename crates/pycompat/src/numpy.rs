//! numpy's legacy global generator (`np.random.seed`, `random_sample`, and `choice` without
//! replacement with probabilities), which numpy keeps unchanged across versions, and the
//! float64 sum that normalises the weights.

use rand::RngCore;
use rand_mt::Mt;

/// Per round of the legacy choice loop: doubles drawn, new indices kept.
pub type Rounds = Vec<(usize, usize)>;

/// `numpy.random.RandomState` with the legacy MT19937 stream.
pub struct RandomState {
    mt: Mt,
}

impl std::fmt::Debug for RandomState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RandomState")
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ChoiceError {
    #[error(
        "Cannot take a larger sample than population when 'replace=False' ({size} > {population})"
    )]
    TooLarge { size: usize, population: usize },
    #[error("probabilities are not non-negative and finite")]
    BadProbabilities,
    #[error("Fewer non-zero entries in p than size")]
    TooFewNonZero,
}

impl RandomState {
    /// `np.random.seed(seed)` for an integer seed: MT19937 `init_genrand(seed)`.
    pub fn seed(seed: u32) -> Self {
        RandomState { mt: Mt::new(seed) }
    }

    /// `random_sample()`: a double in [0, 1) from two 32-bit outputs (53 random bits).
    pub fn random_sample(&mut self) -> f64 {
        let a = RngCore::next_u32(&mut self.mt) >> 5;
        let b = RngCore::next_u32(&mut self.mt) >> 6;
        (f64::from(a) * 67_108_864.0 + f64::from(b)) / 9_007_199_254_740_992.0
    }

    /// `choice(len(p), size, replace=False, p=p)`: indices in draw order. Repeated rounds:
    /// draw `size - found` doubles, zero the probabilities already found, cumulative sum in
    /// index order divided by its last element, `searchsorted(side='right')`, keep the
    /// first occurrence of each new index in draw order.
    pub fn choice_without_replacement(
        &mut self,
        p: &[f64],
        size: usize,
    ) -> Result<Vec<usize>, ChoiceError> {
        self.choice_rounds(p, size).map(|(found, _)| found)
    }

    /// [`RandomState::choice_without_replacement`], also saying how many doubles each
    /// round drew and how many new indices it kept.
    pub fn choice_rounds(
        &mut self,
        p: &[f64],
        size: usize,
    ) -> Result<(Vec<usize>, Rounds), ChoiceError> {
        if size > p.len() {
            return Err(ChoiceError::TooLarge {
                size,
                population: p.len(),
            });
        }
        if p.iter().any(|x| !x.is_finite() || *x < 0.0) {
            return Err(ChoiceError::BadProbabilities);
        }
        if p.iter().filter(|&&x| x > 0.0).count() < size {
            return Err(ChoiceError::TooFewNonZero);
        }
        let mut p = p.to_vec();
        let mut found: Vec<usize> = Vec::with_capacity(size);
        let mut rounds = Vec::new();
        let mut cdf = vec![0.0f64; p.len()];
        let mut seen = vec![false; p.len()];
        let mut x = Vec::with_capacity(size);
        while found.len() < size {
            x.clear();
            x.extend((0..size - found.len()).map(|_| self.random_sample()));
            for &i in &found {
                p[i] = 0.0;
            }
            let mut acc = 0.0;
            for (c, &pi) in cdf.iter_mut().zip(&p) {
                acc += pi;
                *c = acc;
            }
            let last = cdf[cdf.len() - 1];
            for c in &mut cdf {
                *c /= last;
            }
            let before = found.len();
            for &xi in &x {
                let idx = cdf.partition_point(|&c| c <= xi);
                if !seen[idx] {
                    seen[idx] = true;
                    found.push(idx);
                }
            }
            rounds.push((x.len(), found.len() - before));
        }
        Ok((found, rounds))
    }
}

/// `np.sum` of a contiguous float64 array as numpy 2.3 computes it: pairwise summation over
/// the whole array (blocks of up to 128 summed with eight accumulators, halves cut at a
/// multiple of 8), which differs from a left-to-right sum in the last bits. (numpy 2.2
/// sums 8,192-element buffer chunks this way and adds the chunk sums in order: the same
/// result for arrays of at most 8,192 values, such as V1's price slots in the fixtures.)
/// Checked against numpy 2.3.4 up to a million values (tests/numpy_vectors.rs).
pub fn pairwise_sum(a: &[f64]) -> f64 {
    const BLOCK: usize = 128;
    let n = a.len();
    if n < 8 {
        let mut res = 0.0;
        for &x in a {
            res += x;
        }
        res
    } else if n <= BLOCK {
        let mut r = [a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]];
        let mut i = 8;
        while i < n - (n % 8) {
            for k in 0..8 {
                r[k] += a[i + k];
            }
            i += 8;
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        while i < n {
            res += a[i];
            i += 1;
        }
        res
    } else {
        let mut n2 = n / 2;
        n2 -= n2 % 8;
        pairwise_sum(&a[..n2]) + pairwise_sum(&a[n2..])
    }
}

/// `w / np.sum(w)`: probabilities from weights as numpy computes them.
pub fn normalise(weights: &[f64]) -> Vec<f64> {
    let total = pairwise_sum(weights);
    weights.iter().map(|w| w / total).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_sample_matches_numpy() {
        // np.random.seed(42); np.random.random_sample(3)
        let mut rs = RandomState::seed(42);
        let got: Vec<f64> = (0..3).map(|_| rs.random_sample()).collect();
        assert_eq!(
            got,
            vec![0.3745401188473625, 0.9507143064099162, 0.7319939418114051]
        );
    }

    #[test]
    fn choice_matches_numpy() {
        // np.random.seed(42); p = np.array([1,5,5,1,5,5,1,5])/28;
        // np.random.choice(8, size=5, replace=False, p=p) -> [2, 7, 5, 4, 1]
        let mut rs = RandomState::seed(42);
        let p = normalise(&[1.0, 5.0, 5.0, 1.0, 5.0, 5.0, 1.0, 5.0]);
        assert_eq!(
            rs.choice_without_replacement(&p, 5).unwrap(),
            vec![2, 7, 5, 4, 1]
        );
    }

    #[test]
    fn choice_refuses_impossible_requests() {
        let mut rs = RandomState::seed(1);
        assert!(rs.choice_without_replacement(&[0.5, 0.5], 3).is_err());
        assert!(rs.choice_without_replacement(&[1.0, 0.0, 0.0], 2).is_err());
    }

    #[test]
    fn pairwise_sum_is_numpys() {
        // np.sum(np.full(1001, 0.1)) == 100.10000000000002; a sequential sum gives 100.09999999999859
        let a = vec![0.1; 1001];
        assert_eq!(pairwise_sum(&a), 100.10000000000002);
        assert_eq!(pairwise_sum(&[1.0, 5.0, 5.0]), 11.0);
    }
}
