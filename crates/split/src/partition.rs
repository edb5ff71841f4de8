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

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the split asks for {requested} items (train {train} + test {test} + validation {validation}) but the \
     sample holds {available}; lower the sizes ([split] train/test/validation) or allow taking what there is \
     (--take-available, [split] take_available = true)"
)]
pub struct TooFewItems {
    pub requested: usize,
    pub available: usize,
    pub train: usize,
    pub test: usize,
    pub validation: usize,
}

/// The sizes of each split for a sample of `available` items.
pub fn partition(sizes: &SplitSizes, available: usize) -> Result<Partition, TooFewItems> {
    let requested = sizes.train + sizes.test + sizes.validation;
    if requested > available && !sizes.take_available {
        return Err(TooFewItems {
            requested,
            available,
            train: sizes.train,
            test: sizes.test,
            validation: sizes.validation,
        });
    }
    let train = sizes.train.min(available);
    let test = sizes.test.min(available - train);
    let validation = sizes.validation.min(available - train - test);
    Ok(Partition {
        train,
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
        let take = SplitSizes {
            take_available: true,
            ..SplitSizes::default()
        };
        assert_eq!(
            partition(&take, 1028).unwrap(),
            Partition {
                train: 1028,
                test: 0,
                validation: 0
            }
        );
        let sizes = SplitSizes {
            train: 10,
            test: 5,
            validation: 3,
            take_available: true,
            ..SplitSizes::default()
        };
        assert_eq!(
            partition(&sizes, 12).unwrap(),
            Partition {
                train: 10,
                test: 2,
                validation: 0
            }
        );
    }
}
