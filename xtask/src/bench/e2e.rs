//! `cargo xtask bench e2e`: every stage on a corpus, next to the encode floor and the
//! Python reference.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use super::{bench_tokenizer_dir, raw_size, release_bin, synth_corpus, timed, StageTiming};

#[derive(clap::Args, Debug, Clone)]
pub struct E2eArgs {
    /// Rows per category (eight categories).
    #[arg(long, default_value_t = 5_000)]
    pub rows: usize,
    /// Worker threads for pricer (the reference, where there is one, gets as many).
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    /// gzip the corpus.
    #[arg(long)]
    pub gzip: bool,
    /// Also run the Python reference (path to pricer_ref.py; needs PRICER_REF_PYTHON
    /// or target/ref-venv with transformers 4.46.3).
    #[arg(long)]
    pub reference: Option<PathBuf>,
    /// Use this corpus folder (e.g. from shared/bench/make_corpus.py) instead of a
    /// synthetic one; --rows and --gzip are then ignored.
    #[arg(long)]
    pub corpus: Option<PathBuf>,
    /// Skip the encode floor (for very large corpora: it holds every text in memory).
    #[arg(long)]
    pub no_floor: bool,
}

/// `cargo xtask bench e2e`: per-stage and end-to-end throughput and peak memory on a
/// synthetic corpus, next to the encode floor and (optionally) the Python reference.
/// Returns the per-stage timings.
pub fn end_to_end(a: &E2eArgs) -> Result<Vec<StageTiming>> {
    let corpus = match &a.corpus {
        Some(c) => c.clone(),
        None => synth_corpus(a.rows, a.gzip)?,
    };
    let run = PathBuf::from(format!(
        "target/bench/run-{}",
        corpus
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("corpus")
    ));
    if run.exists() {
        std::fs::remove_dir_all(&run)?;
    }
    // The bundled Llama 3.1 tokenizer, uncompressed: the same files the Python reference
    // reads, so neither side pays for decompressing it.
    let tokenizer = bench_tokenizer_dir()?;
    release_bin("pricer-ingest")?; // builds every binary once, before any clock starts
    let mut stages = Vec::new();
    for (stage, args) in stage_args(&corpus, &run, &tokenizer, a.threads) {
        let args: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
        let bin = PathBuf::from("target/release").join(format!("pricer-{stage}"));
        stages.push(timed(&bin, &args, &run.join(stage), stage)?);
    }
    // Raw rows to exported Parquet is ingest, prompt, split, export; the audit is a
    // report beside that path (export does not read it), timed and shown on its own.
    let total: f64 = stages
        .iter()
        .filter(|s| s.stage != "audit")
        .map(|s| s.wall)
        .sum();
    let with_audit: f64 = stages.iter().map(|s| s.wall).sum();
    report(&stages, &corpus, a.threads, total, with_audit)?;
    let raw_rows = stages[0].records_in as f64;
    if !a.no_floor {
        let (floor, texts, text_bytes) =
            encode_floor(&run.join("ingest/candidates.art"), &tokenizer, a.threads)?;
        println!(
            "floor (one tokenizers encode of the {texts} candidate texts, {:.1} MB, {} threads): \
             {floor:.2} s; end to end / floor = {:.2} ({})",
            text_bytes as f64 / 1e6,
            a.threads,
            total / floor,
            if total < floor {
                "faster than the floor"
            } else {
                "slower than the floor"
            }
        );
    }
    if let Some(script) = a.reference.as_deref() {
        let ref_wall = reference(script, &corpus, &run, &tokenizer, a.threads)?;
        println!(
            "reference (pricer_ref.py items --workers {}): {ref_wall:.2} s, {:.0} rows/s; \
             pricer end to end is {:.1}x faster ({:.1}x with the audit)",
            a.threads,
            raw_rows / ref_wall,
            ref_wall / total,
            ref_wall / with_audit
        );
    }
    Ok(stages)
}

