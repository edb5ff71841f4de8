//! Every knob of the curation, with the course's values by default.

use std::collections::BTreeMap;

use pricer_core::recipe_v2;
use serde::{Deserialize, Serialize};

/// The curation's knobs (`[curate]` and `[split]` of a V2 run config).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CurateConfig {
    /// `random.seed(seed)` before the first shuffle and `np.random.seed(seed)` before the draw.
    pub seed: u64,
    /// Items drawn from the deduped pool.
    pub sample: usize,
    /// Weight factor per category; others get `default_factor`.
    pub factors: BTreeMap<String, f64>,
    pub default_factor: f64,
    /// `random.seed(split_seed)` before the second shuffle.
    pub split_seed: u64,
    pub train: usize,
    pub validation: usize,
    pub test: usize,
    /// Write only these prefixes of train, validation and test (the course's "lite"
    /// datasets) instead of the whole splits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep: Option<[usize; 3]>,
}

impl Default for CurateConfig {
    fn default() -> Self {
        CurateConfig {
            seed: recipe_v2::SEED,
            sample: recipe_v2::SAMPLE,
            factors: recipe_v2::FACTORS
                .iter()
                .map(|(c, f)| ((*c).to_owned(), *f))
                .collect(),
            default_factor: recipe_v2::DEFAULT_FACTOR,
            split_seed: recipe_v2::SEED,
            train: recipe_v2::TRAIN,
            validation: recipe_v2::VALIDATION,
            test: recipe_v2::TEST,
            keep: None,
        }
    }
}

impl CurateConfig {
    /// The ranges of the shuffled sample that make train, validation and test.
    pub fn splits(&self) -> [(&'static str, std::ops::Range<usize>); 3] {
        let (t, v) = (self.train, self.train + self.validation);
        [
            ("train", 0..t),
            ("validation", t..v),
            ("test", v..v + self.test),
        ]
    }

    /// The ranges the stage writes: the splits, or their kept prefixes.
    pub fn written(&self) -> [(&'static str, std::ops::Range<usize>); 3] {
        let mut out = self.splits();
        if let Some(keep) = self.keep {
            for ((_, r), k) in out.iter_mut().zip(keep) {
                r.end = r.start + k.min(r.len());
            }
        }
        out
    }

    pub fn factor(&self, category: &str) -> f64 {
        self.factors
            .get(category)
            .copied()
            .unwrap_or(self.default_factor)
    }

    /// Why these knobs cannot make a curation, if they cannot.
    pub fn validate(&self) -> Result<(), String> {
        let bad = |f: f64| !(f.is_finite() && f >= 0.0);
        if bad(self.default_factor) {
            return Err(format!(
                "curate.default_factor must be a number >= 0, got {}",
                self.default_factor
            ));
        }
        if let Some((c, f)) = self.factors.iter().find(|(_, f)| bad(**f)) {
            return Err(format!("curate.factors.{c} must be a number >= 0, got {f}"));
        }
        if self.seed > u64::from(u32::MAX) {
            return Err(format!(
                "curate.seed {} is above 2^32 - 1, the largest seed numpy's legacy generator takes",
                self.seed
            ));
        }
        if let Some((name, _)) = [
            ("train", self.train),
            ("validation", self.validation),
            ("test", self.test),
        ]
        .into_iter()
        .find(|(_, n)| *n == 0)
        {
            return Err(format!(
                "split size {name} is 0: recipe v2 publishes train, validation and test, and a \
                 Hub dataset with an empty split cannot be loaded; give each split at least one item"
            ));
        }
        let splits = self.train + self.validation + self.test;
        if splits > self.sample {
            return Err(format!(
                "split sizes {} + {} + {} = {splits} exceed the sample of {}",
                self.train, self.validation, self.test, self.sample
            ));
        }
        Ok(())
    }
}
