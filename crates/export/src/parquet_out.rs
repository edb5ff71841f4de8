//! Parquet files as the Hub and `datasets` expect them.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};
use arrow::array::{ArrayRef, Float64Array, RecordBatch, StringArray, UInt32Array};
use arrow::datatypes::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use pricer_core::atomic::AtomicFile;
use pricer_core::Item;

/// Rows per row group: about 8 MB of prompts, small enough for the Hub's viewer and for
/// readers that load a group at a time. A writer holds its open group in memory, and
/// export writes three files at once: 50,000 rows cost ~65 MB more at the peak.
pub const ROW_GROUP_ROWS: usize = 10_000;
/// Rows per Arrow batch handed to the writer (the writer encodes 1,024 rows at a time
/// anyway; bigger batches only hold more text in memory).
pub const BATCH_ROWS: usize = 1_024;
pub const ZSTD_LEVEL: i32 = 3;

/// The `huggingface` schema metadata `datasets` writes, so features survive a round trip.
pub fn hf_features_metadata(features: &[(&str, &str)]) -> String {
    let feats: serde_json::Map<String, serde_json::Value> = features
        .iter()
        .map(|(name, dtype)| {
            (
                (*name).to_owned(),
                serde_json::json!({"dtype": dtype, "_type": "Value"}),
            )
        })
        .collect();
    serde_json::json!({"info": {"features": feats}}).to_string()
}

fn props() -> Result<WriterProperties> {
    Ok(WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(ZSTD_LEVEL)?))
        .set_max_row_group_size(ROW_GROUP_ROWS)
        .set_created_by(format!("pricer {}", env!("CARGO_PKG_VERSION")))
        .build())
}

/// Writes Parquet through an [`AtomicFile`]: nothing under the name until
/// [`TableWriter::finish`].
pub struct TableWriter {
    writer: ArrowWriter<AtomicFile>,
    schema: Arc<Schema>,
}

impl TableWriter {
    pub fn create(path: &Path, schema: Schema) -> Result<Self> {
        let file = AtomicFile::create(path)?;
        let schema = Arc::new(schema);
        let writer = ArrowWriter::try_new(file, schema.clone(), Some(props()?))
            .with_context(|| format!("{}: cannot start a Parquet file", path.display()))?;
        Ok(TableWriter { writer, schema })
    }

    pub fn write(&mut self, columns: Vec<ArrayRef>) -> Result<()> {
        let batch = RecordBatch::try_new(self.schema.clone(), columns)?;
        let tmp = self.writer.inner().tmp_path().to_owned();
        self.writer
            .write(&batch)
            .with_context(|| format!("{}: write failed", tmp.display()))
    }

    /// Closes the file and renames it into place; returns its size in bytes.
    pub fn finish(self) -> Result<u64> {
        let tmp = self.writer.inner().tmp_path().to_owned();
        let file = self
            .writer
            .into_inner()
            .with_context(|| format!("{}: write failed", tmp.display()))?;
        let bytes = file.written();
        file.commit()?;
        Ok(bytes)
    }
}

/// `text: string, price: float64`, with the Hub features metadata.
pub fn hub_schema() -> Schema {
    let meta = [(
        "huggingface".to_owned(),
        hf_features_metadata(&[("text", "string"), ("price", "float64")]),
    )];
    Schema::new(vec![
        Field::new("text", DataType::Utf8, true),
        Field::new("price", DataType::Float64, true),
    ])
    .with_metadata(meta.into_iter().collect())
}

/// The full items: category, title, price, prompt, token_count.
pub fn items_schema() -> Schema {
    let meta = [(
        "huggingface".to_owned(),
        hf_features_metadata(&[
            ("category", "string"),
            ("title", "string"),
            ("price", "float64"),
            ("prompt", "string"),
            ("token_count", "uint32"),
            ("details", "string"),
        ]),
    )];
    Schema::new(vec![
        Field::new("category", DataType::Utf8, true),
        Field::new("title", DataType::Utf8, true),
        Field::new("price", DataType::Float64, true),
        Field::new("prompt", DataType::Utf8, true),
        Field::new("token_count", DataType::UInt32, true),
        Field::new("details", DataType::Utf8, true),
    ])
    .with_metadata(meta.into_iter().collect())
}

/// Columns of a Hub batch.
pub fn hub_columns(rows: &[(String, f64)]) -> Vec<ArrayRef> {
    vec![
        Arc::new(StringArray::from_iter_values(
            rows.iter().map(|(t, _)| t.as_str()),
        )),
        Arc::new(Float64Array::from_iter_values(rows.iter().map(|(_, p)| *p))),
    ]
}

/// Columns of an items batch.
pub fn item_columns(items: &[Item]) -> Vec<ArrayRef> {
    vec![
        Arc::new(StringArray::from_iter_values(
            items.iter().map(|i| i.category.as_str()),
        )),
        Arc::new(StringArray::from_iter_values(
            items.iter().map(|i| i.title.as_str()),
        )),
        Arc::new(Float64Array::from_iter_values(
            items.iter().map(|i| i.price),
        )),
        Arc::new(StringArray::from_iter_values(
            items.iter().map(|i| i.prompt.as_str()),
        )),
        Arc::new(UInt32Array::from_iter_values(
            items.iter().map(|i| i.token_count),
        )),
        // None where the row had no details, as the pickles hold it.
        Arc::new(StringArray::from_iter(
            items.iter().map(|i| i.details.as_deref()),
        )),
    ]
}
