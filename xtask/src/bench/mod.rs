//! `cargo xtask bench ...`: throughput and peak memory, measured on this machine and
//! recorded in docs/benchmarks.md. Never timed in tests. One module per bench; the
//! helpers they share are here.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Result};
use pricer_core::manifest::Manifest;

pub mod audit;
pub mod bpe;
pub mod e2e;
pub mod memory;
pub mod pickles;
pub mod pipeline;
pub mod python;
pub mod split_memory;
pub mod v2;

/// `cargo xtask bench <which>`.
#[derive(clap::Subcommand, Debug)]
pub enum BenchTask {
    /// What users run: `cargo xtask pipeline` (all stages, the audit's four tokenizers)
    /// on make_corpus.py rows, side by side with the Python reference and `gzip -dc`.
    Pipeline(pipeline::PipelineArgs),
    /// The audit of synthetic items, charts included, against the prompt stage's time.
    Audit {
        /// Items to make.
        #[arg(long, default_value_t = 400_000)]
        items: usize,
        /// Worker threads for pricer (the reference, where there is one, gets as many).
        #[arg(long, default_value_t = 2)]
        threads: usize,
    },
    /// Every stage on a synthetic corpus: throughput, peak memory, the encode floor.
    E2e(e2e::E2eArgs),
    /// Peak memory of every stage for two corpus sizes (flatness), synthetic rows.
    Memory {
        /// Rows per category of the small corpus (8 categories).
        #[arg(long, default_value_t = 12_500)]
        small: usize,
        /// Rows per category of the large corpus.
        #[arg(long, default_value_t = 200_000)]
        large: usize,
        /// Worker threads for pricer (the reference, where there is one, gets as many).
        #[arg(long, default_value_t = 2)]
        threads: usize,
    },
    /// pricer-bpe against tokenizers, id for id, on generated texts, and their speeds.
    Bpe {
        /// Texts to encode.
        #[arg(long, default_value_t = 2_000_000)]
        texts: usize,
        /// Worker threads for pricer (the reference, where there is one, gets as many).
        #[arg(long, default_value_t = 2)]
        threads: usize,
    },
    /// Recipe v2 part 1 (xtask pipeline: parse, curate, export) on make_corpus.py rows, side
    /// by side with pricer_v2_ref.py (parse + curate), outputs compared byte for byte.
    V2(v2::V2Args),
    /// The Python package: `import pricer` and `pricer.run("fixtures")` against `cargo
    /// xtask pipeline`, side by side (needs the wheel `cargo xtask ci` installs).
    Python {
        /// Runs of each side, interleaved; medians are compared.
        #[arg(long, default_value_t = 5)]
        repeat: usize,
    },
    /// What V1's pickles add to the export at the classic sizes (synthetic items, split
    /// to 400,000 / 2,000): time and largest process with and without them.
    Pickles {
        /// Synthetic items before the sample (3,000,000 give a sample of over 402,000).
        #[arg(long, default_value_t = 3_000_000)]
        items: usize,
        /// Runs of each side, interleaved; medians are compared.
        #[arg(long, default_value_t = 3)]
        repeat: usize,
    },
    /// Peak memory of the curate stage on synthetic items (the course's draw sizes).
    CurateMemory {
        /// Items to make.
        #[arg(long, default_value_t = 3_000_000)]
        items: usize,
    },
    /// Peak memory of the split stage on synthetic items.
    SplitMemory {
        /// Items to make.
        #[arg(long, default_value_t = 3_000_000)]
        items: usize,
    },
}

/// Runs a benchmark.
pub fn run(task: BenchTask) -> Result<()> {
    match task {
        BenchTask::Pipeline(a) => pipeline::run(&a),
        BenchTask::Bpe { texts, threads } => bpe::run(texts, threads),
        BenchTask::V2(a) => v2::run(&a),
        BenchTask::CurateMemory { items } => v2::curate_memory(items),
        BenchTask::Python { repeat } => python::run(repeat),
        BenchTask::Pickles { items, repeat } => pickles::run(items, repeat),
        BenchTask::SplitMemory { items } => split_memory::run(items),
        BenchTask::Audit { items, threads } => audit::run(items, threads),
        BenchTask::E2e(a) => e2e::end_to_end(&a).map(|_| ()),
        BenchTask::Memory {
            small,
            large,
            threads,
        } => memory::run(small, large, threads),
    }
}

/// Release binaries, built once.
pub fn release_bin(name: &str) -> Result<PathBuf> {
    let status = crate::cargo::cargo()
        .args(["build", "--release", "--quiet", "--bins"])
        .status()?;
    if !status.success() {
        bail!("cargo build --release failed");
    }
    Ok(PathBuf::from("target/release").join(name))
}

/// One timed stage of the end-to-end benchmark.
#[derive(Debug, Clone)]
pub struct StageTiming {
    pub stage: String,
    pub wall: f64,
    pub peak_rss: u64,
    pub records_in: u64,
}

fn timed(
    bin: &Path,
    args: &[&std::ffi::OsStr],
    out_dir: &Path,
    stage: &str,
) -> Result<StageTiming> {
    let t = std::time::Instant::now();
    let status = Command::new(bin)
        .args(args)
        .stdout(std::process::Stdio::null())
        .status()?;
    if !status.success() {
        bail!("{} failed", bin.display());
    }
    let wall = t.elapsed().as_secs_f64();
    let m = Manifest::read(out_dir)?;
    Ok(StageTiming {
        stage: stage.into(),
        wall,
        peak_rss: m.peak_rss_bytes.unwrap_or(0),
        records_in: m.counts.rows_in,
    })
}

