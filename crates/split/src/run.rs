//! The split stage end to end: `items.art` -> `train.art`, `test.art` (and
//! `validation.art`), `manifest.json`.
//!
//! Pass 1 keeps only each item's price and category. The sample, shuffle and partition
//! give every selected item a destination rank. Pass 2 ([`pricer_core::reorder`]) reads
//! the items again and writes the selected ones in rank order, one bucket at a time:
//! memory holds the keys and one bucket, never the whole split.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use pricer_core::artifact::{ArtifactReader, ArtifactWriter};
use pricer_core::knobs::Knobs;
use pricer_core::manifest::{Counts, InputRef, Manifest};
use pricer_core::reorder::{reorder_frames, NOT_SELECTED, WORK_PREFIX};
use pricer_core::stage::{Output, Plan, Stage};
use pricer_core::{obs, Item};
use serde::{Deserialize, Serialize};

use crate::config::{SampleConfig, SplitSizes};
use crate::partition::{partition, shuffled, Partition};
use crate::sample::{price_balanced_sample, ItemKey};

pub const STAGE: &str = "split";
pub const ITEMS: &str = "items.art";
pub const TRAIN: &str = "train.art";
pub const TEST: &str = "test.art";
pub const VALIDATION: &str = "validation.art";

/// The split stage of a run.
#[derive(Debug, Clone)]
pub struct SplitStage {
    /// The prompt stage's folder (items.art) or an items.art file.
    pub input: PathBuf,
    pub out_dir: PathBuf,
    pub sample: SampleConfig,
    pub sizes: SplitSizes,
    /// How the user sets the sizes, for messages.
    pub knobs: Knobs,
}

impl SplitStage {
    pub fn items_path(&self) -> PathBuf {
        if self.input.is_dir() {
            self.input.join(ITEMS)
        } else {
            self.input.clone()
        }
    }
}

/// The figures a user checks first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SplitSummary {
    pub items: usize,
    pub sample: usize,
    pub sample_by_category: BTreeMap<String, usize>,
    pub sample_mean_price: f64,
    pub train: usize,
    pub test: usize,
    pub validation: usize,
    pub train_mean_price: f64,
    pub test_mean_price: f64,
    /// The recipe's author looked at the first 250 test items ($218.91 in the classic run).
    pub test_first_250_mean_price: f64,
}

fn mean(prices: impl Iterator<Item = f64>) -> f64 {
    let (mut sum, mut n) = (0.0, 0usize);
    for p in prices {
        sum += p;
        n += 1;
    }
    if n == 0 {
        0.0
    } else {
        sum / n as f64
    }
}

/// The leading fields of an [`Item`], borrowed: pass 1 allocates no strings.
#[derive(serde::Deserialize)]
struct Keys<'a> {
    category: &'a str,
    _title: &'a str,
    price: f64,
}

/// Pass 1: price and category of every item, and the category names.
fn read_keys(path: &Path) -> Result<(Vec<ItemKey>, Vec<String>)> {
    let mut reader = ArtifactReader::<Item>::open(path)?;
    let mut keys = Vec::with_capacity(reader.expected_count() as usize);
    let mut categories: Vec<String> = Vec::new();
    let mut index: BTreeMap<String, u16> = BTreeMap::new();
    while let Some(item) = reader.next_view::<Keys>()? {
        let cat = match index.get(item.category) {
            Some(&c) => c,
            None => {
                let c = u16::try_from(categories.len()).context("more than 65,535 categories")?;
                index.insert(item.category.to_owned(), c);
                categories.push(item.category.to_owned());
                c
            }
        };
        keys.push(ItemKey {
            price: item.price,
            category: cat,
        });
    }
    Ok((keys, categories))
}

/// The sample in shuffled order and how it divides into splits.
struct Selection {
    keys: Vec<ItemKey>,
    categories: Vec<String>,
    order: Vec<u32>,
    parts: Partition,
}

