//! The command line of `pricer-export`, which the `pricer` command also carries as a subcommand: split -> Hub-ready Parquet + dataset card, binary items, items table
//! (v1); the curated, summarized and prompt parts as Hub dataset folders (v2).

use std::path::{Path, PathBuf};

use crate::v2::{CardFacts, DEFAULT_LITE};
use crate::{run, ExportStage, Part, V2Export};
use anyhow::{ensure, Result};
use clap::Parser;
use pricer_core::manifest::Manifest;
use pricer_core::recipe::Recipe;
use pricer_core::recipe_v2;
use pricer_core::stage::{self, Stage};

/// Write a folder ready to upload to the Hugging Face Hub as a dataset repo, the full
/// train/test items in pricer's binary format, and every item as a Parquet table. With
/// --recipe v2: every part of the run (items_raw, items, items_prompts) as Hub dataset
/// folders, in full and lite.
#[derive(Parser, Debug)]
#[command(version, about, long_about = None)]
pub struct Args {
    /// A run folder holding ingest/, prompt/ and split/ (as `cargo xtask pipeline` makes);
    /// v2: curate/ and, when they ran, summarize/ and prompts/ (or prompt/).
    #[arg(default_value = "out")]
    run: PathBuf,
    /// The recipe: v1 or v2.
    #[arg(long, default_value = "v1")]
    recipe: Recipe,
    /// v1: the split folder (default: RUN/split).
    #[arg(long)]
    split: Option<PathBuf>,
    /// v1: the prompt folder with items.art (default: RUN/prompt).
    #[arg(long)]
    items: Option<PathBuf>,
    /// v2: the curate folder (default: RUN/curate, when it holds a finished curate stage).
    #[arg(long)]
    curate: Option<PathBuf>,
    /// v2: the summarize folder (default: RUN/summarize, when it holds a finished stage).
    #[arg(long)]
    summarize: Option<PathBuf>,
    /// v2: the prompts folder (default: RUN/prompts or RUN/prompt, whichever holds a
    /// finished v2 prompts stage).
    #[arg(long)]
    prompts: Option<PathBuf>,
    /// v2: sizes of the lite prefixes of train, validation and test [default: 20000,1000,1000].
    #[arg(long, value_parser = recipe_v2::parse_split_sizes)]
    lite: Option<[usize; 3]>,
    /// v2: write only the lite folders (for a curation that kept only the lite prefixes).
    #[arg(long)]
    lite_only: bool,
    /// v2: the run's shortest text kept, as its cards state it (`[curate] min_chars`).
    #[arg(long, default_value_t = recipe_v2::MIN_CHARS)]
    min_chars: usize,
    /// v2: the run's longest text, as its cards state it (`[curate] total_chars`).
    #[arg(long, default_value_t = recipe_v2::TOTAL_CHARS)]
    total_chars: usize,
    /// v2: the run's summary cut in tokens, as its cards state it (`[prompts] cutoff`).
    #[arg(long, default_value_t = recipe_v2::CUTOFF)]
    cutoff: usize,
    /// Output folder (default: RUN/export).
    #[arg(long, short)]
    out: Option<PathBuf>,
    /// `datasets`' `max_shard_size`: int(num_bytes / this) + 1 Parquet shards per split.
    #[arg(long, default_value_t = run::DEFAULT_MAX_SHARD_BYTES)]
    max_shard_bytes: u64,
    /// v1: leave out items/train.pkl and test.pkl (the seed's pickles).
    #[arg(long)]
    no_pickles: bool,
}

/// Runs the command as parsed.
pub fn run(args: Args) -> Result<()> {
    let out = args.out.clone().unwrap_or_else(|| args.run.join("export"));
    let export: Box<dyn Stage> = match args.recipe {
        Recipe::V1 => {
            ensure!(
                args.curate.is_none()
                    && args.summarize.is_none()
                    && args.prompts.is_none()
                    && args.lite.is_none()
                    && !args.lite_only,
                "--curate, --summarize, --prompts, --lite and --lite-only are for --recipe v2"
            );
            let mut cfg = ExportStage::for_run(&args.run);
            if let Some(s) = args.split {
                cfg.split_dir = s;
            }
            if let Some(i) = args.items {
                cfg.items_dir = i;
            }
            cfg.out_dir = out;
            cfg.max_shard_bytes = args.max_shard_bytes;
            cfg.pickles = !args.no_pickles;
            Box::new(cfg)
        }
        Recipe::V2 => {
            ensure!(
                args.split.is_none() && args.items.is_none(),
                "--split and --items are for --recipe v1"
            );
            let parts = v2_parts(&args)?;
            Box::new(V2Export {
                parts,
                out_dir: out,
                max_shard_bytes: args.max_shard_bytes,
                lite: args.lite.map_or(DEFAULT_LITE, |l| l.map(|n| n as u64)),
                lite_only: args.lite_only,
                facts: CardFacts {
                    min_chars: args.min_chars,
                    total_chars: args.total_chars,
                    cutoff: args.cutoff,
                },
            })
        }
    };
    let manifest = stage::run_now(export.as_ref())?;
    println!("{}", export.summary(&manifest));
    Ok(())
}

/// The parts a v2 run has: a folder given for a part is taken (and checked by the stage);
/// otherwise the part's usual folder under RUN, when it holds that stage's finished run.
fn v2_parts(args: &Args) -> Result<Vec<(Part, PathBuf)>> {
    let finished = |dir: &Path, part: Part| {
        Manifest::read(dir).is_ok_and(|m| m.stage == part.stage() && m.shard.is_none())
    };
    let mut parts = Vec::new();
    for part in Part::ALL {
        let (given, usual): (&Option<PathBuf>, &[&str]) = match part {
            Part::Raw => (&args.curate, &["curate"]),
            Part::Summarized => (&args.summarize, &["summarize"]),
            Part::Prompts => (&args.prompts, &["prompts", "prompt"]),
        };
        let dir = match given {
            Some(d) => Some(d.clone()),
            None => usual
                .iter()
                .map(|u| args.run.join(u))
                .find(|d| finished(d, part)),
        };
        parts.extend(dir.map(|d| (part, d)));
    }
    ensure!(
        !parts.is_empty(),
        "{}: no finished curate, summarize or prompts stage to export (name their folders with --curate, --summarize, --prompts)",
        args.run.display()
    );
    Ok(parts)
}

/// The binary's main: logging, the command line, the run; errors as `pricer_core::cli`
/// prints them.
pub fn main() -> std::process::ExitCode {
    use clap::Parser;
    pricer_core::obs::init_tracing();
    pricer_core::cli::exit(run(Args::parse()))
}