/// target/bench/corpus-ROWS[-gz]: a synthetic corpus of 8 x `rows` raw rows, made once.
pub fn synth_corpus(rows: usize, gzip: bool) -> Result<PathBuf> {
    let corpus = PathBuf::from(format!(
        "target/bench/corpus-{rows}{}",
        if gzip { "-gz" } else { "" }
    ));
    if !corpus.is_dir() {
        crate::synth::run(
            Path::new("fixtures/data/amazon-2023"),
            &corpus,
            rows,
            2024,
            gzip,
        )?;
    }
    Ok(corpus)
}

/// target/bench/llama-3.1: the bundled tokenizer files, uncompressed (made once).
pub fn bench_tokenizer_dir() -> Result<PathBuf> {
    let dir = PathBuf::from("target/bench/llama-3.1");
    std::fs::create_dir_all(&dir)?;
    let bundled = Path::new("fixtures/tokenizers/llama-3.1");
    let json = dir.join("tokenizer.json");
    if !json.is_file() {
        let zst = std::fs::read(bundled.join("tokenizer.json.zst"))?;
        std::fs::write(&json, zstd::decode_all(&zst[..])?)?;
    }
    let config = dir.join("tokenizer_config.json");
    if !config.is_file() {
        std::fs::copy(bundled.join("tokenizer_config.json"), &config)?;
    }
    Ok(dir)
}

pub fn raw_size(dir: &Path) -> Result<u64> {
    let mut n = 0;
    for e in std::fs::read_dir(dir)? {
        n += e?.metadata()?.len();
    }
    Ok(n)
}

/// What one measured command took: wall seconds and the largest resident memory of any
/// of its processes (`ru_maxrss` of its waited-for children), in bytes.
#[derive(Debug, Clone, Copy)]
pub struct Measured {
    pub wall: f64,
    pub max_rss: u64,
}

/// Runs `argv` under a small Python launcher that reports `RUSAGE_CHILDREN.ru_maxrss`, so
/// pricer and the Python reference are measured the same way (the largest process).
pub fn measure(argv: &[std::ffi::OsString], cwd: Option<&Path>, quiet: bool) -> Result<Measured> {
    const LAUNCHER: &str = "import resource, subprocess, sys, time\n\
        t = time.monotonic()\n\
        r = subprocess.run(sys.argv[2:], stdout=subprocess.DEVNULL if sys.argv[1] == 'q' else None)\n\
        w = time.monotonic() - t\n\
        print(f'{w} {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}', file=sys.stderr)\n\
        sys.exit(r.returncode)\n";
    let mut cmd = Command::new("python3");
    // What is measured runs as from the user's shell (a cargo in it would otherwise
    // rebuild, see crate::cargo).
    crate::cargo::without_package_env(&mut cmd);
    cmd.args(["-c", LAUNCHER, if quiet { "q" } else { "v" }])
        .args(argv);
    if let Some(dir) = cwd {
        cmd.current_dir(dir);
    }
    let out = cmd.stderr(std::process::Stdio::piped()).output()?;
    let err = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        bail!("{:?} failed:\n{err}", argv.first());
    }
    let last = err.lines().last().unwrap_or_default();
    let mut it = last.split_whitespace();
    let wall: f64 = it.next().and_then(|w| w.parse().ok()).unwrap_or(0.0);
    let kb: u64 = it.next().and_then(|k| k.parse().ok()).unwrap_or(0);
    Ok(Measured {
        wall,
        max_rss: kb * 1024,
    })
}

/// A Python 3.12 venv with numpy 2.3.4 for recipe V2's reference (`target/v2ref-venv`,
/// made once from `python3.12` on PATH or pyenv's), or `PRICER_V2REF_PYTHON`.
pub fn v2_reference_python() -> Result<PathBuf> {
    if let Ok(p) = std::env::var("PRICER_V2REF_PYTHON") {
        return Ok(PathBuf::from(p));
    }
    let python = PathBuf::from("target/v2ref-venv/bin/python");
    let ready = Command::new(&python)
        .args(["-c", "import numpy; assert numpy.__version__ == '2.3.4'"])
        .status()
        .is_ok_and(|s| s.success());
    if !ready {
        let base = ["python3.12"]
            .into_iter()
            .map(PathBuf::from)
            .chain(
                std::fs::read_dir(std::env::var("HOME").unwrap_or_default() + "/.pyenv/versions")
                    .into_iter()
                    .flatten()
                    .flatten()
                    .filter(|e| e.file_name().to_string_lossy().starts_with("3.12"))
                    .map(|e| e.path().join("bin/python")),
            )
            .find(|p| {
                Command::new(p)
                    .arg("--version")
                    .output()
                    .is_ok_and(|o| o.status.success())
            })
            .ok_or_else(|| {
                anyhow::anyhow!("no Python 3.12 found (python3.12 or pyenv) for the V2 reference")
            })?;
        let ok = Command::new(&base)
            .args(["-m", "venv", "target/v2ref-venv"])
            .status()?
            .success()
            && Command::new(&python)
                .args([
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    "numpy==2.3.4",
                ])
                .status()?
                .success();
        if !ok {
            bail!("cannot make target/v2ref-venv (python3.12 -m venv; pip install numpy==2.3.4)");
        }
    }
    Ok(std::env::current_dir()?.join(python))
}
