//! `cargo xtask bench ...`: throughput and peak memory, measured on this machine and
//! recorded in docs/benchmarks.md. Never timed in tests.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use pricer_core::artifact::ArtifactWriter;
use pricer_core::manifest::Manifest;
use pricer_core::{recipe, Item};

/// A small deterministic generator (splitmix64) for synthetic data.
pub struct SplitMix(pub u64);

impl SplitMix {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

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

/// Synthetic items with the classic run's category mix, a long-tailed price
/// distribution, and prompts of realistic length (~900 bytes).
pub fn synth_items(path: &Path, n: usize) -> Result<()> {
    let shares = [0.324, 0.158, 0.086, 0.192, 0.085, 0.121, 0.010, 0.024];
    let words = [
        "heavy",
        "duty",
        "steel",
        "replacement",
        "kit",
        "black",
        "premium",
        "compatible",
        "with",
        "pack",
    ];
    let mut rng = SplitMix(2024);
    let mut w = ArtifactWriter::<Item>::create(path)?;
    for _ in 0..n {
        let u = rng.unit();
        let mut acc = 0.0;
        let cat = shares.iter().position(|s| {
            acc += s;
            u < acc
        });
        let category = recipe::CLASSIC_CATEGORIES[cat.unwrap_or(0)];
        // exp(N(3.4, 1.3)) by Box-Muller, clamped to the recipe's range, in cents.
        let z =
            (-2.0 * (1.0 - rng.unit()).ln()).sqrt() * (std::f64::consts::TAU * rng.unit()).cos();
        let price = ((3.4 + 1.3 * z)
            .exp()
            .clamp(recipe::MIN_PRICE, recipe::MAX_PRICE)
            * 100.0)
            .round()
            / 100.0;
        let mut body = String::with_capacity(900);
        while body.len() < 800 {
            body.push_str(words[(rng.next_u64() % words.len() as u64) as usize]);
            body.push(' ');
        }
        let prompt = recipe::prompt(body.trim_end(), price);
        w.write(&Item {
            category: category.into(),
            title: body[..40].to_owned(),
            price,
            prompt,
            token_count: 177,
        })?;
    }
    w.finish()?;
    Ok(())
}

/// Split's peak memory on `n` synthetic items, with the recipe's sizes.
pub fn split_memory(n: usize) -> Result<()> {
    let bin = release_bin("pricer-split")?;
    let dir = PathBuf::from(format!("target/bench/split-{n}"));
    let items = dir.join("items.art");
    if !items.is_file() {
        eprintln!("writing {n} synthetic items to {}", items.display());
        synth_items(&items, n)?;
    }
    let out = dir.join("split");
    let status = Command::new(&bin)
        .arg(&items)
        .arg("--out")
        .arg(&out)
        .status()?;
    if !status.success() {
        bail!("pricer-split failed");
    }
    let m = Manifest::read(&out)?;
    let peak = m
        .peak_rss_bytes
        .context("peak memory not recorded (not Linux?)")?;
    let items_mb = std::fs::metadata(&items)?.len() as f64 / 1e6;
    println!(
        "split on {n} items ({items_mb:.0} MB artifact): {:.1} s, peak RSS {:.0} MB, sample {}",
        m.wall_seconds,
        peak as f64 / 1e6,
        m.summary["sample"]
    );
    Ok(())
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

/// The floor: one `tokenizers` encode of every candidate text, `threads` threads.
pub fn encode_floor(
    candidates: &Path,
    tokenizer_path: &Path,
    threads: usize,
) -> Result<(f64, u64, u64)> {
    use rayon::prelude::*;
    let tok = pricer_prompt::tokenizer::load(&pricer_prompt::TokenizerSource::Path(
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

fn raw_size(dir: &Path) -> Result<u64> {
    let mut n = 0;
    for e in std::fs::read_dir(dir)? {
        n += e?.metadata()?.len();
    }
    Ok(n)
}

pub struct E2eArgs {
    pub rows: usize,
    pub threads: usize,
    pub gzip: bool,
    pub reference: Option<PathBuf>,
    pub corpus: Option<PathBuf>,
    pub floor: bool,
}

/// `cargo xtask bench e2e`: per-stage and end-to-end throughput and peak memory on a
/// synthetic corpus, next to the encode floor and (optionally) the Python reference.
/// Returns the per-stage timings.
pub fn end_to_end(a: &E2eArgs) -> Result<Vec<StageTiming>> {
    let (rows, threads, gzip, reference) = (a.rows, a.threads, a.gzip, a.reference.as_deref());
    let corpus = match &a.corpus {
        Some(c) => c.clone(),
        None => synth_corpus(rows, gzip)?,
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
    let t = threads.to_string();
    let th = std::ffi::OsStr::new(&t);
    let (ingest, prompt, split, audit, export) = (
        run.join("ingest"),
        run.join("prompt"),
        run.join("split"),
        run.join("audit"),
        run.join("export"),
    );
    release_bin("pricer-ingest")?; // builds every binary once, before any clock starts
    let o = |p: &Path| p.as_os_str().to_owned();
    let plan: [(&str, Vec<std::ffi::OsString>, &Path); 5] = [
        (
            "ingest",
            vec![
                o(&corpus),
                "--out".into(),
                o(&ingest),
                "--threads".into(),
                th.into(),
            ],
            &ingest,
        ),
        (
            "prompt",
            vec![
                o(&ingest),
                "--out".into(),
                o(&prompt),
                "--threads".into(),
                th.into(),
                "--tokenizer".into(),
                o(&tokenizer),
            ],
            &prompt,
        ),
        (
            "split",
            vec![
                o(&prompt),
                "--out".into(),
                o(&split),
                "--take-available".into(),
            ],
            &split,
        ),
        (
            "audit",
            vec![
                o(&prompt),
                "--split".into(),
                o(&split),
                "--out".into(),
                o(&audit),
                "--threads".into(),
                th.into(),
            ],
            &audit,
        ),
        ("export", vec![o(&run), "--out".into(), o(&export)], &export),
    ];
    let mut stages = Vec::with_capacity(plan.len());
    for (stage, args, dir) in plan {
        let args: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
        stages.push(timed(
            &PathBuf::from("target/release").join(format!("pricer-{stage}")),
            &args,
            dir,
            stage,
        )?);
    }
    // Raw rows to exported Parquet is ingest, prompt, split, export; the audit is a
    // report beside that path (export does not read it), timed and shown on its own.
    let total: f64 = stages
        .iter()
        .filter(|s| s.stage != "audit")
        .map(|s| s.wall)
        .sum();
    let with_audit: f64 = stages.iter().map(|s| s.wall).sum();
    let raw_rows = stages[0].records_in as f64;
    let raw_mb = raw_size(&corpus)? as f64 / 1e6;
    println!(
        "corpus: {} ({} rows, {raw_mb:.1} MB on disk), {threads} threads",
        corpus.display(),
        raw_rows
    );
    println!(
        "{:<8} {:>9} {:>12} {:>10} {:>10}",
        "stage", "wall s", "records/s", "MB/s raw", "peak MB"
    );
    for s in &stages {
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
    if a.floor {
        let (floor, texts, text_bytes) =
            encode_floor(&ingest.join("candidates.art"), &tokenizer, threads)?;
        println!(
            "floor (one tokenizers encode of the {texts} candidate texts, {:.1} MB, {threads} threads): \
             {floor:.2} s; end to end / floor = {:.2} ({})",
            text_bytes as f64 / 1e6,
            total / floor,
            if total < floor { "faster than the floor" } else { "slower than the floor" }
        );
    }
    if let Some(script) = reference {
        let python = std::env::var("PRICER_REF_PYTHON")
            .unwrap_or_else(|_| "target/ref-venv/bin/python".into());
        let mut files: Vec<PathBuf> = std::fs::read_dir(&corpus)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        files.sort();
        let t = std::time::Instant::now();
        let status = Command::new(&python)
            .arg(script)
            .args([
                "items",
                "--workers",
                &threads.to_string(),
                "--tokenizer",
                tokenizer.to_str().unwrap_or("target/bench/llama-3.1"),
                "--out",
            ])
            .arg(run.join("ref-items.jsonl"))
            .args(&files)
            .status()
            .with_context(|| format!("cannot run {python}"))?;
        if !status.success() {
            bail!("the reference failed");
        }
        let ref_wall = t.elapsed().as_secs_f64();
        println!(
            "reference (pricer_ref.py items --workers {threads}): {ref_wall:.2} s, {:.0} rows/s; \
             pricer end to end is {:.1}x faster ({:.1}x with the audit)",
            raw_rows / ref_wall,
            ref_wall / total,
            ref_wall / with_audit
        );
    }
    Ok(stages)
}

/// `cargo xtask bench memory`: every stage's peak memory on a small and a large
/// synthetic corpus, side by side in one run, and the large/small ratio per stage.
pub fn memory(small: usize, large: usize, threads: usize) -> Result<()> {
    let mut runs = Vec::new();
    for rows in [small, large] {
        let stages = end_to_end(&E2eArgs {
            rows,
            threads,
            gzip: false,
            reference: None,
            corpus: None,
            floor: false,
        })?;
        runs.push((rows * 8, stages));
    }
    println!("\npeak memory (VmHWM) by stage, {threads} threads");
    println!(
        "{:<8} {:>14} {:>14} {:>8}",
        "stage",
        format!("{} rows", runs[0].0),
        format!("{} rows", runs[1].0),
        "ratio"
    );
    let mut peaks = [0u64; 2];
    for (a, b) in runs[0].1.iter().zip(&runs[1].1) {
        println!(
            "{:<8} {:>11.0} MB {:>11.0} MB {:>8.2}",
            a.stage,
            a.peak_rss as f64 / 1e6,
            b.peak_rss as f64 / 1e6,
            b.peak_rss as f64 / a.peak_rss.max(1) as f64
        );
        peaks[0] = peaks[0].max(a.peak_rss);
        peaks[1] = peaks[1].max(b.peak_rss);
    }
    println!(
        "pipeline peak: {:.0} MB and {:.0} MB, ratio {:.2} (target: at most 512 MB, within 20%)",
        peaks[0] as f64 / 1e6,
        peaks[1] as f64 / 1e6,
        peaks[1] as f64 / peaks[0].max(1) as f64
    );
    Ok(())
}

/// `cargo xtask bench audit`: the audit (charts included) of `n` synthetic items, next
/// to the prompt stage's time for as many items at the rate measured on a synthetic raw
/// corpus in the same run.
pub fn audit(n: usize, threads: usize) -> Result<()> {
    release_bin("pricer-audit")?;
    let dir = PathBuf::from(format!("target/bench/audit-{n}"));
    let items = dir.join("prompt");
    if !items.join("items.art").is_file() {
        synth_items(&items.join("items.art"), n)?;
    }
    let th = threads.to_string();
    let out = dir.join("audit");
    let a = timed(
        Path::new("target/release/pricer-audit"),
        &[
            items.as_os_str(),
            "--out".as_ref(),
            out.as_os_str(),
            "--threads".as_ref(),
            th.as_ref(),
        ],
        &out,
        "audit",
    )?;
    // The prompt stage's rate, measured now on 8 x 2,000 raw rows.
    let corpus = synth_corpus(2000, false)?;
    let (ingest, prompt) = (dir.join("p-ingest"), dir.join("p-prompt"));
    timed(
        Path::new("target/release/pricer-ingest"),
        &[
            corpus.as_os_str(),
            "--out".as_ref(),
            ingest.as_os_str(),
            "--threads".as_ref(),
            th.as_ref(),
        ],
        &ingest,
        "ingest",
    )?;
    let p = timed(
        Path::new("target/release/pricer-prompt"),
        &[
            ingest.as_os_str(),
            "--out".as_ref(),
            prompt.as_os_str(),
            "--threads".as_ref(),
            th.as_ref(),
        ],
        &prompt,
        "prompt",
    )?;
    let kept = Manifest::read(&prompt)?.counts.kept as f64;
    let prompt_for_n = p.wall / kept * n as f64;
    println!(
        "audit of {n} items (charts included, {threads} threads): {:.2} s, peak {:.0} MB; prompt stage for {n} items at \
         the measured {:.0} items/s: {prompt_for_n:.0} s; audit / prompt = {:.1}%",
        a.wall,
        a.peak_rss as f64 / 1e6,
        kept / p.wall,
        100.0 * a.wall / prompt_for_n
    );
    Ok(())
}
