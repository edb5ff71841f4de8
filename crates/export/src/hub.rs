//! Hub dataset folders for any record type: a split's records (or the first N of them)
//! as Parquet shards `data/<split>-0000i-of-0000N.parquet`, as many and as cut as
//! `datasets.push_to_hub` makes them for a given shard size, and the dataset card's YAML
//! header.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{ensure, Context, Result};
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
    /// Arrow in-memory bytes of one row (offsets, data, values), as pyarrow's `nbytes`
    /// counts them: the card's `num_bytes` and the shard count come from their sum.
    fn row_bytes(&self, r: &Self::Record) -> u64;
    /// One batch of records as columns.
    fn columns(&self, rows: &[Self::Record]) -> Vec<ArrayRef>;
}

/// Writes the first `limit` records of `src` (all with `None`) as `split`'s shards under
/// `folder/data/`. Two passes: sizes first, to name the shards `-of-0000N`. A split with
/// no records is left out (None), with a warning.
pub fn write_split<T: Table>(
    table: &T,
    split: &str,
    src: &Path,
    folder: &Path,
    max_shard_bytes: u64,
    limit: Option<u64>,
) -> Result<Option<SplitInfo>> {
    let limit = limit.unwrap_or(u64::MAX);
    // `num_bytes` is what `datasets` writes on the card: pyarrow's `Table.nbytes`, which
    // (since pyarrow 13) counts a string column's offsets as 4 bytes per row, not per row + 1.
    let (mut rows, mut num_bytes) = (0u64, 0u64);
    for r in ArtifactReader::<T::Record>::open(src)?.take(limit as usize) {
        rows += 1;
        num_bytes += table.row_bytes(&r?);
    }
    if rows == 0 {
        // `datasets` cannot load a split without files ("Instruction ... corresponds to
        // no data"), and one with an empty file has no schema it agrees on: left out.
        eprintln!(
            "export: warning: {}: the {split} split holds no items; it is left out of {}",
            src.display(),
            folder.display()
        );
        return Ok(None);
    }
    let per_shard = shard_rows(rows, num_bytes, max_shard_bytes)
        .with_context(|| format!("{}: the {split} split", src.display()))?;
    let shards = per_shard.len();
    let mut files = Vec::new();
    let mut parquet_bytes = 0;
    let mut reader = ArtifactReader::<T::Record>::open(src)?;
    for (shard, &rows_in_shard) in per_shard.iter().enumerate() {
        let name = format!("{split}-{shard:05}-of-{shards:05}.parquet");
        let mut w = TableWriter::create(&folder.join("data").join(&name), table.schema())?;
        let mut left = rows_in_shard;
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
    Ok(Some(SplitInfo {
        name: split.to_owned(),
        rows,
        num_bytes,
        files,
        parquet_bytes,
    }))
}

/// Rows in each shard, as `datasets.push_to_hub` cuts a split: `int(num_bytes /
/// max_shard_size) + 1` shards (Python's true division), then `Dataset.shard(n, i,
/// contiguous=True)`: the first `rows % n` shards hold one row more. A size so small that
/// some shards would be empty is refused (`datasets` would write them).
pub fn shard_rows(rows: u64, num_bytes: u64, max_shard_bytes: u64) -> Result<Vec<u64>> {
    ensure!(
        max_shard_bytes > 0,
        "max_shard_bytes must be at least 1 (datasets divides by it)"
    );
    let n = (num_bytes as f64 / max_shard_bytes as f64) as u64 + 1;
    ensure!(
        n <= rows.max(1),
        "max_shard_bytes = {max_shard_bytes} would cut {rows} rows ({num_bytes} bytes) into \
         {n} shards, some of them empty; raise it"
    );
    let (div, rem) = (rows / n, rows % n);
    Ok((0..n).map(|i| div + u64::from(i < rem)).collect())
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

#[cfg(test)]
mod tests {
    use super::shard_rows;

    #[test]
    fn shards_are_cut_as_datasets_cuts_them() {
        // (rows, num_bytes, max_shard_bytes) -> rows per shard, from `datasets` 5.2:
        // `int(nbytes / max) + 1` shards, `Dataset.shard(n, i, contiguous=True)`.
        for (rows, bytes, max, want) in [
            (10, 1000, 500, vec![4, 3, 3]),
            (10, 999, 500, vec![5, 5]),
            (10, 1001, 500, vec![4, 3, 3]),
            (1028, 400_000, 200_000, vec![343, 343, 342]),
            (7, 0, 1, vec![7]),
            (0, 4, 500_000_000, vec![0]),
            (3, 2, 1, vec![1, 1, 1]),
            (800, 700_000, 200_000, vec![200, 200, 200, 200]),
        ] {
            assert_eq!(
                shard_rows(rows, bytes, max).unwrap(),
                want,
                "{rows} {bytes} {max}"
            );
        }
    }

    #[test]
    fn sizes_that_leave_shards_empty_are_refused() {
        let e = shard_rows(5, 10_000_000_000_000_001, 1_000_000_000_000_000).unwrap_err();
        assert!(e.to_string().contains("into 11 shards"), "{e}");
        let e = shard_rows(500, 300_000, 0).unwrap_err();
        assert!(e.to_string().contains("at least 1"), "{e}");
    }
}