impl Selection {
    fn plan(
        path: &Path,
        sample: &SampleConfig,
        sizes: &SplitSizes,
        knobs: Knobs,
    ) -> Result<Selection> {
        let (keys, categories) = read_keys(path)?;
        let picked = price_balanced_sample(&keys, &categories, sample)
            .with_context(|| format!("price-balanced sample of {}", path.display()))?;
        let order = shuffled(picked, sizes.seed);
        let parts = partition(sizes, order.len()).map_err(|e| {
            let k = |key| knobs.name("split", key);
            let take = if sizes.take_available {
                "there is not one item for each split".to_owned()
            } else {
                format!(
                    "allow taking what there is in the sizes' proportions ({})",
                    knobs.on("split", "take_available")
                )
            };
            anyhow::anyhow!(
                "{e}; lower the sizes ({}, {}, {}) or {take}",
                k("train"),
                k("test"),
                k("validation")
            )
        })?;
        if parts.total() < sizes.train + sizes.test + sizes.validation {
            eprintln!(
                "split: warning: the sample holds {} items, fewer than the {} asked for; took train {}, test {}{} (the sizes' proportions)",
                obs::thousands(order.len() as u64),
                obs::thousands((sizes.train + sizes.test + sizes.validation) as u64),
                obs::thousands(parts.train as u64),
                obs::thousands(parts.test as u64),
                if parts.validation > 0 { format!(", validation {}", obs::thousands(parts.validation as u64)) } else { String::new() },
            );
        }
        Ok(Selection {
            keys,
            categories,
            order,
            parts,
        })
    }

    /// Each item's rank in train + test + validation, or [`NOT_SELECTED`].
    fn destinations(&self) -> Vec<u32> {
        let mut dest = vec![NOT_SELECTED; self.keys.len()];
        for (rank, &pos) in self.order[..self.parts.total()].iter().enumerate() {
            dest[pos as usize] = rank as u32;
        }
        dest
    }

    fn summary(&self) -> SplitSummary {
        let price = |pos: &u32| self.keys[*pos as usize].price;
        let mut by_cat = BTreeMap::new();
        for &pos in &self.order {
            let c = &self.categories[self.keys[pos as usize].category as usize];
            *by_cat.entry(c.clone()).or_insert(0) += 1;
        }
        let p = self.parts;
        let test = &self.order[p.train..p.train + p.test];
        SplitSummary {
            items: self.keys.len(),
            sample: self.order.len(),
            sample_by_category: by_cat,
            sample_mean_price: mean(self.order.iter().map(price)),
            train: p.train,
            test: p.test,
            validation: p.validation,
            train_mean_price: mean(self.order[..p.train].iter().map(price)),
            test_mean_price: mean(test.iter().map(price)),
            test_first_250_mean_price: mean(test.iter().take(250).map(price)),
        }
    }

    fn counts(&self) -> Counts {
        let (n, sample, total) = (self.keys.len(), self.order.len(), self.parts.total());
        Counts {
            rows_in: n as u64,
            kept: total as u64,
            rejected: (n - total) as u64,
            rejected_by_reason: [
                ("not_sampled".to_owned(), (n - sample) as u64),
                ("beyond_split_sizes".to_owned(), (sample - total) as u64),
            ]
            .into_iter()
            .filter(|(_, k)| *k > 0)
            .collect(),
        }
    }
}

impl Stage for SplitStage {
    fn name(&self) -> &str {
        STAGE
    }

    fn dir(&self) -> &Path {
        &self.out_dir
    }

    fn inputs(&self) -> Result<Vec<InputRef>> {
        Ok(vec![InputRef::of_records(&self.items_path(), STAGE)?])
    }

    fn config(&self) -> serde_json::Value {
        serde_json::json!({"sample": self.sample, "split": self.sizes})
    }

    fn outputs(&self) -> Vec<Output> {
        let mut out = vec![Output::File(TRAIN.into()), Output::File(TEST.into())];
        if self.sizes.validation > 0 {
            out.push(Output::File(VALIDATION.into()));
        }
        out
    }

