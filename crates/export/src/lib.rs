//! Export: split artifacts -> a folder ready to upload to the Hugging Face Hub as a
//! dataset repo (Parquet shards + dataset card), plus the full items for Rust
//! (`items/*.art`, read with [`load_items`]) and Python (`items/items.parquet`).

pub mod card;
pub mod cli;
pub mod columns;
pub mod hub;
pub mod parquet_out;
pub mod pickles;
pub mod run;
pub mod v2;

pub use run::ExportStage;
pub use v2::{Part, V2Export};

/// Loads the full items of an exported `train.art` / `test.art` (the successor of the
/// recipe's pickles), streaming and verifying them:
///
/// ```no_run
/// for item in pricer_export::load_items("runs/default/export/items/test.art")? {
///     let item = item?;
///     println!("{} ${} {} tokens", item.title, item.price, item.token_count);
/// }
/// # Ok::<(), pricer_core::ArtifactError>(())
/// ```
pub fn load_items(
    path: impl Into<std::path::PathBuf>,
) -> Result<pricer_core::ArtifactReader<pricer_core::Item>, pricer_core::ArtifactError> {
    pricer_core::ArtifactReader::open(path)
}
