//! `pricer-ingest`: raw metadata files -> candidates, rejects and a manifest.

use std::path::PathBuf;

use anyhow::Result;
use clap::Parser;
use pricer_core::obs;
use pricer_core::stage::{self, Stage};
use pricer_ingest::{inputs, run, IngestStage, V1};

/// Read raw Amazon metadata (meta_<Category>.jsonl, .jsonl.gz, .jsonl.zst) and keep the
/// rows that pass the recipe's rules 1-4 as candidates for the prompt stage.
#[derive(Parser, Debug)]
#[command(version, about, long_about = None)]
struct Args {
    /// Files or folders, read in the order given; a folder is read in byte-sorted
    /// file-name order. The category is the file name after `meta_`.
    #[arg(required_unless_present = "categories")]
    inputs: Vec<PathBuf>,
    /// Read these categories (comma separated, in this order) from --data-dir, e.g. the
    /// classic run: Automotive,Electronics,Office_Products,...
    #[arg(long, value_delimiter = ',', requires = "data_dir")]
    categories: Vec<String>,
    /// Folder holding meta_<Category>.jsonl[.gz|.zst] files for --categories.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Output folder for candidates.art, rejects.jsonl and manifest.json.
    #[arg(long, short, default_value = "out/ingest")]
    out: PathBuf,
    /// Worker threads (default: one per core). Output bytes do not depend on it.
    #[arg(long, env = "PRICER_THREADS")]
    threads: Option<usize>,
    /// Run shard i of N (0-based, e.g. 0/4): a contiguous run of the input files, chosen
    /// by size. `pricer-merge` joins the shards into the one-machine output.
    #[arg(long)]
    shard: Option<pricer_core::shard::ShardSpec>,
    /// Bytes of raw lines per unit of parallel work (tuning only).
    #[arg(long, default_value_t = run::DEFAULT_CHUNK_BYTES)]
    chunk_bytes: usize,
}

fn main() -> Result<()> {
    obs::init_tracing();
    let args = Args::parse();
    obs::init_threads(args.threads);
    let mut files = inputs::resolve(&args.inputs)?;
    if let Some(dir) = &args.data_dir {
        files.extend(inputs::resolve_categories(dir, &args.categories)?);
    }
    let mut ingest = IngestStage::new(V1, files, &args.out);
    ingest.chunk_bytes = args.chunk_bytes;
    ingest.shard = args.shard;
    let manifest = stage::run_now(&ingest)?;
    println!("{}", ingest.summary(&manifest));
    Ok(())
}
