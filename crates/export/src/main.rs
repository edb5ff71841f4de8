//! `pricer-export`: split -> Hub-ready Parquet + dataset card, binary items, items table.

use std::path::PathBuf;

use anyhow::Result;
use clap::Parser;
use pricer_core::obs;
use pricer_core::stage::{self, Stage};
use pricer_export::{run, ExportStage};

/// Write a folder ready to upload to the Hugging Face Hub as a dataset repo, the full
/// train/test items in pricer's binary format, and every item as a Parquet table.
#[derive(Parser, Debug)]
#[command(version, about, long_about = None)]
struct Args {
    /// A run folder holding ingest/, prompt/ and split/ (as `cargo xtask pipeline` makes).
    #[arg(default_value = "out")]
    run: PathBuf,
    /// The split folder (default: RUN/split).
    #[arg(long)]
    split: Option<PathBuf>,
    /// The prompt folder with items.art (default: RUN/prompt).
    #[arg(long)]
    items: Option<PathBuf>,
    /// Output folder (default: RUN/export).
    #[arg(long, short)]
    out: Option<PathBuf>,
    /// Largest Parquet shard in bytes of row data.
    #[arg(long, default_value_t = run::DEFAULT_MAX_SHARD_BYTES)]
    max_shard_bytes: u64,
}

pricer_core::global_allocator!();

fn main() -> Result<()> {
    obs::init_tracing();
    let args = Args::parse();
    let mut cfg = ExportStage::for_run(&args.run);
    if let Some(s) = args.split {
        cfg.split_dir = s;
    }
    if let Some(i) = args.items {
        cfg.items_dir = i;
    }
    if let Some(o) = args.out {
        cfg.out_dir = o;
    }
    cfg.max_shard_bytes = args.max_shard_bytes;
    let manifest = stage::run_now(&cfg)?;
    println!("{}", cfg.summary(&manifest));
    Ok(())
}
