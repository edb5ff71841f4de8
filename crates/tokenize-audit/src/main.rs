//! `pricer-audit`: token facts, tokenizer comparison, statistics, charts and a report.

use std::path::PathBuf;

use anyhow::Result;
use clap::Parser;
use pricer_audit::{run, AuditConfig, BUNDLED_COMPARE};
use pricer_core::obs;
use pricer_prompt::{tokenizer, TokenizerSource};

/// Audit the items before training on them: does every price stay one token, how other
/// tokenizers compare, what the prompts' last tokens are, and how tokens, prices and
/// categories are distributed. Writes report.html and audit.json.
#[derive(Parser, Debug)]
#[command(version, about, long_about = None)]
struct Args {
    /// The prompt output folder (items.art).
    #[arg(default_value = "out/prompt")]
    items: PathBuf,
    /// The split output folder, for the first test items' prices (optional).
    #[arg(long)]
    split: Option<PathBuf>,
    /// Output folder for report.html, audit.json, manifest.json.
    #[arg(long, short, default_value = "out/audit")]
    out: PathBuf,
    /// The recipe's tokenizer.json (default: the bundled Llama 3.1).
    #[arg(long)]
    tokenizer: Option<PathBuf>,
    /// Another tokenizer to compare, NAME=PATH (repeatable). Default: the bundled
    /// Qwen3, Gemma 3 and Llama 2.
    #[arg(long = "compare", value_parser = parse_named)]
    compare: Vec<(String, PathBuf)>,
    /// Prompts (the first N items) encoded with every compared tokenizer.
    #[arg(long, default_value_t = run::DEFAULT_COMPARE_SAMPLE)]
    compare_sample: usize,
    /// Items (by position) shown with their last 10 tokens.
    #[arg(long = "item", default_values_t = [0usize, 1, 2])]
    items_shown: Vec<usize>,
    #[arg(long, env = "PRICER_THREADS")]
    threads: Option<usize>,
}

fn parse_named(s: &str) -> Result<(String, PathBuf), String> {
    let (n, p) = s
        .split_once('=')
        .ok_or_else(|| format!("expected NAME=PATH, got {s:?}"))?;
    Ok((n.to_owned(), PathBuf::from(p)))
}

fn main() -> Result<()> {
    obs::init_tracing();
    let args = Args::parse();
    obs::init_threads(args.threads);
    let recipe = tokenizer::load(&TokenizerSource::Path(
        args.tokenizer.unwrap_or_else(tokenizer::bundled_path),
    ))?;
    let compare_paths: Vec<(String, PathBuf)> = if args.compare.is_empty() {
        BUNDLED_COMPARE
            .iter()
            .map(|(n, p)| ((*n).to_owned(), PathBuf::from(p)))
            .collect()
    } else {
        args.compare
    };
    let cfg = AuditConfig {
        items_dir: args.items,
        split_dir: args.split,
        out_dir: args.out.clone(),
        recipe_name: "Llama 3.1".into(),
        recipe: &recipe,
        compare: compare_paths,
        compare_sample: args.compare_sample,
        views: args.items_shown,
    };
    let (manifest, _) = run::run(&cfg)?;
    println!("{}", run::summary_line(&manifest, &args.out));
    Ok(())
}
