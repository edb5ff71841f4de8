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
        which: BenchTask,
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

#[derive(Subcommand, Debug)]
enum BenchTask {
    /// What users run: `cargo xtask pipeline` (all stages, the audit's four tokenizers)
    /// on make_corpus.py rows, side by side with the Python reference and `gzip -dc`.
    Pipeline {
        /// Rows per category (eight categories); several (comma-separated) for a memory
        /// curve, e.g. 12500,200000.
        #[arg(long, value_delimiter = ',', default_value = "5000")]
        rows: Vec<usize>,
        #[arg(long, default_value_t = 2)]
        threads: usize,
        /// gzip the corpus, and time `gzip -dc` of it on one core beside the pipeline.
        #[arg(long)]
        gzip: bool,
        /// Also run the Python reference on the first size (path to pricer_ref.py; needs
        /// PRICER_REF_PYTHON or target/ref-venv with transformers 4.46.3).
        #[arg(long)]
        reference: Option<PathBuf>,
        /// Time each side this many times, interleaved, and compare medians (a shared
        /// machine's load changes within seconds; a 1-second run feels it most).
        #[arg(long, default_value_t = 1)]
        repeat: usize,
    },
    /// The audit of synthetic items, charts included, against the prompt stage's time.
    Audit {
        #[arg(long, default_value_t = 400_000)]
        items: usize,
        #[arg(long, default_value_t = 2)]
        threads: usize,
    },
    /// Every stage on a synthetic corpus: throughput, peak memory, the encode floor.
    E2e {
        /// Rows per category (eight categories).
        #[arg(long, default_value_t = 5_000)]
        rows: usize,
        #[arg(long, default_value_t = 2)]
        threads: usize,
        /// gzip the corpus.
        #[arg(long)]
        gzip: bool,
        /// Also run the Python reference (path to pricer_ref.py; needs PRICER_REF_PYTHON
        /// or target/ref-venv with transformers 4.46.3).
        #[arg(long)]
        reference: Option<PathBuf>,
        /// Use this corpus folder (e.g. from shared/bench/make_corpus.py) instead of a
        /// synthetic one; --rows and --gzip are then ignored.
        #[arg(long)]
        corpus: Option<PathBuf>,
        /// Skip the encode floor (for very large corpora: it holds every text in memory).
        #[arg(long)]
        no_floor: bool,
    },
    /// Peak memory of every stage for two corpus sizes (flatness), synthetic rows.
    Memory {
        /// Rows per category of the small corpus (8 categories).
        #[arg(long, default_value_t = 12_500)]
        small: usize,
        /// Rows per category of the large corpus.
        #[arg(long, default_value_t = 200_000)]
        large: usize,
        #[arg(long, default_value_t = 2)]
        threads: usize,
    },
    /// pricer-bpe against tokenizers, id for id, on generated texts, and their speeds.
    Bpe {
        #[arg(long, default_value_t = 2_000_000)]
        texts: usize,
        #[arg(long, default_value_t = 2)]
        threads: usize,
    },
    /// Recipe v2 part 1 (xtask pipeline: parse, curate, export) on make_corpus.py rows, side
    /// by side with pricer_v2_ref.py (parse + curate), outputs compared byte for byte.
    V2 {
        /// Rows per category (eight categories).
        #[arg(long, default_value_t = 5_000)]
        rows: usize,
        #[arg(long, default_value_t = 2)]
        threads: usize,
        /// Also run the reference (path to pricer_v2_ref.py; Python 3.12 + numpy 2.3.4 in
        /// target/v2ref-venv, made on first use, or PRICER_V2REF_PYTHON).
        #[arg(long)]
        reference: Option<PathBuf>,
        #[arg(long, default_value_t = 4_000)]
        sample: usize,
        #[arg(long, default_value_t = 3_400)]
        train: usize,
        #[arg(long, default_value_t = 300)]
        validation: usize,
        #[arg(long, default_value_t = 300)]
        test: usize,
    },
    /// The Python package: `import pricer` and `pricer.run("fixtures")` against `cargo
    /// xtask pipeline`, side by side (needs the wheel `cargo xtask ci` installs).
    Python {
        #[arg(long, default_value_t = 5)]
        repeat: usize,
    },
    /// Peak memory of the curate stage on synthetic items (the course's draw sizes).
    CurateMemory {
        #[arg(long, default_value_t = 3_000_000)]
        items: usize,
    },
    /// Peak memory of the split stage on synthetic items.
    SplitMemory {
        #[arg(long, default_value_t = 3_000_000)]
        items: usize,
    },
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
        Task::Bench {
            which:
                BenchTask::Pipeline {
                    rows,
                    threads,
                    gzip,
                    reference,
                    repeat,
                },
        } => bench::pipeline::run(&bench::pipeline::PipelineArgs {
            rows,
            threads,
            gzip,
            reference,
            repeat,
        }),
        Task::Bench {
            which: BenchTask::Bpe { texts, threads },
        } => bench::bpe::run(texts, threads),
        Task::Bench {
            which:
                BenchTask::V2 {
                    rows,
                    threads,
                    reference,
                    sample,
                    train,
                    validation,
                    test,
                },
        } => bench::v2::run(&bench::v2::V2Args {
            rows,
            threads,
            reference,
            sample,
            train,
            validation,
            test,
        }),
        Task::Bench {
            which: BenchTask::CurateMemory { items },
        } => bench::v2::curate_memory(items),
        Task::Bench {
            which: BenchTask::Python { repeat },
        } => bench::python::run(repeat),
        Task::Bench {
            which: BenchTask::SplitMemory { items },
        } => bench::split_memory::run(items),
        Task::Bench {
            which: BenchTask::Audit { items, threads },
        } => bench::audit::run(items, threads),
        Task::Bench {
            which:
                BenchTask::E2e {
                    rows,
                    threads,
                    gzip,
                    reference,
                    corpus,
                    no_floor,
                },
        } => bench::e2e::end_to_end(&bench::e2e::E2eArgs {
            rows,
            threads,
            gzip,
            reference,
            corpus,
            floor: !no_floor,
        })
        .map(|_| ()),
        Task::Bench {
            which:
                BenchTask::Memory {
                    small,
                    large,
                    threads,
                },
        } => bench::memory::run(small, large, threads),
    }
}
