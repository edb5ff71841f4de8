//! The command line of `pricer-split`, which the `pricer` command also carries as a subcommand: items -> price-balanced sample -> shuffled train/test.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::{SampleConfig, SplitSizes, SplitStage};
use anyhow::{Context, Result};
use clap::Parser;
use pricer_core::recipe;
use pricer_core::stage::{self, Stage};

/// Draw the recipe's price-balanced sample from the items, shuffle it with Python's
/// seeded random, and cut train and test (and optionally validation).
#[derive(Parser, Debug)]
#[command(version, about, long_about = None)]
pub struct Args {
    /// The prompt output folder (or its items.art).
    #[arg(default_value = "out/prompt")]
    input: PathBuf,
    /// Output folder for train.art, test.art (validation.art) and manifest.json.
    #[arg(long, short, default_value = "out/split")]
    out: PathBuf,
    /// Seed of numpy's legacy generator for the sample.
    #[arg(long, default_value_t = recipe::SAMPLE_SEED)]
    sample_seed: u32,
    /// Slots (rounded prices) holding more items than this are drawn down to it.
    #[arg(long, default_value_t = recipe::SAMPLE_CAP)]
    cap: usize,
    /// Slots from this rounded price up are taken whole.
    #[arg(long, default_value_t = recipe::SAMPLE_KEEP_FROM)]
    keep_from: u32,
    /// Draw weight of a category, CATEGORY=WEIGHT (repeatable). Default: Automotive=1.
    #[arg(long = "weight", value_parser = parse_weight)]
    weights: Vec<(String, f64)>,
    /// Draw weight of every category not given with --weight.
    #[arg(long, default_value_t = recipe::SAMPLE_WEIGHT_DEFAULT)]
    default_weight: f64,
    /// Seed of Python's random for the shuffle.
    #[arg(long, default_value_t = u64::from(recipe::SPLIT_SEED))]
    seed: u64,
    /// Items in train (the first of the shuffled sample).
    #[arg(long, default_value_t = recipe::SPLIT_TRAIN)]
    train: usize,
    /// Items in test (those after train).
    #[arg(long, default_value_t = recipe::SPLIT_TEST)]
    test: usize,
    /// Items after test for a validation split.
    #[arg(long, default_value_t = 0)]
    validation: usize,
    /// When the sample is smaller than the sizes, take what there is instead of failing.
    #[arg(long)]
    take_available: bool,
}

fn parse_weight(s: &str) -> Result<(String, f64), String> {
    let (c, w) = s
        .split_once('=')
        .ok_or_else(|| format!("expected CATEGORY=WEIGHT, got {s:?}"))?;
    let w: f64 = w
        .parse()
        .map_err(|_| format!("weight of {c} is not a number: {w:?}"))?;
    Ok((c.to_owned(), w))
}

/// Runs the command as parsed.
pub fn run(args: Args) -> Result<()> {
    let weights: BTreeMap<String, f64> = if args.weights.is_empty() {
        SampleConfig::default().weights
    } else {
        args.weights.into_iter().collect()
    };
    let split = SplitStage {
        input: args.input,
        out_dir: args.out.clone(),
        sample: SampleConfig {
            seed: args.sample_seed,
            cap: args.cap,
            keep_from: args.keep_from,
            weights,
            default_weight: args.default_weight,
        },
        sizes: SplitSizes {
            seed: args.seed,
            train: args.train,
            test: args.test,
            validation: args.validation,
            take_available: args.take_available,
        },
        knobs: pricer_core::knobs::Knobs::Flags,
    };
    let manifest = stage::run_now(&split).context("split failed")?;
    println!("{}", split.summary(&manifest));
    Ok(())
}

/// The binary's main: logging, the command line, the run; errors as `pricer_core::cli`
/// prints them.
pub fn main() -> std::process::ExitCode {
    use clap::Parser;
    pricer_core::obs::init_tracing();
    pricer_core::cli::exit(run(Args::parse()))
}
