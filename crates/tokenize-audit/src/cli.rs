//! The command line of `pricer-audit`, which the `pricer` command also carries as a subcommand: token facts, tokenizer comparison, statistics, charts and a report
//! (v1); tokens of prompt + completion, summary lengths and prices per split (v2).

use std::path::PathBuf;

use crate::{bundled_compare, run, AuditStage, V2AuditStage};
use anyhow::{ensure, Result};
use clap::Parser;
use pricer_core::obs;
use pricer_core::recipe::Recipe;
use pricer_core::stage::{self, Stage};
use pricer_tokenizer::TokenizerSource;

/// Audit the items before training on them: does every price stay one token, how other
/// tokenizers compare, what the prompts' last tokens are, and how tokens, prices and
/// categories are distributed. Writes report.html and audit.json. With --recipe v2: the
/// tokens of prompt + completion, summary lengths and prices of each split.
#[derive(Parser, Debug)]
#[command(version, about, long_about = None)]
pub struct Args {
    /// The prompt output folder (items.art; v2: train.art, val.art, test.art).
    #[arg(default_value = "out/prompt")]
    items: PathBuf,
    /// The recipe: v1 or v2 (v2 takes only the prompts folder and --out).
    #[arg(long, default_value = "v1")]
    recipe: Recipe,
    /// The split folder (optional): the balancing charts (items against train + test)
    /// and the first test items' prices.
    #[arg(long)]
    split: Option<PathBuf>,
    /// The ingest folder (optional): raw-row counts and rejects in the report's summary.
    #[arg(long)]
    ingest: Option<PathBuf>,
    /// Output folder for report.html, audit.json, manifest.json.
    #[arg(long, short, default_value = "out/audit")]
    out: PathBuf,
    /// The recipe's tokenizer.json (default: the bundled Llama 3.1).
    #[arg(long)]
    tokenizer: Option<PathBuf>,
    /// Another tokenizer to compare, NAME=PATH (repeatable), after the bundled Qwen3,
    /// Gemma 3 and Llama 2 (as `[audit] compare` adds to them).
    #[arg(long = "compare", value_parser = parse_named)]
    compare: Vec<(String, PathBuf)>,
    /// Leave the bundled comparison tokenizers out (`[audit] compare_bundled = false`).
    #[arg(long)]
    no_bundled: bool,
    /// Prompts (the first N items) encoded with every compared tokenizer.
    #[arg(long, default_value_t = run::DEFAULT_COMPARE_SAMPLE)]
    compare_sample: usize,
    /// Items (by position) shown with their last 10 tokens.
    #[arg(long = "item", default_values_t = [0usize, 1, 2])]
    items_shown: Vec<usize>,
    /// Link the run's evaluation (../eval/report.html) from the report's menu, as the
    /// pipeline does when the run config has [eval].
    #[arg(long)]
    link_eval: bool,
    /// Worker threads (default: one per core; at least 1). Output bytes do not depend on it.
    #[arg(long, env = "PRICER_THREADS", value_parser = pricer_core::cli::threads)]
    threads: Option<usize>,
}

fn parse_named(s: &str) -> Result<(String, PathBuf), String> {
    let (n, p) = s
        .split_once('=')
        .ok_or_else(|| format!("expected NAME=PATH, got {s:?}"))?;
    Ok((n.to_owned(), PathBuf::from(p)))
}

/// Runs the command as parsed.
pub fn run(args: Args) -> Result<()> {
    obs::init_threads(args.threads);
    if args.recipe == Recipe::V2 {
        ensure!(
            args.split.is_none()
                && args.ingest.is_none()
                && args.tokenizer.is_none()
                && args.compare.is_empty()
                && !args.no_bundled,
            "--split, --ingest, --tokenizer, --compare and --no-bundled are for --recipe v1 (v2's prompts carry their token counts)"
        );
        let audit = V2AuditStage {
            prompts_dir: args.items,
            out_dir: args.out,
            eval_link: args.link_eval,
        };
        let manifest = stage::run_now(&audit)?;
        println!("{}", audit.summary(&manifest));
        return Ok(());
    }
    let source = args
        .tokenizer
        .map_or(TokenizerSource::Bundled, TokenizerSource::Path);
    let recipe = std::sync::Arc::new(pricer_tokenizer::load(&source)?);
    let audit = AuditStage {
        items_dir: args.items,
        split_dir: args.split,
        ingest_dir: args.ingest,
        out_dir: args.out,
        recipe_name: "Llama 3.1".into(),
        recipe,
        compare: if args.no_bundled {
            Vec::new()
        } else {
            bundled_compare()
        }
        .into_iter()
        .chain(args.compare)
        .collect(),
        compare_sample: args.compare_sample,
        views: args.items_shown,
        compared: Default::default(),
        eval_link: args.link_eval,
    };
    let manifest = stage::run_now(&audit)?;
    println!("{}", audit.summary(&manifest));
    Ok(())
}

/// The binary's main: logging, the command line, the run; errors as `pricer_core::cli`
/// prints them.
pub fn main() -> std::process::ExitCode {
    use clap::Parser;
    pricer_core::obs::init_tracing();
    pricer_core::cli::exit(run(Args::parse()))
}
