//! The seeded shuffle and the train / test / validation partition.

use pricer_pycompat::random::PyRandom;

use crate::config::SplitSizes;

/// `random.seed(seed); random.shuffle(sample)`.
pub fn shuffled(mut sample: Vec<u32>, seed: u64) -> Vec<u32> {
    PyRandom::seed(seed).shuffle(&mut sample);
    sample
}

/// How many items go to each split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partition {
    pub train: usize,
    pub test: usize,
    pub validation: usize,
}

impl Partition {
    pub fn total(&self) -> usize {
        self.train + self.test + self.validation
    }
}

/// The sample is smaller than the sizes ask for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the split asks for {requested} items (train {train} + test {test} + validation {validation}) but the \
     sample holds {available}"
)]
pub struct TooFewItems {
    pub requested: usize,
    pub available: usize,
    pub train: usize,
    pub test: usize,
    pub validation: usize,
}

/// The sizes of each split for a sample of `available` items. A sample smaller than the
/// sizes is an error, unless `take_available`: then every split keeps its share of the
/// sizes (rounded down; at least one item for each split asked for, so that no split
/// is empty; train takes the rest), as long as there is an item for each.
pub fn partition(sizes: &SplitSizes, available: usize) -> Result<Partition, TooFewItems> {
    let requested = sizes.train + sizes.test + sizes.validation;
    if requested <= available {
        return Ok(Partition {
            train: sizes.train,
            test: sizes.test,
            validation: sizes.validation,
        });
    }
    let asked = [sizes.train, sizes.test, sizes.validation];
    let splits = asked.iter().filter(|&&n| n > 0).count();
    if !sizes.take_available || available < splits {
        return Err(TooFewItems {
            requested,
            available,
            train: sizes.train,
            test: sizes.test,
            validation: sizes.validation,
        });
    }
    let share = |n: usize| {
        let s = (n as u128 * available as u128 / requested as u128) as usize;
        if n > 0 {
            s.max(1)
        } else {
            0
        }
    };
    let (test, validation) = (share(sizes.test), share(sizes.validation));
    Ok(Partition {
        train: available - test - validation,
        test,
        validation,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn too_few_items_states_both_numbers() {
        let sizes = SplitSizes::default();
        let err = partition(&sizes, 1028).unwrap_err().to_string();
        assert!(err.contains("402000") && err.contains("1028"), "{err}");
    }

    #[test]
    fn a_short_sample_keeps_the_proportions_and_no_split_is_empty() {
        let take = |train, test, validation, available| {
            let sizes = SplitSizes {
                train,
                test,
                validation,
                take_available: true,
                ..SplitSizes::default()
            };
            partition(&sizes, available).map(|p| (p.train, p.test, p.validation))
        };
        // The classic sizes on 1,028 items: 400,000 : 2,000 gives test 5.
        assert_eq!(take(400_000, 2_000, 0, 1028), Ok((1023, 5, 0)));
        // 300 + 100 on 200 items: half of each.
        assert_eq!(take(300, 100, 0, 200), Ok((150, 50, 0)));
        assert_eq!(take(10, 5, 3, 12), Ok((7, 3, 2)));
        // A share below one item is one item; train takes the rest.
        assert_eq!(take(1000, 1, 1, 10), Ok((8, 1, 1)));
        assert_eq!(take(1000, 1, 0, 2), Ok((1, 1, 0)));
        // Enough items: the sizes as asked.
        assert_eq!(take(10, 5, 0, 100), Ok((10, 5, 0)));
        // Not one item for each split asked for.
        assert!(take(10, 5, 0, 1).is_err());
        assert!(take(10, 5, 3, 2).is_err());
        assert!(take(10, 0, 0, 0).is_err());
    }
}
