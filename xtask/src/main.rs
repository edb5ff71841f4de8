//! pricer's tasks: `cargo xtask <task>`.

use std::path::PathBuf;

use anyhow::Result;
use clap::{Parser, Subcommand};

mod bench;
mod ci;
mod dump;
mod pipeline;

#[derive(Parser, Debug)]
#[command(about = "pricer tasks: pipeline runs, regression checks, benchmarks")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand, Debug)]
enum Task {
    /// Run the pipeline into one run folder (default: the bundled fixtures).
    Pipeline {
        /// Raw metadata files or folders (default: fixtures/data/amazon-2023).
        inputs: Vec<PathBuf>,
        /// The run folder.
        #[arg(long, default_value = "runs/default")]
        out: PathBuf,
        /// Worker threads (default: one per core). Output bytes do not depend on it.
        #[arg(long, env = "PRICER_THREADS")]
        threads: Option<usize>,
    },
    /// Print any artifact (or a stage folder's artifacts) as JSON lines; items come out
    /// exactly as the golden files hold them.
    Dump { path: PathBuf },
    /// Benchmarks (figures go to docs/benchmarks.md).
    Bench {
        #[command(subcommand)]
        which: BenchTask,
    },
    /// Everything CI checks: formatting, clippy -D warnings, the tests.
    Ci,
}

#[derive(Subcommand, Debug)]
enum BenchTask {
    /// Peak memory of the split stage on synthetic items.
    SplitMemory {
        #[arg(long, default_value_t = 3_000_000)]
        items: usize,
    },
}

fn main() -> Result<()> {
    pricer_core::obs::init_tracing();
    match Cli::parse().task {
        Task::Pipeline {
            inputs,
            out,
            threads,
        } => pipeline::run(&pipeline::PipelineArgs {
            inputs,
            out,
            threads,
        }),
        Task::Dump { path } => dump::run(&path),
        Task::Ci => ci::run_all(),
        Task::Bench {
            which: BenchTask::SplitMemory { items },
        } => bench::split_memory(items),
    }
}
