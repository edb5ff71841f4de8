//! The split stage end to end: `items.art` -> `train.art`, `test.art` (and
//! `validation.art`), `manifest.json`.
//!
//! Pass 1 keeps only each item's price and category. The sample, shuffle and partition
//! give every selected item a destination rank. Pass 2 reads the items again and
//! scatters each selected item into a bucket file by rank; buckets are then loaded one
//! at a time, ordered, and written out. Memory holds the keys and one bucket, never the
//! whole split.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use pricer_core::artifact::{header_info, verify, ArtifactReader, ArtifactWriter};
use pricer_core::manifest::{fingerprint, Counts, InputRef, Manifest};
use pricer_core::{obs, Item};
use serde::{Deserialize, Serialize};

use crate::config::{SampleConfig, SplitSizes};
use crate::partition::{partition, shuffled, Partition};
use crate::sample::{price_balanced_sample, ItemKey};

pub const STAGE: &str = "split";
pub const TRAIN: &str = "train.art";
pub const TEST: &str = "test.art";
pub const VALIDATION: &str = "validation.art";
/// Ranks per bucket file in pass 2 (at least; more for very large splits so that the
/// number of open files stays bounded).
pub const MIN_BUCKET_ITEMS: usize = 16_384;
pub const MAX_BUCKETS: usize = 256;

#[derive(Debug, Clone)]
pub struct SplitConfig {
    /// The prompt stage's folder (items.art) or an items.art file.
    pub input: PathBuf,
    pub out_dir: PathBuf,
    pub sample: SampleConfig,
    pub sizes: SplitSizes,
}

impl SplitConfig {
    pub fn items_path(&self) -> PathBuf {
        if self.input.is_dir() {
            self.input.join("items.art")
        } else {
            self.input.clone()
        }
    }

