//! Summaries someone already made, so part 3 runs without any LLM: a Hub-layout folder
//! such as the published `items_lite` (`data/<split>-*.parquet`, columns title, category,
//! price, full, weight, summary) or JSON lines with a `split` field (and `price`,
//! `summary`; the other columns optional).

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{DataType, Float64Type};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use pricer_core::SummarizedItem;

/// The split a name means (`val` and `valid` are validation).
pub fn split_index(name: &str) -> Option<usize> {
    match name {
        "train" => Some(0),
        "validation" | "val" | "valid" => Some(1),
        "test" => Some(2),
        _ => None,
    }
}

/// The files a source holds, in reading order.
pub fn files(from: &Path) -> Result<Vec<PathBuf>> {
    if from.is_file() {
        return Ok(vec![from.to_owned()]);
    }
    let data = from.join("data");
    let dir = if data.is_dir() { data } else { from.to_owned() };
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .with_context(|| {
            format!(
                "{}: cannot list (expected a Hub dataset folder or a JSON-lines file)",
                dir.display()
            )
        })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "parquet"))
        .collect();
    out.sort();
    if out.is_empty() {
        bail!("{}: no data/*.parquet files", from.display());
    }
    Ok(out)
}

/// Every item of the source, each with its split (0 train, 1 validation, 2 test).
pub fn read(from: &Path, mut emit: impl FnMut(usize, SummarizedItem) -> Result<()>) -> Result<()> {
    for file in files(from)? {
        if file.extension().is_some_and(|x| x == "parquet") {
            let name = file
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            let split = name
                .split('-')
                .next()
                .and_then(split_index)
                .with_context(|| {
                    format!(
                        "{}: the file name does not start with a split (train, validation, test)",
                        file.display()
                    )
                })?;
            read_parquet(&file, |item| emit(split, item))?;
        } else {
            read_jsonl(&file, &mut emit)?;
        }
    }
    Ok(())
}

fn string_column<'a>(
    batch: &'a RecordBatch,
    name: &str,
    file: &Path,
    required: bool,
) -> Result<Option<Vec<Option<&'a str>>>> {
    let Some(col) = batch.column_by_name(name) else {
        if required {
            bail!("{}: no column {name}", file.display());
        }
        return Ok(None);
    };
    Ok(Some(match col.data_type() {
        DataType::Utf8 => col.as_string::<i32>().iter().collect(),
        DataType::LargeUtf8 => col.as_string::<i64>().iter().collect(),
        DataType::Null => vec![None; col.len()],
        other => bail!("{}: column {name} is {other}, not a string", file.display()),
    }))
}

fn float_column(
    batch: &RecordBatch,
    name: &str,
    file: &Path,
    required: bool,
) -> Result<Option<Vec<Option<f64>>>> {
    let Some(col) = batch.column_by_name(name) else {
        if required {
            bail!("{}: no column {name}", file.display());
        }
        return Ok(None);
    };
    let col = arrow::compute::cast(col, &DataType::Float64)
        .with_context(|| format!("{}: column {name} is not a number", file.display()))?;
    Ok(Some(col.as_primitive::<Float64Type>().iter().collect()))
}

fn read_parquet(file: &Path, mut emit: impl FnMut(SummarizedItem) -> Result<()>) -> Result<()> {
    let f = File::open(file).with_context(|| format!("{}: cannot open", file.display()))?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(f)
        .with_context(|| format!("{}: not a Parquet file", file.display()))?
        .build()?;
    for batch in reader {
        let batch = batch.with_context(|| format!("{}: cannot read", file.display()))?;
        let summary = string_column(&batch, "summary", file, true)?.expect("required");
        let price = float_column(&batch, "price", file, true)?.expect("required");
        let title = string_column(&batch, "title", file, false)?;
        let category = string_column(&batch, "category", file, false)?;
        let full = string_column(&batch, "full", file, false)?;
        let weight = float_column(&batch, "weight", file, false)?;
        for i in 0..batch.num_rows() {
            let text = |c: &Option<Vec<Option<&str>>>| {
                c.as_ref().and_then(|c| c[i]).unwrap_or_default().to_owned()
            };
            let (Some(summary), Some(price)) = (summary[i], price[i]) else {
                bail!("{}: row {i} has no summary or no price", file.display());
            };
            emit(SummarizedItem {
                title: text(&title),
                category: text(&category),
                price,
                full: text(&full),
                weight: weight.as_ref().and_then(|w| w[i]).unwrap_or(0.0),
                summary: summary.to_owned(),
            })?;
        }
    }
    Ok(())
}

/// JSON lines, read with Python's `json.loads` semantics (prices exactly as Python
/// parses them).
fn read_jsonl(
    file: &Path,
    emit: &mut impl FnMut(usize, SummarizedItem) -> Result<()>,
) -> Result<()> {
    use pricer_pycompat::json::{loads, Value};
    let f = File::open(file).with_context(|| format!("{}: cannot open", file.display()))?;
    for (n, line) in BufReader::new(f).lines().enumerate() {
        let at = || format!("{}: line {}", file.display(), n + 1);
        let line = line.with_context(at)?;
        if line.trim().is_empty() {
            continue;
        }
        let Value::Object(fields) = loads(&line).with_context(at)? else {
            bail!("{}: not a JSON object", at());
        };
        let get = |k: &str| {
            fields
                .iter()
                .find(|(n, _)| n.as_bytes() == k.as_bytes())
                .map(|(_, v)| v)
        };
        let text = |k: &str| match get(k) {
            Some(Value::Str(s)) => s.as_str().map(str::to_owned),
            _ => None,
        };
        let number = |k: &str| match get(k) {
            Some(Value::Float(x)) => Some(*x),
            Some(Value::Int(d)) => pricer_pycompat::float::parse_float(d),
            _ => None,
        };
        let split = text("split")
            .as_deref()
            .and_then(split_index)
            .with_context(|| format!("{}: no split (train, validation, test)", at()))?;
        let summary = text("summary").with_context(|| format!("{}: no summary string", at()))?;
        let price = number("price").with_context(|| format!("{}: no numeric price", at()))?;
        emit(
            split,
            SummarizedItem {
                title: text("title").unwrap_or_default(),
                category: text("category").unwrap_or_default(),
                price,
                full: text("full").unwrap_or_default(),
                weight: number("weight").unwrap_or(0.0),
                summary,
            },
        )?;
    }
    Ok(())
}
