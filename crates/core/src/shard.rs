//! Sharded runs: `--shard i/N` gives task `i` of `N` a contiguous run of the input files,
//! so concatenating the shards' outputs in shard order restores the one-machine order
//! (the sample and shuffle depend on it). Files are the unit: the same partition for any
//! thread count, chosen by size so shards take similar time.

use std::ops::Range;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Task `index` of `count` (0-based); always `index < count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ShardSpec {
    index: u32,
    count: u32,
}

impl ShardSpec {
    /// Shard `index` of `count`, if `index < count`.
    pub fn new(index: u32, count: u32) -> Option<ShardSpec> {
        (index < count).then_some(ShardSpec { index, count })
    }

    pub fn index(self) -> u32 {
        self.index
    }

    pub fn count(self) -> u32 {
        self.count
    }

    /// This shard's contiguous run of files of the given sizes.
    pub fn files(self, sizes: &[u64]) -> Range<usize> {
        file_ranges(sizes, self.count)[self.index as usize].clone()
    }
}

impl<'de> Deserialize<'de> for ShardSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Raw {
            index: u32,
            count: u32,
        }
        let r = Raw::deserialize(d)?;
        ShardSpec::new(r.index, r.count).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "shard {}/{}: the index must be below the count",
                r.index, r.count
            ))
        })
    }
}

impl FromStr for ShardSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("{s:?}: expected i/N with 0 <= i < N, e.g. 0/4");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let index: u32 = i.trim().parse().map_err(|_| bad())?;
        let count: u32 = n.trim().parse().map_err(|_| bad())?;
        ShardSpec::new(index, count).ok_or_else(bad)
    }
}

impl std::fmt::Display for ShardSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// Contiguous ranges of files, one per shard (some empty when there are fewer files than
/// shards): file `j` goes to the shard holding the middle of its bytes in the
/// concatenation of all files, which keeps ranges contiguous and sizes balanced.
pub fn file_ranges(sizes: &[u64], count: u32) -> Vec<Range<usize>> {
    let n = count.max(1) as u128;
    let total: u128 = sizes.iter().map(|&s| s as u128).sum();
    let mut owner = Vec::with_capacity(sizes.len());
    let mut start = 0u128;
    for (j, &size) in sizes.iter().enumerate() {
        let size = size as u128;
        let shard = if total == 0 {
            (j as u128 * n) / sizes.len() as u128
        } else {
            ((2 * start + size) * n) / (2 * total)
        };
        owner.push(shard.min(n - 1) as usize);
        start += size;
    }
    (0..n as usize)
        .map(|s| {
            let first = owner.partition_point(|&o| o < s);
            let end = owner.partition_point(|&o| o <= s);
            first..end
        })
        .collect()
}

/// What a shard's manifest records about its place in the whole run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardInfo {
    pub index: u32,
    pub count: u32,
    /// Index of this shard's first file in `all_inputs`.
    pub first_file: u32,
    /// Files of this shard.
    pub files: u32,
    /// Every input file of the whole run, in order: records' file indices refer to it.
    pub all_inputs: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_i_of_n() {
        assert_eq!("2/4".parse(), Ok(ShardSpec::new(2, 4).unwrap()));
        assert!(ShardSpec::new(4, 4).is_none());
        assert!(serde_json::from_str::<ShardSpec>(r#"{"index": 5, "count": 2}"#).is_err());
        assert!("4/4".parse::<ShardSpec>().is_err());
        assert!("0/0".parse::<ShardSpec>().is_err());
        assert!("x".parse::<ShardSpec>().is_err());
    }

    #[test]
    fn ranges_cover_every_file_once_in_order() {
        for sizes in [
            vec![],
            vec![5],
            vec![1, 1, 1, 1, 1, 1, 1, 1, 1],
            vec![100, 1, 1, 1, 1, 1, 1, 100],
            vec![0, 0, 0],
            vec![7, 3, 9, 1, 4],
        ] {
            for count in 1..=6u32 {
                let r = file_ranges(&sizes, count);
                assert_eq!(r.len(), count as usize);
                let mut next = 0;
                for range in &r {
                    assert_eq!(range.start, next, "{sizes:?} / {count}: {r:?}");
                    next = range.end;
                }
                assert_eq!(next, sizes.len());
            }
        }
    }

    #[test]
    fn ranges_balance_by_size() {
        let r = file_ranges(&[1; 8], 4);
        assert_eq!(r, vec![0..2, 2..4, 4..6, 6..8]);
        let r = file_ranges(&[10, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], 2);
        assert_eq!(r, vec![0..1, 1..11]);
    }
}
