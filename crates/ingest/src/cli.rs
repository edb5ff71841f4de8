//! The command line of `pricer-ingest`, which the `pricer` command also carries as a subcommand: raw metadata files -> candidates, rejects and a manifest.

use std::path::PathBuf;

use crate::{inputs, run, IngestStage, RowRules, V1, V2};
use anyhow::Result;
use clap::Parser;
use pricer_core::recipe::Recipe;
use pricer_core::stage::{self, Stage};
use pricer_core::{obs, recipe_v2};

/// Read raw Amazon metadata (meta_<Category>.jsonl, .jsonl.gz, .jsonl.zst) and keep the
/// rows that pass the recipe's row rules: V1's rules 1-4 (candidates for the prompt
/// stage, candidates.art) or V2's parse (items_raw.art, the course's items_raw).
#[derive(Parser, Debug)]
#[command(version, about, long_about = None)]
pub struct Args {
    /// Files or folders, read in the order given; a folder is read in byte-sorted
    /// file-name order. The category is the file name after `meta_`. Or none, and
    /// --categories with --data-dir or --hub.
    inputs: Vec<PathBuf>,
    /// Read these categories (comma separated, in this order) from --data-dir or --hub,
    /// e.g. the classic run: Automotive,Electronics,Office_Products,...
    #[arg(long, value_delimiter = ',')]
    categories: Vec<String>,
    /// Folder holding meta_<Category>.jsonl[.gz|.zst] files for --categories.
    #[arg(long, conflicts_with = "hub")]
    data_dir: Option<PathBuf>,
    /// A Hub dataset repo holding the --categories files, resolved through the Hugging
    /// Face cache (HF_HOME, HF_HUB_CACHE, HF_TOKEN, HF_ENDPOINT, HF_HUB_OFFLINE) and
    /// downloaded when missing, e.g. McAuley-Lab/Amazon-Reviews-2023.
    #[arg(long)]
    hub: Option<String>,
    /// The --hub revision: a branch, tag or commit id.
    #[arg(long, default_value = "main", requires = "hub")]
    revision: String,
    /// A category's file in the --hub repo.
    #[arg(long, default_value = inputs::DEFAULT_PATTERN, requires = "hub")]
    pattern: String,
    /// The recipe whose row rules apply: v1 (candidates.art) or v2 (items_raw.art).
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
    /// Worker threads (default: one per core; at least 1). Output bytes do not depend on it.
    #[arg(long, env = "PRICER_THREADS", value_parser = pricer_core::cli::threads)]
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

/// Runs the command as parsed.
pub fn run(args: Args) -> Result<()> {
    obs::init_threads(args.threads);
    anyhow::ensure!(
        args.categories.is_empty() || args.data_dir.is_some() || args.hub.is_some(),
        "--categories needs --data-dir or --hub"
    );
    anyhow::ensure!(
        !args.inputs.is_empty() || !args.categories.is_empty(),
        "nothing to read: give raw files or folders (pricer-ingest FILE_OR_FOLDER... --out DIR), \
         or --categories A,B with --data-dir DIR or --hub REPO"
    );
    let mut files = inputs::resolve(&args.inputs)?;
    if let Some(dir) = &args.data_dir {
        files.extend(inputs::resolve_categories(dir, &args.categories)?);
    }
    if let Some(repo) = &args.hub {
        let hub = inputs::HubInput {
            repo: repo.clone(),
            revision: args.revision.clone(),
            pattern: args.pattern.clone(),
        };
        let client = pricer_hub::Hub::from_env();
        files.extend(inputs::resolve_hub(&client, &hub, &args.categories)?);
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

/// The binary's main: logging, the command line, the run; errors as `pricer_core::cli`
/// prints them.
pub fn main() -> std::process::ExitCode {
    use clap::Parser;
    pricer_core::obs::init_tracing();
    pricer_core::cli::exit(run(Args::parse()))
}
