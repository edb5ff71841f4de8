//! Statistics over the items, computed in one streaming pass.

use std::collections::BTreeMap;

use pricer_core::Item;
use serde::Serialize;

/// Width of a price histogram bin, in dollars.
pub const PRICE_BIN: f64 = 10.0;
/// Most bins a price histogram has: prices beyond (or not finite: a hand-made artifact
/// can hold anything) are counted as off the scale, never allocated a bin each.
pub const MAX_PRICE_BINS: usize = 10_000;

/// The bin of `price`, if it is on the scale.
pub fn price_bin(price: f64, width: f64) -> Option<usize> {
    if !price.is_finite() {
        return None;
    }
    let b = (price / width).floor().max(0.0);
    (b.is_finite() && b < MAX_PRICE_BINS as f64).then_some(b as usize)
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Histogram {
    /// `(low, high, count)`, contiguous.
    pub bins: Vec<(f64, f64, u64)>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ItemStats {
    pub items: u64,
    pub token_count_mean: f64,
    pub token_count_min: u32,
    pub token_count_max: u32,
    pub token_counts: Histogram,
    pub price_mean: f64,
    pub price_max: f64,
    pub price_min: f64,
    pub prices: Histogram,
    /// Prices the histogram cannot show (not finite, or above its last bin).
    #[serde(skip_serializing_if = "is_zero")]
    pub prices_off_scale: u64,
    /// Items per category, in the order categories first appear.
    pub categories: Vec<(String, u64)>,
    pub prompt_chars_mean: f64,
    /// Pearson correlation of prompt length (characters) and price.
    pub chars_price_correlation: f64,
}

/// Accumulates [`ItemStats`] and the scatter points, one item at a time.
#[derive(Debug, Default)]
pub struct Accumulator {
    n: u64,
    token_sum: u64,
    tokens: BTreeMap<u32, u64>,
    price_sum: f64,
    price_max: f64,
    price_min: f64,
    price_bins: Vec<u64>,
    prices_off_scale: u64,
    categories: Vec<(String, u64)>,
    sx: f64,
    sy: f64,
    sxx: f64,
    syy: f64,
    sxy: f64,
    /// (prompt characters, price) of every item, or of a uniform sample of
    /// [`SCATTER_POINTS`] once there are more (reservoir sampling), for the scatter.
    pub points: Vec<(f32, f32)>,
    /// For the reservoir: a fixed start, so reports are reproducible.
    rng: pricer_core::rng::SplitMix64,
}

/// Most points the scatter keeps: beyond this many items it plots a uniform sample, so
/// the audit's memory does not grow with the corpus (a PNG of 200,000 points is dense).
pub const SCATTER_POINTS: usize = 200_000;

impl Accumulator {
    pub fn add(&mut self, item: &Item) {
        self.n += 1;
        self.token_sum += u64::from(item.token_count);
        *self.tokens.entry(item.token_count).or_default() += 1;
        self.price_sum += item.price;
        self.price_max = if self.n == 1 {
            item.price
        } else {
            self.price_max.max(item.price)
        };
        self.price_min = if self.n == 1 {
            item.price
        } else {
            self.price_min.min(item.price)
        };
        match price_bin(item.price, PRICE_BIN) {
            Some(bin) => {
                if self.price_bins.len() <= bin {
                    self.price_bins.resize(bin + 1, 0);
                }
                self.price_bins[bin] += 1;
            }
            None => self.prices_off_scale += 1,
        }
        match self
            .categories
            .iter_mut()
            .find(|(c, _)| *c == item.category)
        {
            Some((_, n)) => *n += 1,
            None => self.categories.push((item.category.clone(), 1)),
        }
        let x = item.prompt.chars().count() as f64;
        let y = item.price;
        self.sx += x;
        self.sy += y;
        self.sxx += x * x;
        self.syy += y * y;
        self.sxy += x * y;
        let point = (x as f32, y as f32);
        if self.points.len() < SCATTER_POINTS {
            self.points.push(point);
        } else {
            // Algorithm R: item n replaces a kept point with probability SCATTER_POINTS / n.
            let j = self.rng.below(self.n) as usize;
            if j < SCATTER_POINTS {
                self.points[j] = point;
            }
        }
    }

    pub fn finish(&self) -> ItemStats {
        let n = self.n as f64;
        let mean = |s: f64| if self.n == 0 { 0.0 } else { s / n };
        let cov = self.sxy / n - mean(self.sx) * mean(self.sy);
        let vx = self.sxx / n - mean(self.sx).powi(2);
        let vy = self.syy / n - mean(self.sy).powi(2);
        let r = if vx > 0.0 && vy > 0.0 {
            cov / (vx.sqrt() * vy.sqrt())
        } else {
            0.0
        };
        let (tmin, tmax) = (
            self.tokens.keys().next().copied().unwrap_or(0),
            self.tokens.keys().last().copied().unwrap_or(0),
        );
        ItemStats {
            items: self.n,
            token_count_mean: mean(self.token_sum as f64),
            token_count_min: tmin,
            token_count_max: tmax,
            token_counts: Histogram {
                bins: (tmin..=tmax)
                    .map(|t| {
                        (
                            f64::from(t),
                            f64::from(t) + 1.0,
                            self.tokens.get(&t).copied().unwrap_or(0),
                        )
                    })
                    .collect(),
            },
            price_mean: mean(self.price_sum),
            price_max: self.price_max,
            price_min: self.price_min,
            prices: price_histogram_from_bins(&self.price_bins, PRICE_BIN),
            prices_off_scale: self.prices_off_scale,
            categories: self.categories.clone(),
            prompt_chars_mean: mean(self.sx),
            chars_price_correlation: r,
        }
    }
}

fn price_histogram_from_bins(bins: &[u64], width: f64) -> Histogram {
    Histogram {
        bins: bins
            .iter()
            .enumerate()
            .map(|(i, &c)| (i as f64 * width, (i + 1) as f64 * width, c))
            .collect(),
    }
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// A price histogram of arbitrary prices with bins of `width` dollars.
pub fn price_histogram(prices: &[f64], width: f64) -> Histogram {
    let mut bins = Vec::new();
    for b in prices.iter().filter_map(|&p| price_bin(p, width)) {
        if bins.len() <= b {
            bins.resize(b + 1, 0);
        }
        bins[b] += 1;
    }
    price_histogram_from_bins(&bins, width)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(i: usize) -> Item {
        Item {
            category: "Automotive".into(),
            title: String::new(),
            price: (i % 999) as f64 + 0.5,
            prompt: "x".repeat(100 + i % 7),
            token_count: 170,
            details: None,
        }
    }

    #[test]
    fn the_scatter_keeps_a_bounded_reproducible_uniform_sample() {
        let n = SCATTER_POINTS + SCATTER_POINTS / 4;
        let (mut a, mut b) = (Accumulator::default(), Accumulator::default());
        for i in 0..n {
            a.add(&item(i));
            b.add(&item(i));
        }
        assert_eq!(a.points.len(), SCATTER_POINTS);
        assert_eq!(a.points, b.points, "the same items give the same sample");
        assert_eq!(
            a.finish().items,
            n as u64,
            "statistics still cover every item"
        );
        // Items after the first SCATTER_POINTS replace about a fifth of the kept ones.
        let mut small = Accumulator::default();
        for i in 0..SCATTER_POINTS {
            small.add(&item(i));
        }
        let replaced = a
            .points
            .iter()
            .zip(&small.points)
            .filter(|(x, y)| x != y)
            .count();
        assert!(replaced > SCATTER_POINTS / 10, "only {replaced} replaced");
    }
}
