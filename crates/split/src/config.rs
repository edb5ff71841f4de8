//! Every sampling and split knob, with the recipe's defaults.

use std::collections::BTreeMap;

use pricer_core::recipe;
use serde::{Deserialize, Serialize};

/// The price-balanced sample (SPEC section 3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SampleConfig {
    /// `np.random.seed(seed)`.
    pub seed: u32,
    /// Slots with more items than this are drawn down to it.
    pub cap: usize,
    /// Slots (rounded prices) from this one up are taken whole.
    pub keep_from: u32,
    /// Draw weight per category; categories not listed get `default_weight`.
    pub weights: BTreeMap<String, f64>,
    pub default_weight: f64,
}

impl Default for SampleConfig {
    fn default() -> Self {
        SampleConfig {
            seed: recipe::SAMPLE_SEED,
            cap: recipe::SAMPLE_CAP,
            keep_from: recipe::SAMPLE_KEEP_FROM,
            weights: [("Automotive".to_owned(), recipe::SAMPLE_WEIGHT_AUTOMOTIVE)]
                .into_iter()
                .collect(),
            default_weight: recipe::SAMPLE_WEIGHT_DEFAULT,
        }
    }
}

impl SampleConfig {
    pub fn weight(&self, category: &str) -> f64 {
        self.weights
            .get(category)
            .copied()
            .unwrap_or(self.default_weight)
    }

    pub fn validate(&self) -> Result<(), String> {
        let bad = |w: f64| !(w.is_finite() && w > 0.0);
        if bad(self.default_weight) {
            return Err(format!(
                "sample.default_weight must be a positive number, got {}",
                self.default_weight
            ));
        }
        if let Some((c, w)) = self.weights.iter().find(|(_, w)| bad(**w)) {
            return Err(format!(
                "sample.weights.{c} must be a positive number, got {w}"
            ));
        }
        if self.cap == 0 {
            return Err("sample.cap must be at least 1".into());
        }
        Ok(())
    }
}

/// The shuffle and split (SPEC section 4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SplitSizes {
    /// `random.seed(seed)` before `random.shuffle`.
    pub seed: u64,
    pub train: usize,
    pub test: usize,
    /// Items after test for an optional validation split (0: none).
    pub validation: usize,
    /// When the sample is smaller than train + test + validation, take what there is
    /// (in that order, as Python slicing does) instead of failing.
    pub take_available: bool,
}

impl Default for SplitSizes {
    fn default() -> Self {
        SplitSizes {
            seed: u64::from(recipe::SPLIT_SEED),
            train: recipe::SPLIT_TRAIN,
            test: recipe::SPLIT_TEST,
            validation: 0,
            take_available: false,
        }
    }
}
