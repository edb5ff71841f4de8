//! Summaries someone already made, so part 3 runs without any LLM: a Hub-layout folder
//! such as the published `items_lite` (`data/<split>-*.parquet`, columns title, category,
//! price, full, weight, summary) or JSON lines with a `split` field (and `price`,
//! `summary`; the other columns optional).

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use arrow::datatypes::{DataType, Float64Type};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use pricer_core::contain::contain;
use pricer_core::jsonl::{read_line_capped, LineRead, MAX_LINE_BYTES};
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

/// A row of the source that gives no item (the file goes on): which file, where in it
/// (`line` for JSON lines, `row` for Parquet, counting from 1), and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Reject {
    pub file: String,
    pub place: &'static str,
    pub at: u64,
    pub reason: &'static str,
    pub detail: String,
}

impl Reject {
    fn new(file: &Path, place: &'static str, at: u64, reason: &'static str) -> Self {
        Reject {
            file: file.display().to_string(),
            place,
            at,
            reason,
            detail: String::new(),
        }
    }

    fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = detail.into();
        self
    }

    /// Its `rejects.jsonl` line: V1 ingest's form (serde_json, compact, keys sorted),
    /// with `row` in place of `line` for Parquet rows.
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({"file": self.file, self.place: self.at, "reason": self.reason, "detail": self.detail})
    }
}

/// The optional columns a row had (`title`, `category`, `full`, `weight`): a column the
/// row lacks is empty (0 for `weight`) in its item, and must not be published as data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Has(u8);

impl Has {
    /// The optional columns, in the published order.
    pub const OPTIONAL: [&'static str; 4] = ["title", "category", "full", "weight"];
    pub const ALL: Has = Has(0b1111);
    pub const NONE: Has = Has(0);

    fn of(present: [bool; 4]) -> Has {
        Has(present
            .iter()
            .enumerate()
            .fold(0, |m, (i, &p)| m | (u8::from(p) << i)))
    }

    pub fn has(self, column: &str) -> bool {
        Self::OPTIONAL
            .iter()
            .position(|c| *c == column)
            .is_none_or(|i| self.0 & (1 << i) != 0)
    }

    /// The columns both have.
    pub fn and(self, other: Has) -> Has {
        Has(self.0 & other.0)
    }

    /// The optional columns present, by name.
    pub fn names(self) -> Vec<&'static str> {
        Self::OPTIONAL.into_iter().filter(|c| self.has(c)).collect()
    }

    /// Every column an item of these rows has, in the published order (items_raw's
    /// columns, then `summary`).
    pub fn columns(self) -> Vec<&'static str> {
        ["title", "category", "price", "full", "weight", "summary"]
            .into_iter()
            .filter(|c| self.has(c))
            .collect()
    }
}

/// One row of the source: an item with its split (0 train, 1 validation, 2 test) and the
/// optional columns it had, or a reject.
pub type Row = std::result::Result<(usize, SummarizedItem, Has), Reject>;

/// A row's price as part 3 can use it: `round()` raises in Python on NaN and infinities,
/// and a test item without a finite price cannot be scored.
fn finite(price: f64, reject: impl FnOnce() -> Reject) -> std::result::Result<f64, Reject> {
    if price.is_finite() {
        Ok(price)
    } else {
        Err(reject().detail(format!("price {price}")))
    }
}

/// Every row of the source, in order. A damaged or unreadable file stops with its path;
/// a bad row is a [`Reject`] and the file goes on.
pub fn read(from: &Path, mut emit: impl FnMut(Row) -> Result<()>) -> Result<()> {
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
            read_parquet(&file, |row| emit(row.map(|(item, has)| (split, item, has))))?;
        } else {
            read_jsonl(&file, &mut emit)?;
        }
    }
    Ok(())
}

