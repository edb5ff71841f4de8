//! `cargo xtask bench pipeline`: what users run, `cargo xtask pipeline` (all five
//! stages, the audit's four-tokenizer comparison and report included), on make_corpus.py
//! corpora, side by side in one run with the Python reference (`pricer_ref.py items`)
//! and, for gzip input, with `gzip -dc` inflating the same files on one core. Several
//! sizes in one invocation give the largest process at each size (is memory flat?).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{ensure, Result};
use pricer_core::manifest::Manifest;

use super::{bench_tokenizer_dir, measure, Measured};

#[derive(clap::Args, Debug, Clone)]
pub struct PipelineArgs {
    /// Rows per category (eight categories); several (comma-separated) for a memory
    /// curve, e.g. 12500,200000.
    #[arg(long, value_delimiter = ',', default_value = "5000")]
    pub rows: Vec<usize>,
    /// Worker threads for pricer (the reference, where there is one, gets as many).
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    /// gzip the corpus, and time `gzip -dc` of it on one core beside the pipeline.
    #[arg(long)]
    pub gzip: bool,
    /// Also run the Python reference on the first size (path to pricer_ref.py; needs
    /// PRICER_REF_PYTHON or target/ref-venv with transformers 4.46.3).
    #[arg(long)]
    pub reference: Option<PathBuf>,
    /// Time each side this many times, interleaved, and compare medians (a shared
    /// machine's load changes within seconds; a 1-second run feels it most).
    #[arg(long, default_value_t = 1)]
    pub repeat: usize,
}

/// The run of median wall time (the largest process is the largest over all runs).
fn median(mut runs: Vec<Measured>) -> Measured {
    let max_rss = runs.iter().map(|m| m.max_rss).max().unwrap_or(0);
    runs.sort_by(|a, b| a.wall.total_cmp(&b.wall));
    let mut m = runs.swap_remove(runs.len() / 2);
    m.max_rss = max_rss;
    m
}

fn walls(runs: &[f64]) -> String {
    runs.iter()
        .map(|w| format!("{w:.2}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// target/bench/pipeline-corpus-ROWS[-gz]: make_corpus.py's 8 x `rows` rows (seed 2024).
fn corpus(rows: usize, gzip: bool) -> Result<PathBuf> {
    let dir = PathBuf::from(format!(
        "target/bench/pipeline-corpus-{rows}{}",
        if gzip { "-gz" } else { "" }
    ));
    let done = dir.join(".complete");
    if !done.is_file() {
        let mut cmd = Command::new("python3");
        cmd.args(["xtask/tools/make_corpus.py", "fixtures/data/amazon-2023"])
            .arg(&dir)
            .args(["--rows", &rows.to_string()]);
        if gzip {
            cmd.arg("--gzip");
        }
        ensure!(cmd.status()?.success(), "make_corpus.py failed");
        std::fs::write(&done, b"")?;
    }
    Ok(dir)
}

fn files(corpus: &Path) -> Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("meta_"))
        })
        .collect();
    files.sort();
    Ok(files)
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1 << 20) as f64
}

/// The command of the README: `cargo xtask pipeline` (the dev profile xtask binary,
/// built before any clock starts; cargo's own up-to-date check is inside the timing).
fn ours(corpus: &Path, dir: &Path, threads: usize) -> Result<Measured> {
    let config = dir.join("run.toml");
    let categories: Vec<String> = files(corpus)?
        .iter()
        .filter_map(|f| {
            f.file_name()?
                .to_str()?
                .strip_prefix("meta_")?
                .split('.')
                .next()
                .map(String::from)
        })
        .collect();
    std::fs::write(
        &config,
        format!(
            "[input]\ndata_dir = {:?}\ncategories = {categories:?}\n[split]\ntake_available = true\n",
            corpus.canonicalize()?
        ),
    )?;
    let run = dir.join("run");
    if run.exists() {
        std::fs::remove_dir_all(&run)?;
    }
    let argv: Vec<OsString> = ["cargo", "xtask", "pipeline", "--config"]
        .iter()
        .map(OsString::from)
        .chain([
            config.into_os_string(),
            "--out".into(),
            run.clone().into_os_string(),
        ])
        .chain(["--threads".into(), threads.to_string().into()])
        .collect();
    let m = measure(&argv, None, true)?;
    println!("  {:<8} {:>8} {:>10}", "stage", "wall s", "peak MiB");
    for stage in ["ingest", "prompt", "split", "audit", "export"] {
        let man = Manifest::read(&run.join(stage))?;
        println!(
            "  {:<8} {:>8.2} {:>10.0}",
            stage,
            man.wall_seconds,
            mib(man.peak_rss_bytes.unwrap_or(0))
        );
    }
    Ok(m)
}

