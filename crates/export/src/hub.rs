//! Hub dataset folders for any record type: a split's records (or the first N of them)
//! as Parquet shards `data/<split>-0000i-of-0000N.parquet` of at most a given size of row
//! data (as `datasets.push_to_hub` shards), and the dataset card's YAML header.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Result;
use arrow::array::ArrayRef;
use arrow::datatypes::Schema;
use pricer_core::artifact::{ArtifactReader, Record};

use crate::card::SplitInfo;
use crate::parquet_out::{TableWriter, BATCH_ROWS};

/// How records of one type become rows of a Hub table.
pub trait Table: Sync {
    type Record: Record;
    /// Column names and `datasets` dtypes, in order (also the card's features).
    fn features(&self) -> Vec<(&'static str, &'static str)>;
    /// The Arrow schema, with the `huggingface` metadata `datasets` writes.
    fn schema(&self) -> Schema;
    /// Arrow in-memory bytes of one row (offsets, data, values), for shard sizes.
    fn row_bytes(&self, r: &Self::Record) -> u64;
    /// One batch of records as columns.
    fn columns(&self, rows: &[Self::Record]) -> Vec<ArrayRef>;
}

/// Writes the first `limit` records of `src` (all with `None`) as `split`'s shards under
/// `folder/data/`. Two passes: sizes first, to name the shards `-of-0000N`.
pub fn write_split<T: Table>(
    table: &T,
    split: &str,
    src: &Path,
    folder: &Path,
    max_shard_bytes: u64,
    limit: Option<u64>,
) -> Result<SplitInfo> {
    let limit = limit.unwrap_or(u64::MAX);
    let (mut rows, mut num_bytes) = (0u64, 0u64);
    for r in ArtifactReader::<T::Record>::open(src)?.take(limit as usize) {
        rows += 1;
        num_bytes += table.row_bytes(&r?);
    }
    // Arrow's offsets buffer has one more entry than rows, per string column.
    let strings = table
        .features()
        .iter()
        .filter(|(_, t)| *t == "string")
        .count() as u64;
    num_bytes += 4 * strings;
    let shards = num_bytes.div_ceil(max_shard_bytes.max(1)).max(1);
    let per_shard = rows.div_ceil(shards).max(1);
    let mut files = Vec::new();
    let mut parquet_bytes = 0;
    let mut reader = ArtifactReader::<T::Record>::open(src)?;
    for shard in 0..shards {
        let name = format!("{split}-{shard:05}-of-{shards:05}.parquet");
        let mut w = TableWriter::create(&folder.join("data").join(&name), table.schema())?;
        let mut left = per_shard.min(rows - shard * per_shard);
        while left > 0 {
            let take = left.min(BATCH_ROWS as u64) as usize;
            let batch: Vec<T::Record> = reader.by_ref().take(take).collect::<Result<_, _>>()?;
            anyhow::ensure!(batch.len() == take, "{}: ended early", src.display());
            w.write(table.columns(&batch))?;
            left -= take as u64;
        }
        parquet_bytes += w.finish()?;
        files.push(format!("data/{name}"));
    }
    Ok(SplitInfo {
        name: split.to_owned(),
        rows,
        num_bytes,
        files,
        parquet_bytes,
    })
}

/// The dataset card's YAML header: licence, tags, the `configs` that map splits to
/// files, and `dataset_info` (features, split sizes) as the Hub reads them.
pub fn yaml_header(
    pretty_name: &str,
    tags: &[&str],
    features: &[(&str, &str)],
    splits: &[SplitInfo],
) -> String {
    let total: u64 = splits.iter().map(|s| s.rows).sum();
    let mut y =
        String::from("---\nlicense: other\nlicense_name: amazon-reviews-2023\nlanguage:\n- en\n");
    y.push_str("task_categories:\n- text-generation\ntags:\n");
    for t in tags {
        let _ = writeln!(y, "- {t}");
    }
    let _ = writeln!(y, "size_categories:\n- {}", size_category(total));
    let _ = writeln!(y, "pretty_name: {pretty_name}");
    y.push_str("configs:\n- config_name: default\n  data_files:\n");
    for s in splits {
        let _ = writeln!(y, "  - split: {}\n    path: data/{}-*", s.name, s.name);
    }
    y.push_str("dataset_info:\n  features:\n");
    for (name, dtype) in features {
        let _ = writeln!(y, "  - name: {name}\n    dtype: {dtype}");
    }
    y.push_str("  splits:\n");
    for s in splits {
        let _ = writeln!(
            y,
            "  - name: {}\n    num_bytes: {}\n    num_examples: {}",
            s.name, s.num_bytes, s.rows
        );
    }
    let _ = writeln!(
        y,
        "  download_size: {}",
        splits.iter().map(|s| s.parquet_bytes).sum::<u64>()
    );
    let _ = writeln!(
        y,
        "  dataset_size: {}",
        splits.iter().map(|s| s.num_bytes).sum::<u64>()
    );
    y.push_str("---\n\n");
    y
}

fn size_category(n: u64) -> &'static str {
    match n {
        0..=999 => "n<1K",
        1_000..=9_999 => "1K<n<10K",
        10_000..=99_999 => "10K<n<100K",
        100_000..=999_999 => "100K<n<1M",
        _ => "1M<n<10M",
    }
}

/// The terms every card states: the source data and how to cite it.
pub const TERMS: &str = "## Terms\n\n\
The source data is the Amazon Reviews 2023 metadata published by the McAuley Lab, UC San Diego, for \
research use (Hou et al., *Bridging Language and Items for Retrieval and Recommendation*, 2024, \
arXiv:2403.03952). Product texts and prices remain subject to Amazon's terms; use this dataset for \
research and cite the source:\n\n\
```bibtex\n@article{hou2024bridging,\n  title={Bridging Language and Items for Retrieval and Recommendation},\n  \
author={Hou, Yupeng and Li, Jiacheng and He, Zhankui and Yan, An and Chen, Xiusi and McAuley, Julian},\n  \
journal={arXiv preprint arXiv:2403.03952},\n  year={2024}\n}\n```\n";