/// A string column as `LargeUtf8`: plain, large, view and dictionary-encoded strings (as
/// pandas writes a categorical column) are all read; anything else stops the file.
fn string_column(
    batch: &RecordBatch,
    name: &str,
    file: &Path,
    required: bool,
) -> Result<Option<ArrayRef>> {
    let Some(col) = batch.column_by_name(name) else {
        if required {
            bail!("{}: no column {name}", file.display());
        }
        return Ok(None);
    };
    let text = |t: &DataType| {
        matches!(
            t,
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null
        )
    };
    let readable = match col.data_type() {
        DataType::Dictionary(_, values) => text(values),
        t => text(t),
    };
    if !readable {
        bail!(
            "{}: column {name} is {}, not a string",
            file.display(),
            col.data_type()
        );
    }
    Ok(Some(
        arrow::compute::cast(col, &DataType::LargeUtf8)
            .with_context(|| format!("{}: column {name} cannot be read as text", file.display()))?,
    ))
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

/// A Parquet row's item and the optional columns it had, or why it gives none.
type ParquetRow = std::result::Result<(SummarizedItem, Has), Reject>;

fn read_parquet(file: &Path, mut emit: impl FnMut(ParquetRow) -> Result<()>) -> Result<()> {
    // The parquet and arrow crates still assert on some damaged files: every call into
    // them is contained, so such a file stops with its path instead of a panic.
    let mut reader = contain(file, "Parquet", || {
        let f = File::open(file).with_context(|| format!("{}: cannot open", file.display()))?;
        Ok(ParquetRecordBatchReaderBuilder::try_new(f)
            .with_context(|| format!("{}: not a Parquet file", file.display()))?
            .build()?)
    })?;
    let mut row = 0;
    while let Some(items) = contain(file, "Parquet", || {
        reader
            .next()
            .map(|batch| {
                let batch = batch.with_context(|| format!("{}: cannot read", file.display()))?;
                batch_rows(&batch, file, row)
            })
            .transpose()
    })? {
        row += items.len() as u64;
        items.into_iter().try_for_each(&mut emit)?;
    }
    Ok(())
}

/// The rows of one record batch whose first row is row `first` (from 0) of the file.
fn batch_rows(batch: &RecordBatch, file: &Path, first: u64) -> Result<Vec<ParquetRow>> {
    let summary = string_column(batch, "summary", file, true)?.expect("required");
    let price = float_column(batch, "price", file, true)?.expect("required");
    let title = string_column(batch, "title", file, false)?;
    let category = string_column(batch, "category", file, false)?;
    let full = string_column(batch, "full", file, false)?;
    let weight = float_column(batch, "weight", file, false)?;
    let cell = |c: &ArrayRef, i: usize| {
        let c = c.as_string::<i64>();
        c.is_valid(i).then(|| c.value(i).to_owned())
    };
    let text = |c: &Option<ArrayRef>, i| c.as_ref().and_then(|c| cell(c, i));
    Ok((0..batch.num_rows())
        .map(|i| {
            let reject = |reason| Reject::new(file, "row", first + i as u64 + 1, reason);
            let summary = cell(&summary, i).ok_or_else(|| reject("summary_missing"))?;
            let price = price[i].ok_or_else(|| reject("price_missing"))?;
            let (title, category, full) = (text(&title, i), text(&category, i), text(&full, i));
            let weight = weight.as_ref().and_then(|w| w[i]);
            let has = Has::of([
                title.is_some(),
                category.is_some(),
                full.is_some(),
                weight.is_some(),
            ]);
            let item = SummarizedItem {
                title: title.unwrap_or_default(),
                category: category.unwrap_or_default(),
                price: finite(price, || reject("price_not_finite"))?,
                full: full.unwrap_or_default(),
                weight: weight.unwrap_or(0.0),
                summary,
            };
            Ok((item, has))
        })
        .collect())
}

/// JSON lines, read with Python's `json.loads` semantics (prices exactly as Python
/// parses them). A line that is not UTF-8, not JSON or not an object is a reject.
fn read_jsonl(file: &Path, emit: &mut impl FnMut(Row) -> Result<()>) -> Result<()> {
    let f = File::open(file).with_context(|| format!("{}: cannot open", file.display()))?;
    let mut lines = BufReader::new(f);
    let mut buf = Vec::new();
    for n in 1.. {
        let read = read_line_capped(&mut lines, &mut buf, MAX_LINE_BYTES)
            .with_context(|| format!("{}: line {n}: cannot read", file.display()))?;
        let reject = |reason| Reject::new(file, "line", n, reason);
        let row = match read {
            LineRead::End => break,
            LineRead::TooLong(bytes) => Err(reject("line_too_long").detail(format!(
                "line of {bytes} bytes exceeds {MAX_LINE_BYTES} bytes"
            ))),
            LineRead::Line => match std::str::from_utf8(&buf) {
                Err(e) => Err(reject("not_utf8").detail(e.to_string())),
                Ok(line) if line.trim().is_empty() => continue,
                Ok(line) => json_row(line, reject),
            },
        };
        emit(row)?;
    }
    Ok(())
}

/// One JSON line's item, or why it gives none.
fn json_row(line: &str, reject: impl Fn(&'static str) -> Reject) -> Row {
    use pricer_pycompat::json::{loads, Value};
    let fields = match loads(line.trim_end_matches(['\n', '\r'])) {
        Ok(Value::Object(fields)) => fields,
        Ok(_) => return Err(reject("not_an_object")),
        Err(e) => return Err(reject("not_json").detail(e.to_string())),
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
    let split = text("split");
    let split = split.as_deref().and_then(split_index).ok_or_else(|| {
        reject("split_missing")
            .detail(split.map_or("no split string".into(), |s| format!("split {s:?}")))
    })?;
    let summary = text("summary").ok_or_else(|| reject("summary_missing"))?;
    let price = number("price").ok_or_else(|| reject("price_missing"))?;
    let (title, category, full) = (text("title"), text("category"), text("full"));
    let weight = number("weight");
    let has = Has::of([
        title.is_some(),
        category.is_some(),
        full.is_some(),
        weight.is_some(),
    ]);
    let item = SummarizedItem {
        title: title.unwrap_or_default(),
        category: category.unwrap_or_default(),
        price: finite(price, || reject("price_not_finite"))?,
        full: full.unwrap_or_default(),
        weight: weight.unwrap_or(0.0),
        summary,
    };
    Ok((split, item, has))
}