    pub fn semantic(&self) -> serde_json::Value {
        serde_json::json!({"sample": self.sample, "split": self.sizes})
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

/// Pass 1: price and category of every item, and the category names.
fn read_keys(path: &Path) -> Result<(Vec<ItemKey>, Vec<String>)> {
    let reader = ArtifactReader::<Item>::open(path)?;
    let mut keys = Vec::with_capacity(reader.expected_count() as usize);
    let mut categories: Vec<String> = Vec::new();
    let mut index: BTreeMap<String, u16> = BTreeMap::new();
    for item in reader {
        let item = item?;
        let cat = match index.get(&item.category) {
            Some(&c) => c,
            None => {
                let c = u16::try_from(categories.len()).context("more than 65,535 categories")?;
                index.insert(item.category.clone(), c);
                categories.push(item.category);
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

const NOT_SELECTED: u32 = u32::MAX;

/// Pass 2: items in destination order, one bucket at a time, handed to `emit(rank, item)`.
fn scatter_gather(
    path: &Path,
    dest: &[u32],
    selected: usize,
    work_dir: &Path,
    mut emit: impl FnMut(usize, &Item) -> Result<()>,
) -> Result<()> {
    let per_bucket = MIN_BUCKET_ITEMS.max(selected.div_ceil(MAX_BUCKETS));
    let buckets = selected.div_ceil(per_bucket);
    let tmp = tempfile::Builder::new()
        .prefix(".split-buckets-")
        .tempdir_in(work_dir)
        .with_context(|| format!("{}: cannot create a work folder", work_dir.display()))?;
    let bucket_path = |b: usize| tmp.path().join(format!("bucket-{b:05}"));
    let mut writers: Vec<BufWriter<File>> = (0..buckets)
        .map(|b| {
            let p = bucket_path(b);
            File::create(&p)
                .map(|f| BufWriter::with_capacity(64 << 10, f))
                .with_context(|| format!("{}: cannot create", p.display()))
        })
        .collect::<Result<_>>()?;
    let mut buf = Vec::new();
    for (pos, item) in ArtifactReader::<Item>::open(path)?.enumerate() {
        let item = item?;
        let rank = *dest
            .get(pos)
            .context("items changed between the two passes")?;
        if rank == NOT_SELECTED {
            continue;
        }
        buf.clear();
        buf.extend_from_slice(&rank.to_le_bytes());
        buf.extend_from_slice(&[0; 4]);
        buf = postcard::to_extend(&item, std::mem::take(&mut buf))?;
        let len = (buf.len() - 8) as u32;
        buf[4..8].copy_from_slice(&len.to_le_bytes());
        let b = rank as usize / per_bucket;
        writers[b]
            .write_all(&buf)
            .with_context(|| format!("{}: write failed", bucket_path(b).display()))?;
    }
    for (b, w) in writers.into_iter().enumerate() {
        w.into_inner()
            .map_err(|e| e.into_error())
            .with_context(|| format!("{}: write failed", bucket_path(b).display()))?;
    }
    for b in 0..buckets {
        let mut r = BufReader::new(File::open(bucket_path(b))?);
        let mut records: Vec<(u32, Item)> = Vec::new();
        let mut head = [0u8; 8];
        loop {
            match r.read_exact(&mut head) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
                Err(e) => return Err(e.into()),
            }
            let rank = u32::from_le_bytes(head[..4].try_into().expect("4 bytes"));
            let len = u32::from_le_bytes(head[4..].try_into().expect("4 bytes")) as usize;
            buf.resize(len, 0);
            r.read_exact(&mut buf)?;
            records.push((rank, postcard::from_bytes(&buf)?));
        }
        records.sort_unstable_by_key(|(rank, _)| *rank);
        for (rank, item) in &records {
            emit(*rank as usize, item)?;
        }
        fs::remove_file(bucket_path(b))?;
    }
    Ok(())
}

/// The fingerprint a run of `cfg` will have.
pub fn fingerprint_of(cfg: &SplitConfig) -> Result<String> {
    let input = verify(&cfg.items_path())?;
    Ok(fingerprint(
        STAGE,
        &[input.digest.as_str()],
        &cfg.semantic(),
    ))
}

pub fn run(cfg: &SplitConfig) -> Result<(Manifest, SplitSummary)> {
    let started = Instant::now();
    let _span = tracing::info_span!("split").entered();
    cfg.sample.validate().map_err(anyhow::Error::msg)?;
    let items_path = cfg.items_path();
    // Both passes read the whole artifact, and its reader checks the body at the end.
    let input = header_info(&items_path)?;
    let (keys, categories) = read_keys(&items_path)?;
    let sample = price_balanced_sample(&keys, &categories, &cfg.sample)
        .with_context(|| format!("price-balanced sample of {}", items_path.display()))?;
    let order = shuffled(sample, cfg.sizes.seed);
    let parts: Partition = partition(&cfg.sizes, order.len())?;

    let mut dest = vec![NOT_SELECTED; keys.len()];
    for (rank, &pos) in order[..parts.total()].iter().enumerate() {
        dest[pos as usize] = rank as u32;
    }
    fs::create_dir_all(&cfg.out_dir)
        .with_context(|| format!("{}: cannot create output folder", cfg.out_dir.display()))?;
    let mut train = ArtifactWriter::<Item>::create(cfg.out_dir.join(TRAIN))?;
    let mut test = ArtifactWriter::<Item>::create(cfg.out_dir.join(TEST))?;
    let mut validation = if cfg.sizes.validation > 0 {
        Some(ArtifactWriter::<Item>::create(
            cfg.out_dir.join(VALIDATION),
        )?)
    } else {
        None
    };
    let progress = obs::progress(Some(parts.total() as u64), "split");
    scatter_gather(
        &items_path,
        &dest,
        parts.total(),
        &cfg.out_dir,
        |rank, item| {
            progress.inc(1);
            if rank < parts.train {
                train.write(item)?;
            } else if rank < parts.train + parts.test {
                test.write(item)?;
            } else {
                validation
                    .as_mut()
                    .context("validation rank without a validation split")?
                    .write(item)?;
            }
            Ok(())
        },
    )?;
    progress.finish_and_clear();

    let mut outputs = BTreeMap::new();
    outputs.insert(TRAIN.to_owned(), train.finish()?);
    outputs.insert(TEST.to_owned(), test.finish()?);
    if let Some(v) = validation {
        outputs.insert(VALIDATION.to_owned(), v.finish()?);
    }

    let price = |pos: &u32| keys[*pos as usize].price;
    let mut by_cat = BTreeMap::new();
    for &pos in &order {
        *by_cat
            .entry(categories[keys[pos as usize].category as usize].clone())
            .or_insert(0) += 1;
    }
    let test_ranks = &order[parts.train..parts.train + parts.test];
    let summary = SplitSummary {
        items: keys.len(),
        sample: order.len(),
        sample_by_category: by_cat,
        sample_mean_price: mean(order.iter().map(price)),
        train: parts.train,
        test: parts.test,
        validation: parts.validation,
        train_mean_price: mean(order[..parts.train].iter().map(price)),
        test_mean_price: mean(test_ranks.iter().map(price)),
        test_first_250_mean_price: mean(test_ranks.iter().take(250).map(price)),
    };
    let config = cfg.semantic();
    let inputs = vec![InputRef {
        path: items_path.display().to_string(),
        digest: input.digest.clone(),
        bytes: input.bytes,
    }];
    let counts = Counts {
        rows_in: keys.len() as u64,
        kept: parts.total() as u64,
        rejected: (keys.len() - parts.total()) as u64,
        rejected_by_reason: [
            ("not_sampled".to_owned(), (keys.len() - order.len()) as u64),
            (
                "beyond_split_sizes".to_owned(),
                (order.len() - parts.total()) as u64,
            ),
        ]
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .collect(),
    };
    let mut manifest = Manifest::for_stage(STAGE, inputs, config, outputs, counts, started);
    manifest.summary = serde_json::to_value(&summary)?;
    manifest.threads = 1;
    manifest.write(&cfg.out_dir)?;
    Ok((manifest, summary))
}

pub fn summary_line(s: &SplitSummary, out_dir: &Path) -> String {
    let cats: Vec<String> = s
        .sample_by_category
        .iter()
        .map(|(c, n)| format!("{c} {}", obs::thousands(*n as u64)))
        .collect();
    format!(
        "split: {} items -> sample {} (mean ${:.2}; {}) -> train {} (mean ${:.2}), test {} (mean ${:.2}; first 250 ${:.2}){} -> {}",
        obs::thousands(s.items as u64),
        obs::thousands(s.sample as u64),
        s.sample_mean_price,
        cats.join(", "),
        obs::thousands(s.train as u64),
        s.train_mean_price,
        obs::thousands(s.test as u64),
        s.test_mean_price,
        s.test_first_250_mean_price,
        if s.validation > 0 { format!(", validation {}", obs::thousands(s.validation as u64)) } else { String::new() },
        out_dir.display()
    )
}
