//! The weighted draw: `p = (price - min) / ((max - min) + 1e-9)`, `w = p*p*factor`,
//! `w / w.sum()` (numpy 2.3's pairwise sum, a true division), numpy's legacy
//! `choice(N, sample, replace=False, p=w)` after `np.random.seed(seed)`, then the second
//! shuffle and the splits.

use anyhow::{bail, Result};
use pricer_core::knobs::Knobs;
use pricer_pycompat::numpy::{pairwise_sum, RandomState};
use pricer_pycompat::random::PyRandom;

use crate::config::CurateConfig;
use crate::keys::Keys;

/// What the draw decided, with the figures a user checks.
#[derive(Debug, Clone)]
pub struct Draw {
    /// The normalised weight of each pool item, in pool order.
    pub weights: Vec<f64>,
    /// `w.sum()` before normalising.
    pub weight_sum: f64,
    pub price_min: f64,
    pub price_max: f64,
    pub items_at_min_price: usize,
    pub zero_weight_items: usize,
    /// Indices into the pool, in draw order.
    pub drawn: Vec<usize>,
    /// Per round of the legacy loop: doubles drawn, new indices kept.
    pub rounds: Vec<(usize, usize)>,
    /// `drawn` after the second shuffle: train, then validation, then test.
    pub shuffled: Vec<usize>,
}

pub fn draw(pool: &[u32], keys: &Keys, cfg: &CurateConfig, knobs: Knobs) -> Result<Draw> {
    if pool.is_empty() {
        bail!("no items to curate (the deduped pool is empty)");
    }
    let prices: Vec<f64> = pool.iter().map(|&i| keys.price[i as usize]).collect();
    let lo = prices.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = prices.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let span = (hi - lo) + 1e-9;
    let factors: Vec<f64> = keys.categories.iter().map(|c| cfg.factor(c)).collect();
    // The course's dict lookup ignores a name no item has; so does the draw, but a typo
    // in a category name should not go unseen.
    for name in cfg.factors.keys().filter(|n| !keys.categories.contains(n)) {
        tracing::warn!(
            "[curate] factors names {name:?}, a category no input item has (categories: {})",
            keys.categories.join(", ")
        );
    }
    // The prices become the weights in place (the pool can hold millions).
    let items_at_min_price = prices.iter().filter(|&&p| p == lo).count();
    let mut weights = prices;
    for (w, &i) in weights.iter_mut().zip(pool) {
        let p = (*w - lo) / span;
        *w = p * p * factors[keys.category[i as usize] as usize];
    }
    let weight_sum = pairwise_sum(&weights);
    if !weight_sum.is_finite() {
        // numpy's choice refuses it too ("probabilities do not sum to 1").
        bail!(
            "the weights sum to {weight_sum} (price squared times the category factors, largest factor {}): lower the factors",
            pricer_pycompat::float::float_repr(factors.iter().copied().fold(0.0, f64::max))
        );
    }
    for w in &mut weights {
        *w /= weight_sum;
    }
    let nonzero = weights.iter().filter(|&&x| x > 0.0).count();
    if cfg.sample > nonzero {
        bail!(
            "the sample of {} is larger than the {nonzero} items with a non-zero weight (pool {}); \
             lower {} or raise the category factors",
            cfg.sample,
            pool.len(),
            knobs.name("curate", "sample")
        );
    }
    let seed =
        u32::try_from(cfg.seed).map_err(|_| anyhow::anyhow!("curate seed above 2^32 - 1"))?;
    let (drawn, rounds) = RandomState::seed(seed).choice_rounds(&weights, cfg.sample)?;
    let mut shuffled = drawn.clone();
    PyRandom::seed(cfg.split_seed).shuffle(&mut shuffled);
    Ok(Draw {
        weight_sum,
        price_min: lo,
        price_max: hi,
        items_at_min_price,
        zero_weight_items: pool.len() - nonzero,
        weights,
        drawn,
        rounds,
        shuffled,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(n: usize) -> Keys {
        Keys {
            price: (0..n).map(|i| 1.0 + i as f64).collect(),
            category: (0..n).map(|i| (i % 2) as u16).collect(),
            categories: vec!["Automotive".into(), "Appliances".into()],
        }
    }

    fn config(sample: usize) -> CurateConfig {
        CurateConfig {
            sample,
            train: sample,
            validation: 0,
            test: 0,
            ..CurateConfig::default()
        }
    }

    #[test]
    fn weights_that_overflow_are_refused_with_the_reason() {
        let pool: Vec<u32> = (0..1000).collect();
        let mut cfg = config(10);
        cfg.default_factor = 1e308;
        let err = draw(&pool, &keys(1000), &cfg, Knobs::Config)
            .unwrap_err()
            .to_string();
        assert!(err.contains("the weights sum to inf"), "{err}");
        assert!(err.contains("largest factor 1e+308"), "{err}");
    }

    #[test]
    fn a_sample_above_the_items_with_weight_is_refused() {
        let pool: Vec<u32> = (0..10).collect();
        let err = draw(&pool, &keys(10), &config(20), Knobs::Flags)
            .unwrap_err()
            .to_string();
        // The cheapest item has weight 0 (its price is the minimum).
        assert!(
            err.contains(
                "larger than the 9 items with a non-zero weight (pool 10); lower --sample"
            ),
            "{err}"
        );
        let d = draw(&pool, &keys(10), &config(9), Knobs::Config).unwrap();
        assert_eq!(d.drawn.len(), 9);
        assert!(!d.drawn.contains(&0));
    }
}