/// Each stage binary's arguments for a run of `corpus` into `run`.
fn stage_args(
    corpus: &Path,
    run: &Path,
    tokenizer: &Path,
    threads: usize,
) -> [(&'static str, Vec<std::ffi::OsString>); 5] {
    let o = |p: &Path| p.as_os_str().to_owned();
    let t: std::ffi::OsString = threads.to_string().into();
    let dir = |s: &str| o(&run.join(s));
    [
        (
            "ingest",
            vec![
                o(corpus),
                "--out".into(),
                dir("ingest"),
                "--threads".into(),
                t.clone(),
            ],
        ),
        (
            "prompt",
            vec![
                dir("ingest"),
                "--out".into(),
                dir("prompt"),
                "--threads".into(),
                t.clone(),
                "--tokenizer".into(),
                o(tokenizer),
            ],
        ),
        (
            "split",
            vec![
                dir("prompt"),
                "--out".into(),
                dir("split"),
                "--take-available".into(),
            ],
        ),
        (
            "audit",
            vec![
                dir("prompt"),
                "--split".into(),
                dir("split"),
                "--out".into(),
                dir("audit"),
                "--threads".into(),
                t,
            ],
        ),
        ("export", vec![o(run), "--out".into(), dir("export")]),
    ]
}

/// The per-stage table and the end-to-end lines.
fn report(
    stages: &[StageTiming],
    corpus: &Path,
    threads: usize,
    total: f64,
    with_audit: f64,
) -> Result<()> {
    let raw_rows = stages[0].records_in as f64;
    let raw_mb = raw_size(corpus)? as f64 / 1e6;
    println!(
        "corpus: {} ({} rows, {raw_mb:.1} MB on disk), {threads} threads",
        corpus.display(),
        raw_rows
    );
    println!(
        "{:<8} {:>9} {:>12} {:>10} {:>10}",
        "stage", "wall s", "records/s", "MB/s raw", "peak MB"
    );
    for s in stages {
        println!(
            "{:<8} {:>9.2} {:>12.0} {:>10} {:>10.0}",
            s.stage,
            s.wall,
            s.records_in as f64 / s.wall,
            if s.stage == "ingest" {
                format!("{:.1}", raw_mb / s.wall)
            } else {
                "-".into()
            },
            s.peak_rss as f64 / 1e6
        );
    }
    let peak = stages.iter().map(|s| s.peak_rss).max().unwrap_or(0) as f64 / 1e6;
    println!(
        "end to end (raw rows to exported Parquet: ingest, prompt, split, export): {total:.2} s, {:.0} rows/s",
        raw_rows / total
    );
    println!(
        "with the audit report as well: {with_audit:.2} s, {:.0} rows/s; peak of any stage {peak:.0} MB",
        raw_rows / with_audit
    );
    Ok(())
}

/// The Python reference's wall time over the same files.
fn reference(
    script: &Path,
    corpus: &Path,
    run: &Path,
    tokenizer: &Path,
    threads: usize,
) -> Result<f64> {
    let python =
        std::env::var("PRICER_REF_PYTHON").unwrap_or_else(|_| "target/ref-venv/bin/python".into());
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    files.sort();
    let t = std::time::Instant::now();
    let status = Command::new(&python)
        .arg(script)
        .args(["items", "--workers", &threads.to_string(), "--tokenizer"])
        .arg(tokenizer)
        .arg("--out")
        .arg(run.join("ref-items.jsonl"))
        .args(&files)
        .status()
        .with_context(|| format!("cannot run {python}"))?;
    if !status.success() {
        bail!("the reference failed");
    }
    Ok(t.elapsed().as_secs_f64())
}

/// The floor: one `tokenizers` encode of every candidate text, `threads` threads.
pub fn encode_floor(
    candidates: &Path,
    tokenizer_path: &Path,
    threads: usize,
) -> Result<(f64, u64, u64)> {
    use rayon::prelude::*;
    let tok = pricer_tokenizer::load(&pricer_tokenizer::TokenizerSource::Path(
        tokenizer_path.to_owned(),
    ))?;
    let texts: Vec<String> =
        pricer_core::ArtifactReader::<pricer_core::Candidate>::open(candidates)?
            .map(|c| c.map(|c| c.text))
            .collect::<Result<_, _>>()?;
    let bytes: u64 = texts.iter().map(|t| t.len() as u64).sum();
    let reference = tok.reference()?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()?;
    let t = std::time::Instant::now();
    let tokens: usize = pool.install(|| {
        texts
            .par_iter()
            .map(|s| {
                reference
                    .encode_fast(s.as_str(), false)
                    .map(|e| e.len())
                    .unwrap_or(0)
            })
            .sum()
    });
    tracing::debug!(tokens, "floor encode");
    Ok((t.elapsed().as_secs_f64(), texts.len() as u64, bytes))
}
