//! `pricer-ingest`: raw metadata files -> candidates, rejects and a manifest.

use std::path::PathBuf;

use anyhow::Result;
use clap::Parser;
use pricer_core::recipe::Recipe;
use pricer_core::stage::{self, Stage};
use pricer_core::{obs, recipe_v2};
use pricer_ingest::{inputs, run, IngestStage, RowRules, V1, V2};

/// Read raw Amazon metadata (meta_<Category>.jsonl, .jsonl.gz, .jsonl.zst) and keep the
/// rows that pass the recipe's row rules: V1's rules 1-4 (candidates for the prompt
/// stage, candidates.art) or V2's parse (items_raw.art, the course's items_raw).
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
    /// The recipe whose row rules apply.
    #[arg(long, default_value = "v1")]
    recipe: Recipe,
    /// V2: keep an item whose text has at least this many characters.
    #[arg(long, default_value_t = recipe_v2::MIN_CHARS)]
    min_chars: usize,
    /// V2: each description/features line is cut to this many characters.
    #[arg(long, default_value_t = recipe_v2::EACH_CHARS)]
    each_chars: usize,
    /// V2: the whole text is cut to this many characters.
    #[arg(long, default_value_t = recipe_v2::TOTAL_CHARS)]
    total_chars: usize,
    /// V2: keys deleted from details (comma separated; default: the course's five).
    #[arg(long, value_delimiter = ',')]
    removed_keys: Option<Vec<String>>,
    /// Output folder for the records, rejects.jsonl and manifest.json.
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

fn run_with<R: RowRules>(rules: R, files: Vec<inputs::InputFile>, args: &Args) -> Result<()> {
    let mut ingest = IngestStage::new(rules, files, &args.out);
    ingest.chunk_bytes = args.chunk_bytes;
    ingest.shard = args.shard;
    let manifest = stage::run_now(&ingest)?;
    println!("{}", ingest.summary(&manifest));
    Ok(())
}

fn main() -> Result<()> {
    obs::init_tracing();
    let args = Args::parse();
    obs::init_threads(args.threads);
    let mut files = inputs::resolve(&args.inputs)?;
    if let Some(dir) = &args.data_dir {
        files.extend(inputs::resolve_categories(dir, &args.categories)?);
    }
    match args.recipe {
        Recipe::V1 => run_with(V1, files, &args),
        Recipe::V2 => {
            let mut rules = V2 {
                min_chars: args.min_chars,
                each_chars: args.each_chars,
                total_chars: args.total_chars,
                ..V2::default()
            };
            if let Some(keys) = &args.removed_keys {
                rules.removed_keys = keys.clone();
            }
            run_with(rules, files, &args)
        }
    }
}
