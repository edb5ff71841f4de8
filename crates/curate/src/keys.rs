//! Pass 1: what the curation needs of each item, and nothing more. Titles and texts are
//! kept as 128-bit BLAKE3 digests: two different strings share one with probability about
//! 2^-128 per pair (below 10^-26 for three million items), so dedupe by digest is dedupe
//! by exact string for any corpus this runs on.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context, Result};
use pricer_core::artifact::ArtifactReader;
use pricer_core::{obs, window, RawItem};

/// A string's identity for dedupe.
pub type Digest128 = [u64; 2];

pub fn digest128(s: &str) -> Digest128 {
    let h = blake3::hash(s.as_bytes());
    let b = h.as_bytes();
    let word = |i: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&b[i..i + 8]);
        u64::from_le_bytes(w)
    };
    [word(0), word(8)]
}

/// The identities dedupe compares, by position in the input (32 bytes an item); dropped
/// once the pool is known.
#[derive(Debug, Default)]
pub struct Digests {
    pub title: Vec<Digest128>,
    pub full: Vec<Digest128>,
}

/// What the draw and the summary need of each item, by position (10 bytes an item).
#[derive(Debug, Default)]
pub struct Keys {
    pub price: Vec<f64>,
    /// Index into `categories`.
    pub category: Vec<u16>,
    pub categories: Vec<String>,
}

impl Keys {
    pub fn len(&self) -> usize {
        self.price.len()
    }

    pub fn is_empty(&self) -> bool {
        self.price.is_empty()
    }

    pub fn category_of(&self, pos: u32) -> &str {
        &self.categories[self.category[pos as usize] as usize]
    }
}

/// Reads the keys of every item of `path`, digesting in parallel.
pub fn read_keys(path: &Path) -> Result<(Digests, Keys)> {
    let reader = ArtifactReader::<RawItem>::open(path)?;
    let n = reader.expected_count() as usize;
    let progress = obs::progress(Some(n as u64), "curate: keys");
    let mut digests = Digests {
        title: Vec::with_capacity(n),
        full: Vec::with_capacity(n),
    };
    let mut keys = Keys {
        price: Vec::with_capacity(n),
        category: Vec::with_capacity(n),
        categories: Vec::new(),
    };
    let mut index: HashMap<String, u16> = HashMap::new();
    let window = 1024 * rayon::current_num_threads();
    let source = reader.map(|r| r.map_err(anyhow::Error::from));
    let work = |item: &RawItem| Ok((digest128(&item.title), digest128(&item.full)));
    window::ordered(source, window, work, |item, (title, full)| {
        let cat = match index.get(&item.category) {
            Some(&c) => c,
            None => {
                let c =
                    u16::try_from(keys.categories.len()).context("more than 65,535 categories")?;
                index.insert(item.category.clone(), c);
                keys.categories.push(item.category);
                c
            }
        };
        digests.title.push(title);
        digests.full.push(full);
        keys.price.push(item.price);
        keys.category.push(cat);
        progress.inc(1);
        Ok(())
    })?;
    progress.finish_and_clear();
    Ok((digests, keys))
}
