//! A published test split: a dataset folder in the Hub's layout, as pricer's export
//! writes it and the course publishes it (`data/test-*.parquet`, `data/train-*.parquet`).
//!
//! The truth is the `price` column, or else the number a test `completion` holds (V2's
//! items_prompts write `str(price)` there). The prompt is `text` (V1) or `prompt` (V2),
//! the summary `summary` (V2's items), the title `title`, or else the line the prompt's
//! body starts with. A folder with `text` is recipe V1's, any other V2's.

use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use arrow::datatypes::{DataType, Float64Type};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use pricer_core::contain::contain;
use pricer_core::recipe::Recipe;
use pricer_pycompat::float::parse_float;

use crate::data::TestItem;

/// The Parquet files of one split (`test` or `train`), in order.
fn split_files(dir: &Path, split: &str) -> Result<Vec<PathBuf>> {
    let data = dir.join("data");
    let mut out: Vec<PathBuf> = std::fs::read_dir(&data)
        .with_context(|| {
            format!(
                "{}: cannot list (expected a Hub dataset folder with data/*.parquet)",
                data.display()
            )
        })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            name.starts_with(&format!("{split}-")) && name.ends_with(".parquet")
        })
        .collect();
    out.sort();
    Ok(out)
}

/// The files the evaluation reads: the test split's and the training split's.
pub fn files(dir: &Path) -> Result<Vec<PathBuf>> {
    let test = split_files(dir, "test")?;
    if test.is_empty() {
        bail!(
            "{}: no data/test-*.parquet files: the evaluation scores a test split",
            dir.display()
        );
    }
    Ok(test.into_iter().chain(split_files(dir, "train")?).collect())
}

/// Every batch of a split's files, with the file each comes from.
fn batches(
    files: &[PathBuf],
    mut each: impl FnMut(&Path, &RecordBatch) -> Result<bool>,
) -> Result<()> {
    for path in files {
        // The parquet and arrow crates still assert on some damaged files.
        let more = contain(path, "Parquet", || {
            let f = File::open(path).with_context(|| format!("{}: cannot open", path.display()))?;
            let reader = ParquetRecordBatchReaderBuilder::try_new(f)
                .with_context(|| format!("{}: not a Parquet file", path.display()))?
                .build()?;
            for batch in reader {
                let batch = batch.with_context(|| format!("{}: cannot read", path.display()))?;
                if !each(path, &batch)? {
                    return Ok(false);
                }
            }
            Ok(true)
        })?;
        if !more {
            break;
        }
    }
    Ok(())
}

/// The recipe a published split is from: V1 when its test files have a `text` column.
pub fn recipe(dir: &Path) -> Result<Recipe> {
    let mut v1 = false;
    batches(&files(dir)?[..1], |_, b| {
        v1 = b.column_by_name("text").is_some();
        Ok(false)
    })?;
    Ok(if v1 { Recipe::V1 } else { Recipe::V2 })
}

fn text(b: &RecordBatch, name: &str, path: &Path) -> Result<Option<ArrayRef>> {
    b.column_by_name(name)
        .map(|c| {
            arrow::compute::cast(c, &DataType::LargeUtf8)
                .with_context(|| format!("{}: column {name} is not text", path.display()))
        })
        .transpose()
}

fn number(b: &RecordBatch, name: &str, path: &Path) -> Result<Option<ArrayRef>> {
    b.column_by_name(name)
        .map(|c| {
            arrow::compute::cast(c, &DataType::Float64)
                .with_context(|| format!("{}: column {name} is not a number", path.display()))
        })
        .transpose()
}

fn cell(c: &Option<ArrayRef>, i: usize) -> Option<&str> {
    c.as_ref()
        .filter(|c| c.is_valid(i))
        .map(|c| c.as_string::<i64>().value(i))
}

/// Each row's price: the `price` column, else a test `completion`'s number.
fn prices(b: &RecordBatch, path: &Path, completions: bool) -> Result<Vec<f64>> {
    let price = number(b, "price", path)?;
    let completion = if completions {
        text(b, "completion", path)?
    } else {
        None
    };
    (0..b.num_rows())
        .map(|i| {
            let p = match &price {
                Some(c) if c.is_valid(i) => Some(c.as_primitive::<Float64Type>().value(i)),
                Some(_) => None,
                None => cell(&completion, i).and_then(parse_float),
            };
            p.with_context(|| {
                let has = if price.is_some() {
                    "a null price"
                } else {
                    "no price column and no completion holding a number"
                };
                format!("{}: row {}: {has}", path.display(), i + 1)
            })
        })
        .collect()
}

/// The first `want` test items.
pub fn test_items(dir: &Path, want: usize) -> Result<Vec<TestItem>> {
    let mut out = Vec::new();
    batches(&split_files(dir, "test")?, |path, b| {
        let prompt = match text(b, "text", path)? {
            Some(c) => Some(c),
            None => text(b, "prompt", path)?,
        };
        let (title, summary) = (text(b, "title", path)?, text(b, "summary", path)?);
        if prompt.is_none() && title.is_none() {
            bail!(
                "{}: neither a prompt (`text`, `prompt`) nor a `title` column",
                path.display()
            );
        }
        let truths = prices(b, path, true)?;
        for (i, truth) in truths.into_iter().enumerate().take(want - out.len()) {
            let prompt = cell(&prompt, i).unwrap_or_default().to_owned();
            let title = cell(&title, i).map_or_else(|| title_of(&prompt), str::to_owned);
            out.push(TestItem {
                title,
                truth,
                prompt,
                summary: cell(&summary, i).map(str::to_owned),
            });
        }
        Ok(out.len() < want)
    })?;
    Ok(out)
}

/// The training prices, for the constant baseline: the `price` column (items_prompts
/// round theirs, so a folder without one cannot give the course's mean).
pub fn train_prices(dir: &Path) -> Result<Vec<f64>> {
    let files = split_files(dir, "train")?;
    if files.is_empty() {
        bail!("{}: no data/train-*.parquet files: the constant baseline needs the training prices; give it a `value`", dir.display());
    }
    let mut out = Vec::new();
    batches(&files, |path, b| {
        if b.column_by_name("price").is_none() {
            bail!(
                "{}: no price column: the constant baseline's mean needs the training prices as they are \
                 (items_prompts round them); point at the items folder, or give the baseline a `value`",
                path.display()
            );
        }
        out.extend(prices(b, path, false)?);
        Ok(true)
    })?;
    Ok(out)
}

/// The first line of a prompt's body (after the question and its blank line).
fn title_of(prompt: &str) -> String {
    let body = prompt.split_once("\n\n").map_or(prompt, |(_, b)| b);
    body.lines().next().unwrap_or_default().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_title_is_the_bodys_first_line() {
        assert_eq!(title_of("How much?\n\nLamp\nBright\n\nPrice is $"), "Lamp");
        assert_eq!(title_of("Lamp"), "Lamp");
        assert_eq!(title_of(""), "");
    }
}
