//! What price balancing did: the items the sample was drawn from against the dataset
//! that came out of it (train + test, a shuffled cut of the balanced sample), and train
//! against test. Every figure is computed in one pass over each artifact (the items'
//! in the audit's own pass over them).

use std::path::Path;

use anyhow::Result;
use pricer_core::artifact::ArtifactReader;
use pricer_core::Item;
use serde::Serialize;

use crate::stats::price_bin;

/// Width of the shared price bins, in dollars.
pub const BIN: f64 = 10.0;

/// Counts and price sums of one set of items, per price bin and per category.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    n: u64,
    price_sum: f64,
    bins: Vec<u64>,
    off_scale: u64,
    /// (category, items, price sum), in first-seen order.
    categories: Vec<(String, u64, f64)>,
}

impl Tally {
    pub fn add(&mut self, item: &Item) {
        self.n += 1;
        self.price_sum += item.price;
        match price_bin(item.price, BIN) {
            Some(b) => {
                if self.bins.len() <= b {
                    self.bins.resize(b + 1, 0);
                }
                self.bins[b] += 1;
            }
            None => self.off_scale += 1,
        }
        match self
            .categories
            .iter_mut()
            .find(|(c, _, _)| *c == item.category)
        {
            Some((_, n, s)) => {
                *n += 1;
                *s += item.price;
            }
            None => self.categories.push((item.category.clone(), 1, item.price)),
        }
    }

    fn read(path: &Path, into: &mut [&mut Tally]) -> Result<()> {
        for item in ArtifactReader::<Item>::open(path)? {
            let item = item?;
            for t in into.iter_mut() {
                t.add(&item);
            }
        }
        Ok(())
    }

    fn mean(&self) -> f64 {
        if self.n == 0 {
            0.0
        } else {
            self.price_sum / self.n as f64
        }
    }

    fn bin(&self, i: usize) -> u64 {
        self.bins.get(i).copied().unwrap_or(0)
    }

    fn category(&self, name: &str) -> (u64, f64) {
        self.categories
            .iter()
            .find(|(c, _, _)| c == name)
            .map_or((0, 0.0), |(_, n, s)| (*n, *s))
    }
}

fn share(n: u64, of: u64) -> f64 {
    if of == 0 {
        0.0
    } else {
        n as f64 / of as f64
    }
}

/// One shared price bin, counted in two sets.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BinPair {
    pub low: f64,
    pub high: f64,
    pub a: u64,
    pub b: u64,
}

/// Two sets of items on the same price bins.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PriceComparison {
    /// What `a` and `b` count, e.g. `["items", "dataset"]`.
    pub sets: [String; 2],
    pub totals: [u64; 2],
    pub mean_price: [f64; 2],
    pub bin_width: f64,
    pub bins: Vec<BinPair>,
    /// Prices beyond the last bin (or not finite), per set.
    pub off_scale: [u64; 2],
}

impl PriceComparison {
    fn new(names: [&str; 2], a: &Tally, b: &Tally) -> PriceComparison {
        let len = a.bins.len().max(b.bins.len());
        PriceComparison {
            sets: names.map(str::to_owned),
            totals: [a.n, b.n],
            mean_price: [a.mean(), b.mean()],
            bin_width: BIN,
            bins: (0..len)
                .map(|i| BinPair {
                    low: i as f64 * BIN,
                    high: (i + 1) as f64 * BIN,
                    a: a.bin(i),
                    b: b.bin(i),
                })
                .collect(),
            off_scale: [a.off_scale, b.off_scale],
        }
    }
}

/// One category before and after balancing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CategoryRow {
    pub category: String,
    pub items: u64,
    pub items_share: f64,
    pub items_mean_price: f64,
    pub dataset: u64,
    pub dataset_share: f64,
    /// 0 when the dataset has none of the category.
    pub dataset_mean_price: f64,
}

/// Everything the report shows about balancing; part of audit.json.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Balance {
    /// Items (the prompt stage's output, what the sample was drawn from) against the
    /// dataset (train + test).
    pub prices: PriceComparison,
    /// Per category, in the order categories first appear among the items.
    pub categories: Vec<CategoryRow>,
    /// Train against test on the same bins.
    pub train_test: PriceComparison,
}

/// Reads `items` once and the split's `train` and `test` once each.
/// The comparison, given the items' tally (the audit takes it in its one pass over the
/// items) and the split's two artifacts.
pub fn balance(all: Tally, train: &Path, test: &Path) -> Result<Balance> {
    let (mut tr, mut te, mut dataset) = (Tally::default(), Tally::default(), Tally::default());
    Tally::read(train, &mut [&mut tr, &mut dataset])?;
    Tally::read(test, &mut [&mut te, &mut dataset])?;
    // Categories of the items first, then any only the dataset has (a hand-made split).
    let mut names: Vec<&str> = all.categories.iter().map(|c| c.0.as_str()).collect();
    for (c, _, _) in &dataset.categories {
        if !names.contains(&c.as_str()) {
            names.push(c);
        }
    }
    let categories = names
        .into_iter()
        .map(|name| {
            let (n, s) = all.category(name);
            let (d, ds) = dataset.category(name);
            CategoryRow {
                category: name.to_owned(),
                items: n,
                items_share: share(n, all.n),
                items_mean_price: if n == 0 { 0.0 } else { s / n as f64 },
                dataset: d,
                dataset_share: share(d, dataset.n),
                dataset_mean_price: if d == 0 { 0.0 } else { ds / d as f64 },
            }
        })
        .collect();
    Ok(Balance {
        prices: PriceComparison::new(["items", "dataset"], &all, &dataset),
        categories,
        train_test: PriceComparison::new(["train", "test"], &tr, &te),
    })
}
