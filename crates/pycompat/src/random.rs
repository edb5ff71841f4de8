//! Python's `random` module: `random.seed(int)`, `getrandbits`, `randbelow`, `shuffle`.

use rand::RngCore;
use rand_mt::Mt;

/// `random.Random` seeded from an integer.
pub struct PyRandom {
    mt: Mt,
}

impl std::fmt::Debug for PyRandom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PyRandom")
    }
}

impl PyRandom {
    /// `random.seed(n)` for a non-negative int: `init_by_array` over the 32-bit words of
    /// `n`, least significant first (`[0]` for zero).
    pub fn seed(n: u64) -> Self {
        let key: Vec<u32> = if n >> 32 == 0 {
            vec![n as u32]
        } else {
            vec![n as u32, (n >> 32) as u32]
        };
        PyRandom {
            mt: Mt::new_with_key(key),
        }
    }

    /// `getrandbits(k)` for `0 < k <= 64`.
    pub fn getrandbits(&mut self, k: u32) -> u64 {
        assert!((1..=64).contains(&k), "getrandbits(k) for 1 <= k <= 64");
        if k <= 32 {
            return u64::from(RngCore::next_u32(&mut self.mt) >> (32 - k));
        }
        // Words fill from the least significant end; the last one keeps its top bits.
        let low = u64::from(RngCore::next_u32(&mut self.mt));
        let high = u64::from(RngCore::next_u32(&mut self.mt) >> (64 - k));
        low | (high << 32)
    }

    /// `_randbelow(n)`: rejection sampling on `getrandbits(n.bit_length())`.
    pub fn randbelow(&mut self, n: u64) -> u64 {
        assert!(n > 0, "randbelow(0)");
        let k = 64 - n.leading_zeros();
        loop {
            let r = self.getrandbits(k);
            if r < n {
                return r;
            }
        }
    }

    /// `random.shuffle(x)`: Fisher-Yates from the end.
    pub fn shuffle<T>(&mut self, x: &mut [T]) {
        for i in (1..x.len()).rev() {
            let j = self.randbelow(i as u64 + 1) as usize;
            x.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn getrandbits_matches_python() {
        // random.seed(42); [random.getrandbits(32) for _ in range(3)]
        let mut r = PyRandom::seed(42);
        assert_eq!(
            (0..3).map(|_| r.getrandbits(32)).collect::<Vec<_>>(),
            vec![2746317213, 478163327, 107420369]
        );
    }

    #[test]
    fn shuffle_matches_python() {
        // random.seed(42); x = list(range(10)); random.shuffle(x)
        let mut r = PyRandom::seed(42);
        let mut x: Vec<u32> = (0..10).collect();
        r.shuffle(&mut x);
        assert_eq!(x, vec![7, 3, 2, 8, 5, 6, 9, 4, 0, 1]);
    }

    #[test]
    fn large_seeds_use_two_words() {
        // random.seed(2**40 + 5); random.getrandbits(64), (40), (33)
        let mut r = PyRandom::seed((1 << 40) + 5);
        assert_eq!(r.getrandbits(64), 9535518150286577956);
        assert_eq!(r.getrandbits(40), 727003120297);
        assert_eq!(r.getrandbits(33), 3976222944);
    }
}
