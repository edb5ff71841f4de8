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
pub mod split_memory;

/// Release binaries, built once.
pub fn release_bin(name: &str) -> Result<PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
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
