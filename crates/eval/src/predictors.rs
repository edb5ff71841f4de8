//! The baselines and predictions made elsewhere: each gives an answer per test item, in
//! test order, and the rows of a file that give none, with reasons.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::Path;

use anyhow::{bail, Context, Result};
use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Float64Type, Int64Type};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use pricer_pycompat::random::PyRandom;
use serde::Serialize;

use crate::score::Answer;

/// A row of a predictions file that gives no answer, or an item it gives none for.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reject {
    /// `line N`, `row N` (from 1) or `item N` (from 0, for a missing one).
    pub at: String,
    pub reason: &'static str,
    pub detail: String,
}

/// What a predictor gave for `size` items.
#[derive(Debug, Clone, Default)]
pub struct Predicted {
    /// One per item; None where a file had none (scored as an empty answer, as the
    /// course scores an answer without a number).
    pub answers: Vec<Option<Answer>>,
    pub rejects: Vec<Reject>,
    /// Requests this run sent (an endpoint's; answers from the cache are not calls).
    pub calls: u64,
    /// What the answers this run received cost, in dollars.
    pub cost: f64,
}

impl Predicted {
    /// Answers that need no file and no endpoint.
    pub fn of(answers: Vec<Option<Answer>>) -> Predicted {
        Predicted {
            answers,
            ..Predicted::default()
        }
    }
}

/// `random.seed(seed)`, then `random.randrange(1, 1000)` for each of `size` items.
pub fn random(seed: u64, size: usize) -> Vec<Option<Answer>> {
    let mut r = PyRandom::seed(seed);
    (0..size)
        .map(|_| Some(Answer::Number((1 + r.randbelow(999)) as f64)))
        .collect()
}

/// The same value for every item.
pub fn constant(value: f64, size: usize) -> Vec<Option<Answer>> {
    vec![Some(Answer::Number(value)); size]
}

/// The predictions of a JSON-lines, CSV or Parquet file for `size` items.
pub fn from_file(path: &Path, size: usize) -> Result<Predicted> {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let mut found: BTreeMap<u64, Answer> = BTreeMap::new();
    let mut rejects = Vec::new();
    let mut keep = |at: String, row: Result<(i64, Answer), (&'static str, String)>| match row {
        Err((reason, detail)) => rejects.push(Reject { at, reason, detail }),
        Ok((item, _)) if item < 0 => rejects.push(Reject {
            at,
            reason: "item_negative",
            detail: format!("item {item}"),
        }),
        Ok((item, answer)) => match found.entry(item as u64) {
            std::collections::btree_map::Entry::Occupied(_) => rejects.push(Reject {
                at,
                reason: "item_repeated",
                detail: format!("item {item} again; the first is kept"),
            }),
            std::collections::btree_map::Entry::Vacant(v) => {
                v.insert(answer);
            }
        },
    };
    match ext.as_str() {
        "jsonl" | "json" | "ndjson" => read_jsonl(path, &mut keep)?,
        "csv" => read_csv(path, &mut keep)?,
        // The parquet and arrow crates still assert on some damaged files.
        "parquet" => {
            pricer_core::contain::contain(path, "Parquet", || read_parquet(path, &mut keep))?
        }
        _ => bail!(
            "{}: predictions must be JSON lines (.jsonl), CSV (.csv) or Parquet (.parquet)",
            path.display()
        ),
    }
    let mut answers = Vec::with_capacity(size);
    for i in 0..size as u64 {
        let a = found.remove(&i);
        if a.is_none() {
            rejects.push(Reject {
                at: format!("item {i}"),
                reason: "missing",
                detail: "no prediction for this test item".into(),
            });
        }
        answers.push(a);
    }
    Ok(Predicted {
        answers,
        rejects,
        ..Predicted::default()
    })
}