fn reference(script: &Path, corpus: &Path, dir: &Path, threads: usize) -> Result<Measured> {
    let python =
        std::env::var("PRICER_REF_PYTHON").unwrap_or_else(|_| "target/ref-venv/bin/python".into());
    let tokenizer = bench_tokenizer_dir()?;
    let mut argv: Vec<OsString> = vec![
        python.into(),
        script.into(),
        "items".into(),
        "--workers".into(),
        threads.to_string().into(),
        "--tokenizer".into(),
        tokenizer.into(),
        "--out".into(),
        dir.join("ref-items.jsonl").into(),
    ];
    argv.extend(files(corpus)?.into_iter().map(OsString::from));
    measure(&argv, None, true)
}

/// `gzip -dc` of every file, one after the other, on one core.
fn gunzip(corpus: &Path) -> Result<Measured> {
    let mut argv: Vec<OsString> = vec!["sh".into(), "-c".into()];
    let list = files(corpus)?
        .iter()
        .map(|f| format!("'{}'", f.display()))
        .collect::<Vec<_>>()
        .join(" ");
    argv.push(format!("gzip -dc {list} > /dev/null").into());
    measure(&argv, None, true)
}

pub fn run(a: &PipelineArgs) -> Result<()> {
    ensure!(
        crate::cargo::cargo()
            .args(["build", "--quiet", "-p", "xtask"])
            .status()?
            .success(),
        "cargo build -p xtask failed"
    );
    let mut peaks = Vec::new();
    for (i, &rows) in a.rows.iter().enumerate() {
        let max_rss = one_size(a, rows, i == 0)?;
        peaks.push((rows * 8, max_rss));
    }
    if peaks.len() > 1 {
        let (lo, hi) = (peaks[0], peaks[peaks.len() - 1]);
        println!(
            "largest process: {:.0} MiB at {} rows, {:.0} MiB at {} rows: ratio {:.2}",
            mib(lo.1),
            lo.0,
            mib(hi.1),
            hi.0,
            hi.1 as f64 / lo.1.max(1) as f64
        );
    }
    Ok(())
}

/// One corpus size, every side `repeat` times interleaved (the reference only when
/// `first`); returns pricer's largest process.
fn one_size(a: &PipelineArgs, rows: usize, first: bool) -> Result<u64> {
    let corpus = corpus(rows, a.gzip)?;
    let dir = PathBuf::from(format!(
        "target/bench/pipeline-{rows}{}",
        if a.gzip { "-gz" } else { "" }
    ));
    std::fs::create_dir_all(&dir)?;
    println!(
        "corpus: {} (8 x {rows} rows{}), {} threads",
        corpus.display(),
        if a.gzip { ", gzip" } else { "" },
        a.threads
    );
    let repeat = a.repeat.max(1);
    let with_reference = a.reference.as_ref().filter(|_| first);
    let (mut ours_runs, mut gzip_runs, mut ref_runs) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..repeat {
        ours_runs.push(ours(&corpus, &dir, a.threads)?);
        if a.gzip {
            gzip_runs.push(gunzip(&corpus)?);
        }
        if let Some(script) = with_reference {
            ref_runs.push(reference(script, &corpus, &dir, a.threads)?);
        }
    }
    let times = |runs: &[Measured]| walls(&runs.iter().map(|m| m.wall).collect::<Vec<_>>());
    let of_runs = |runs: &[Measured]| {
        if repeat > 1 {
            format!(" (median of {repeat}: {})", times(runs))
        } else {
            String::new()
        }
    };
    let (ours_times, gzip_times, ref_times) =
        (of_runs(&ours_runs), of_runs(&gzip_runs), of_runs(&ref_runs));
    let m = median(ours_runs);
    println!(
        "cargo xtask pipeline (ingest, prompt, split, audit with 4 tokenizers, export): {:.2} s{ours_times}, largest process {:.0} MiB",
        m.wall,
        mib(m.max_rss)
    );
    if a.gzip {
        let g = median(gzip_runs);
        println!(
            "gzip -dc of the same files, one core: {:.2} s{gzip_times}; pipeline / gzip = {:.2}",
            g.wall,
            m.wall / g.wall
        );
    }
    if with_reference.is_some() {
        let r = median(ref_runs);
        println!(
            "reference (pricer_ref.py items --workers {}): {:.2} s{ref_times}, largest process {:.0} MiB; \
             pricer is {:.1}x faster, side by side in one run",
            a.threads,
            r.wall,
            mib(r.max_rss),
            r.wall / m.wall
        );
    }
    Ok(m.max_rss)
}
