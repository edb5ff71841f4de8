//! The command line of `pricer-curate`, which the `pricer` command also carries as a subcommand: items_raw -> dedupe -> weighted draw -> train / validation / test.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::{CurateConfig, CurateStage};
use anyhow::Result;
use clap::Parser;
use pricer_core::stage::{self, Stage};
use pricer_core::{obs, recipe_v2};

/// Recipe V2's curation: shuffle, keep the first item of each title and of each text,
/// draw `sample` items weighted by price squared (numpy-exact), shuffle again and cut
/// train, validation and test.
#[derive(Parser, Debug)]
#[command(version, about, long_about = None)]
pub struct Args {
    /// The V2 ingest folder (items_raw.art) or an items_raw.art file.
    #[arg(default_value = "out/ingest")]
    input: PathBuf,
    /// Output folder for train.art, validation.art, test.art and manifest.json.
    #[arg(long, short, default_value = "out/curate")]
    out: PathBuf,
    /// Seed of the first shuffle and of the draw.
    #[arg(long, default_value_t = recipe_v2::SEED)]
    seed: u64,
    /// Items to draw.
    #[arg(long, default_value_t = recipe_v2::SAMPLE)]
    sample: usize,
    /// A category's weight factor, CATEGORY=FACTOR (repeatable). Default: the course's
    /// Tools_and_Home_Improvement=0.5, Automotive=0.05.
    #[arg(long = "factor", value_parser = parse_factor)]
    factors: Vec<(String, f64)>,
    /// Factor of every category not given with --factor.
    #[arg(long, default_value_t = recipe_v2::DEFAULT_FACTOR)]
    default_factor: f64,
    /// Seed of the second shuffle (the course uses the same seed).
    #[arg(long)]
    split_seed: Option<u64>,
    /// Items in train (the first of the shuffled draw).
    #[arg(long, default_value_t = recipe_v2::TRAIN)]
    train: usize,
    /// Items in validation (after train).
    #[arg(long, default_value_t = recipe_v2::VALIDATION)]
    validation: usize,
    /// Items in test (after validation).
    #[arg(long, default_value_t = recipe_v2::TEST)]
    test: usize,
    /// Write only these prefixes of train, validation and test, e.g. 20000,1000,1000 for
    /// the course's lite datasets.
    #[arg(long, value_parser = recipe_v2::parse_split_sizes)]
    keep: Option<[usize; 3]>,
    /// Also write trace/: every decision (order, weights, draw, deduped titles).
    #[arg(long)]
    trace: bool,
    /// Worker threads (default: one per core; at least 1). Output bytes do not depend on it.
    #[arg(long, env = "PRICER_THREADS", value_parser = pricer_core::cli::threads)]
    threads: Option<usize>,
}

fn parse_factor(s: &str) -> Result<(String, f64), String> {
    let (c, f) = s
        .split_once('=')
        .ok_or_else(|| format!("expected CATEGORY=FACTOR, got {s:?}"))?;
    let f: f64 = f
        .parse()
        .map_err(|_| format!("factor of {c} is not a number: {f:?}"))?;
    Ok((c.to_owned(), f))
}

/// Runs the command as parsed.
pub fn run(args: Args) -> Result<()> {
    obs::init_threads(args.threads);
    let factors: BTreeMap<String, f64> = if args.factors.is_empty() {
        CurateConfig::default().factors
    } else {
        args.factors.into_iter().collect()
    };
    let curate = CurateStage {
        input: args.input,
        out_dir: args.out,
        config: CurateConfig {
            seed: args.seed,
            sample: args.sample,
            factors,
            default_factor: args.default_factor,
            split_seed: args.split_seed.unwrap_or(args.seed),
            train: args.train,
            validation: args.validation,
            test: args.test,
            keep: args.keep,
        },
        trace: args.trace,
        knobs: pricer_core::knobs::Knobs::Flags,
    };
    let manifest = stage::run_now(&curate)?;
    println!("{}", curate.summary(&manifest));
    Ok(())
}

/// The binary's main: logging, the command line, the run; errors as `pricer_core::cli`
/// prints them.
pub fn main() -> std::process::ExitCode {
    use clap::Parser;
    pricer_core::obs::init_tracing();
    pricer_core::cli::exit(run(Args::parse()))
}