type Row = Result<(i64, Answer), (&'static str, String)>;

fn json_row(line: &str) -> Row {
    let v: serde_json::Value =
        serde_json::from_str(line).map_err(|e| ("not_json", e.to_string()))?;
    let item = v["item"]
        .as_i64()
        .ok_or(("item_missing", "no integer `item`".to_owned()))?;
    let answer = match &v["prediction"] {
        serde_json::Value::String(s) => Answer::Text(s.clone()),
        serde_json::Value::Number(n) => Answer::Number(n.as_f64().unwrap_or(f64::NAN)),
        _ => {
            return Err((
                "prediction_missing",
                "no `prediction` string or number".into(),
            ))
        }
    };
    Ok((item, answer))
}

fn read_jsonl(path: &Path, keep: &mut impl FnMut(String, Row)) -> Result<()> {
    let text = std::fs::read(path).with_context(|| format!("{}: cannot read", path.display()))?;
    for (n, line) in text.split(|&b| b == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let row = std::str::from_utf8(line)
            .map_err(|e| ("not_utf8", e.to_string()))
            .and_then(json_row);
        keep(format!("line {}", n + 1), row);
    }
    Ok(())
}

fn read_csv(path: &Path, keep: &mut impl FnMut(String, Row)) -> Result<()> {
    let mut r = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .with_context(|| format!("{}: cannot read", path.display()))?;
    let headers = r
        .headers()
        .with_context(|| format!("{}: no header line", path.display()))?
        .clone();
    let col = |name: &str| headers.iter().position(|h| h.trim() == name);
    let (Some(item), Some(prediction)) = (col("item"), col("prediction")) else {
        bail!(
            "{}: the header needs columns `item` and `prediction`",
            path.display()
        );
    };
    for (n, rec) in r.records().enumerate() {
        let at = format!("line {}", n + 2);
        let row = rec.map_err(|e| ("not_csv", e.to_string())).and_then(|rec| {
            let i = rec
                .get(item)
                .and_then(|s| s.trim().parse::<i64>().ok())
                .ok_or(("item_missing", "no integer `item`".to_owned()))?;
            let p = rec
                .get(prediction)
                .ok_or(("prediction_missing", "no `prediction` cell".to_owned()))?;
            Ok((i, Answer::Text(p.to_owned())))
        });
        keep(at, row);
    }
    Ok(())
}

fn read_parquet(path: &Path, keep: &mut impl FnMut(String, Row)) -> Result<()> {
    let f = File::open(path).with_context(|| format!("{}: cannot open", path.display()))?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(f)
        .with_context(|| format!("{}: not a Parquet file", path.display()))?
        .build()?;
    let mut row = 0u64;
    for batch in reader {
        let batch = batch.with_context(|| format!("{}: cannot read", path.display()))?;
        let (Some(items), Some(preds)) = (
            batch.column_by_name("item"),
            batch.column_by_name("prediction"),
        ) else {
            bail!("{}: needs columns `item` and `prediction`", path.display());
        };
        let items = arrow::compute::cast(items, &DataType::Int64)
            .with_context(|| format!("{}: column item is not an integer", path.display()))?;
        let items = items.as_primitive::<Int64Type>();
        let text = matches!(
            preds.data_type(),
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
        );
        let target = if text {
            DataType::LargeUtf8
        } else {
            DataType::Float64
        };
        let preds = arrow::compute::cast(preds, &target).with_context(|| {
            format!(
                "{}: column prediction is neither text nor a number",
                path.display()
            )
        })?;
        for i in 0..batch.num_rows() {
            row += 1;
            let answer = if preds.is_null(i) {
                None
            } else if text {
                Some(Answer::Text(preds.as_string::<i64>().value(i).to_owned()))
            } else {
                Some(Answer::Number(preds.as_primitive::<Float64Type>().value(i)))
            };
            let r = match (items.is_valid(i), answer) {
                (false, _) => Err(("item_missing", "a null item".to_owned())),
                (true, None) => Err(("prediction_missing", "a null prediction".to_owned())),
                (true, Some(a)) => Ok((items.value(i), a)),
            };
            keep(format!("row {row}"), r);
        }
    }
    Ok(())
}