    fn temporaries(&self) -> Vec<&'static str> {
        vec![WORK_PREFIX]
    }

    fn run(&self, plan: &Plan) -> Result<Manifest> {
        self.sample.validate().map_err(anyhow::Error::msg)?;
        let items = self.items_path();
        let sel = Selection::plan(&items, &self.sample, &self.sizes, self.knobs)?;
        let parts = sel.parts;
        std::fs::create_dir_all(&self.out_dir)
            .with_context(|| format!("{}: cannot create", self.out_dir.display()))?;
        let mut train = ArtifactWriter::<Item>::create(self.out_dir.join(TRAIN))?;
        let mut test = ArtifactWriter::<Item>::create(self.out_dir.join(TEST))?;
        let mut validation = (self.sizes.validation > 0)
            .then(|| ArtifactWriter::<Item>::create(self.out_dir.join(VALIDATION)))
            .transpose()?;
        let progress = obs::progress(Some(parts.total() as u64), "split");
        // Items move as the bytes items.art holds them: no decode, no encode.
        reorder_frames::<Item>(
            &items,
            &sel.destinations(),
            parts.total(),
            &self.out_dir,
            |rank, item| {
                progress.inc(1);
                if rank < parts.train {
                    train.write_frame(&item)?;
                } else if rank < parts.train + parts.test {
                    test.write_frame(&item)?;
                } else {
                    let v = validation
                        .as_mut()
                        .context("internal error: a validation rank without a validation split")?;
                    v.write_frame(&item)?;
                }
                Ok(())
            },
        )?;
        progress.finish_and_clear();
        let mut outputs = BTreeMap::from([
            (TRAIN.to_owned(), train.finish()?),
            (TEST.to_owned(), test.finish()?),
        ]);
        if let Some(v) = validation {
            outputs.insert(VALIDATION.to_owned(), v.finish()?);
        }
        let mut manifest = plan.manifest(outputs, sel.counts());
        manifest.summary = serde_json::to_value(sel.summary())?;
        manifest.threads = 1;
        manifest.write(&self.out_dir)?;
        Ok(manifest)
    }

    fn summary(&self, m: &Manifest) -> String {
        match serde_json::from_value::<SplitSummary>(m.summary.clone()) {
            Ok(s) => summary_line(&s, &self.out_dir),
            Err(_) => format!("split: done -> {}", self.out_dir.display()),
        }
    }
}

pub fn summary_line(s: &SplitSummary, out_dir: &Path) -> String {
    let cats: Vec<String> = s
        .sample_by_category
        .iter()
        .map(|(c, n)| format!("{c} {}", obs::thousands(*n as u64)))
        .collect();
    format!(
        "split: {} items -> sample {} (mean ${:.2}; {}) -> train {} (mean ${:.2}), test {} (mean ${:.2}; first {} ${:.2}){} -> {}",
        obs::thousands(s.items as u64),
        obs::thousands(s.sample as u64),
        s.sample_mean_price,
        cats.join(", "),
        obs::thousands(s.train as u64),
        s.train_mean_price,
        obs::thousands(s.test as u64),
        s.test_mean_price,
        s.test.min(250),
        s.test_first_250_mean_price,
        if s.validation > 0 { format!(", validation {}", obs::thousands(s.validation as u64)) } else { String::new() },
        out_dir.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`Keys`] must follow [`Item`]'s field order: a reordered `Item` fails here.
    #[test]
    fn keys_view_reads_an_items_category_and_price() {
        let item = Item {
            category: "Toys_and_Games".into(),
            title: "A title".into(),
            price: 12.5,
            prompt: "How much does this cost?".into(),
            token_count: 171,
            details: None,
        };
        let bytes = postcard::to_allocvec(&item).unwrap();
        let keys: Keys = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(
            (keys.category, keys._title, keys.price),
            ("Toys_and_Games", "A title", 12.5)
        );
    }
}
