//! The price-balanced sample: slots by rounded price, large cheap slots drawn down with
//! numpy's legacy `choice`, in slot order.

use pricer_pycompat::numpy::{normalise, ChoiceError, RandomState};
use pricer_pycompat::round::round_half_even;

use crate::config::SampleConfig;

/// Lowest and highest slot the recipe samples (slot 0, price 0.50, never is).
pub const FIRST_SLOT: u32 = 1;
pub const LAST_SLOT: u32 = 999;

/// What split keeps per item: never the texts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ItemKey {
    pub price: f64,
    /// Index into the category name table.
    pub category: u16,
}

/// The slot of a price: `round(price)` half to even, if it is one of 0..=999.
pub fn slot_of(price: f64) -> Option<u32> {
    let r = round_half_even(price);
    (0.0..=f64::from(LAST_SLOT))
        .contains(&r)
        .then_some(r as u32)
}

/// Positions of the sampled items, in sample order.
pub fn price_balanced_sample(
    keys: &[ItemKey],
    categories: &[String],
    cfg: &SampleConfig,
) -> Result<Vec<u32>, ChoiceError> {
    let mut slots: Vec<Vec<u32>> = vec![Vec::new(); LAST_SLOT as usize + 1];
    for (pos, key) in keys.iter().enumerate() {
        if let Some(s) = slot_of(key.price) {
            slots[s as usize].push(pos as u32);
        }
    }
    let weight_of: Vec<f64> = categories.iter().map(|c| cfg.weight(c)).collect();
    let mut rng = RandomState::seed(cfg.seed);
    let mut sample = Vec::new();
    for s in FIRST_SLOT..=LAST_SLOT {
        let slot = &slots[s as usize];
        if s >= cfg.keep_from || slot.len() <= cfg.cap {
            sample.extend_from_slice(slot);
        } else {
            let weights: Vec<f64> = slot
                .iter()
                .map(|&p| weight_of[keys[p as usize].category as usize])
                .collect();
            let picks = rng.choice_without_replacement(&normalise(&weights), cfg.cap)?;
            sample.extend(picks.into_iter().map(|j| slot[j]));
        }
    }
    Ok(sample)
}
