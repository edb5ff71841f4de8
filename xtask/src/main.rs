//! pricer's tasks: `cargo xtask <task>`.

use std::path::PathBuf;

use anyhow::Result;
use clap::{Parser, Subcommand};
use pricer_pipeline::runner::Print;
use pricer_pipeline::{ConfigSource, RunOptions};

mod bench;
mod cargo;
mod ci;
mod regress;
mod synth;

#[derive(Parser, Debug)]
#[command(about = "pricer tasks: pipeline runs, regression checks, benchmarks")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand, Debug)]
enum Task {
    /// Run the recipe's stages (V1: ingest, prompt, split, audit, export; V2: ingest,
    /// curate, with a `[summarize]` table also summarize, prompts and audit, export) into one run folder,
    /// skipping stages whose inputs and config are unchanged. Without --config: the
    /// bundled fixtures.
    Pipeline {
        /// A run config: a bundled one by name (fixtures, classic, v2, v2-lite, v2-fixtures,
        /// edge) or a TOML file (docs/configuration.md). Default: fixtures.
        #[arg(long)]
        config: Option<String>,
        /// The run folder. Default: runs/default for the bundled fixtures, runs/NAME
        /// with --config NAME or NAME.toml (runs/classic for classic).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Worker threads (default: one per core; at least 1). Output bytes do not depend on it.
        #[arg(long, env = "PRICER_THREADS", value_parser = pricer_core::cli::threads)]
        threads: Option<usize>,
        /// Run every stage even when it is up to date.
        #[arg(long)]
        force: bool,
        /// Run this stage and every later one even when up to date.
        #[arg(long)]
        from: Option<String>,
        /// Take the stages before this one (any stage of the recipe) as they are in the
        /// run folder, e.g. ingest and prompt merged from shards (docs/scale-out.md): their
        /// outputs are verified and checked against the config, their inputs not re-read.
        #[arg(long)]
        start_at: Option<String>,
    },
    /// Print an artifact's records as JSON lines; items come out exactly as the golden
    /// files hold them.
    Dump {
        /// An artifact (.art), or a stage folder that holds one (a folder with several
        /// names them).
        path: PathBuf,
    },
    /// Benchmarks (figures go to docs/benchmarks.md).
    Bench {
        #[command(subcommand)]
        which: bench::BenchTask,
    },
    /// Run the pipeline on the fixtures and compare every artifact digest and headline
    /// figure with fixtures/expected/regress.json.
    Regress {
        /// Accept the current results as the new expectations.
        #[arg(long)]
        bless: bool,
        /// Compare with this file instead of fixtures/expected/regress.json.
        #[arg(long, hide = true)]
        expectations: Option<PathBuf>,
    },
    /// Write a deterministic raw corpus remixed from the fixtures (for benchmarks).
    Synth {
        /// Output folder.
        out: PathBuf,
        /// Rows per category (eight classic categories).
        #[arg(long, default_value_t = 5_000)]
        rows: usize,
        #[arg(long, default_value_t = 2024)]
        seed: u64,
        /// Write .jsonl.gz files.
        #[arg(long)]
        gzip: bool,
        /// Rows to remix.
        #[arg(long, default_value = "fixtures/data/amazon-2023")]
        source: PathBuf,
    },
    /// Everything CI checks: formatting, clippy -D warnings, the tests.
    Ci,
}

pricer_core::global_allocator!();

fn main() -> std::process::ExitCode {
    pricer_core::cli::exit(run())
}

fn run() -> Result<()> {
    pricer_core::obs::init_tracing();
    match Cli::parse().task {
        Task::Pipeline {
            config,
            out,
            threads,
            force,
            from,
            start_at,
        } => {
            let source = config
                .as_deref()
                .map(ConfigSource::from_arg)
                .unwrap_or_default();
            let out = out.unwrap_or_else(|| match config {
                Some(_) => pricer_pipeline::configs::default_out(&source),
                None => PathBuf::from("runs/default"),
            });
            let opts = RunOptions {
                config: source,
                out,
                threads,
                force,
                from,
                start_at,
            };
            let report = pricer_pipeline::run(&opts, &mut Print)?;
            println!("{}", report.closing_line());
            Ok(())
        }
        Task::Dump { path } => pricer_pipeline::dump::run(&path),
        Task::Ci => ci::run_all(),
        Task::Synth {
            out,
            rows,
            seed,
            gzip,
            source,
        } => synth::run(&source, &out, rows, seed, gzip),
        Task::Regress {
            bless,
            expectations,
        } => regress::run(bless, expectations),
        Task::Bench { which } => bench::run(which),
    }
}
