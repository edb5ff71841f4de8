//! The first shuffle and both dedupes, as the course does them: `random.seed(seed)`,
//! `random.shuffle(items)`, keep the first item of each exact title, then the first of
//! each exact text.

use pricer_pycompat::random::PyRandom;

use crate::keys::{Digest128, Digests};

/// Input positions at each step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pool {
    /// Every position, shuffled.
    pub shuffled: Vec<u32>,
    /// The first of each title, in shuffled order.
    pub after_title: Vec<u32>,
    /// Then the first of each text: the deduped pool, in order.
    pub pool: Vec<u32>,
}

const EMPTY: u32 = u32::MAX;

/// The positions of `order` whose key has not been seen earlier in `order`. An open-
/// addressing table of positions (4 bytes a slot) compares the keys themselves, so no
/// second copy of the keys is made.
pub fn first_of_each(order: &[u32], keys: &[Digest128]) -> Vec<u32> {
    let cap = (order.len() * 2).next_power_of_two().max(16);
    let mask = cap - 1;
    let mut table = vec![EMPTY; cap];
    let mut out = Vec::with_capacity(order.len());
    for &pos in order {
        let key = keys[pos as usize];
        // The digest is uniform: its low bits are a good slot.
        let mut slot = key[0] as usize & mask;
        loop {
            let held = table[slot];
            if held == EMPTY {
                table[slot] = pos;
                out.push(pos);
                break;
            }
            if keys[held as usize] == key {
                break;
            }
            slot = (slot + 1) & mask;
        }
    }
    out
}

/// Shuffles every position with `seed` and dedupes by title, then by text.
pub fn dedupe(digests: &Digests, seed: u64) -> Pool {
    let mut shuffled: Vec<u32> = (0..digests.title.len() as u32).collect();
    PyRandom::seed(seed).shuffle(&mut shuffled);
    let after_title = first_of_each(&shuffled, &digests.title);
    let pool = first_of_each(&after_title, &digests.full);
    Pool {
        shuffled,
        after_title,
        pool,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_first_of_each_key_in_order() {
        let keys: Vec<Digest128> = [5, 1, 5, 2, 1, 3, 2].iter().map(|&k| [k, k * 7]).collect();
        assert_eq!(
            first_of_each(&[0, 1, 2, 3, 4, 5, 6], &keys),
            vec![0, 1, 3, 5]
        );
        assert_eq!(
            first_of_each(&[6, 5, 4, 3, 2, 1, 0], &keys),
            vec![6, 5, 4, 2]
        );
        // Keys that collide in the table's low bits but differ are both kept.
        let keys: Vec<Digest128> = (0..100u64).map(|k| [k << 40, k]).collect();
        let order: Vec<u32> = (0..100).collect();
        assert_eq!(first_of_each(&order, &keys).len(), 100);
    }
}
