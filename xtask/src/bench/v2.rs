//! Recipe V2 part 1: `cargo xtask bench v2` runs the V2 pipeline (parse, curate, export)
//! on a make_corpus.py corpus side by side with `pricer_v2_ref.py parse` + `curate`, and
//! checks both wrote the same items and splits; `cargo xtask bench curate-memory` measures
//! the curate stage's peak memory on millions of synthetic items.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, ensure, Context, Result};
use pricer_core::artifact::ArtifactWriter;
use pricer_core::manifest::Manifest;
use pricer_core::rng::SplitMix64;
use pricer_core::{recipe, RawItem};

use super::{measure, release_bin, v2_reference_python, Measured};

pub const COURSE_ORDER: [&str; 8] = recipe::CLASSIC_CATEGORIES;

#[derive(clap::Args, Debug, Clone)]
pub struct V2Args {
    /// Rows per category (eight categories).
    #[arg(long, default_value_t = 5_000)]
    pub rows: usize,
    /// Worker threads for pricer (the reference, where there is one, gets as many).
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    /// Also run the reference (path to pricer_v2_ref.py; Python 3.12 + numpy 2.3.4 in
    /// target/v2ref-venv, made on first use, or PRICER_V2REF_PYTHON).
    #[arg(long)]
    pub reference: Option<PathBuf>,
    /// Items drawn (the course: 820,000).
    #[arg(long, default_value_t = 4_000)]
    pub sample: usize,
    /// Train items.
    #[arg(long, default_value_t = 3_400)]
    pub train: usize,
    /// Validation items.
    #[arg(long, default_value_t = 300)]
    pub validation: usize,
    /// Test items.
    #[arg(long, default_value_t = 300)]
    pub test: usize,
}

/// target/bench/v2-corpus-ROWS: make_corpus.py's corpus of 8 x `rows` rows (seed 11).
fn corpus(rows: usize) -> Result<PathBuf> {
    let dir = PathBuf::from(format!("target/bench/v2-corpus-{rows}"));
    if !dir.join("meta_Musical_Instruments.jsonl").is_file() {
        let status = Command::new("python3")
            .args(["xtask/tools/make_corpus.py", "fixtures/data/amazon-2023"])
            .arg(&dir)
            .args(["--rows", &rows.to_string(), "--seed", "11"])
            .status()?;
        ensure!(status.success(), "make_corpus.py failed");
    }
    Ok(dir)
}

fn os(items: &[&dyn AsRef<std::ffi::OsStr>]) -> Vec<OsString> {
    items.iter().map(|s| s.as_ref().to_owned()).collect()
}

pub fn run(a: &V2Args) -> Result<()> {
    let corpus = corpus(a.rows)?;
    let xtask = release_bin("xtask")?;
    let dir = PathBuf::from(format!("target/bench/v2-{}", a.rows));
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    std::fs::create_dir_all(&dir)?;
    let config = dir.join("run.toml");
    std::fs::write(
        &config,
        format!(
            "recipe = \"v2\"\n[input]\ndata_dir = {:?}\ncategories = {:?}\n[curate]\nsample = {}\ntrace = true\n\
             [split]\ntrain = {}\nvalidation = {}\ntest = {}\n",
            corpus.canonicalize()?,
            COURSE_ORDER,
            a.sample,
            a.train,
            a.validation,
            a.test
        ),
    )?;
    let run = dir.join("run");
    let t = a.threads.to_string();
    let ours = measure(
        &os(&[
            &xtask,
            &"pipeline",
            &"--config",
            &config,
            &"--out",
            &run,
            &"--threads",
            &t,
        ]),
        None,
        true,
    )?;
    println!(
        "corpus: {} (8 x {} rows), {} threads",
        corpus.display(),
        a.rows,
        a.threads
    );
    println!("{:<10} {:>8} {:>10}", "stage", "wall s", "peak MB");
    for stage in ["ingest", "curate", "export"] {
        let m = Manifest::read(&run.join(stage))?;
        println!(
            "{:<10} {:>8.2} {:>10.0}",
            stage,
            m.wall_seconds,
            m.peak_rss_bytes.unwrap_or(0) as f64 / 1e6
        );
    }
    println!(
        "pricer (xtask pipeline, v2: parse, curate with trace, export full + lite): {:.2} s, largest process {:.0} MiB",
        ours.wall,
        ours.max_rss as f64 / (1 << 20) as f64
    );
    if let Some(script) = &a.reference {
        let theirs = reference(script, &corpus, &dir, a)?;
        println!(
            "reference (pricer_v2_ref.py parse --course-order + curate, Python 3.12, numpy 2.3.4): {:.2} s, largest process {:.0} MiB",
            theirs.wall,
            theirs.max_rss as f64 / (1 << 20) as f64
        );
        println!(
            "pricer is {:.1}x faster, side by side in one run",
            theirs.wall / ours.wall
        );
        same_output(&run, &dir.join("ref"))?;
        println!("both wrote the same items_raw, rejects, trace and splits (byte for byte)");
    }
    Ok(())
}

/// Times the reference's parse and curate (one after the other, as one measure).
fn reference(script: &Path, corpus: &Path, dir: &Path, a: &V2Args) -> Result<Measured> {
    let python = v2_reference_python()?;
    let out = dir.join("ref");
    std::fs::create_dir_all(&out)?;
    let mut files: Vec<PathBuf> = COURSE_ORDER
        .iter()
        .map(|c| corpus.join(format!("meta_{c}.jsonl")))
        .collect();
    files.sort();
    let sh = format!(
        "set -e; {py} {ref} parse --out {o}/items_raw.jsonl --rejects {o}/rejects.jsonl --course-order {files}; \
         {py} {ref} curate --items {o}/items_raw.jsonl --out-dir {o}/curate --seed 42 --sample {s} --train {t} --val {v} --test {te}",
        py = python.display(),
        ref = script.display(),
        o = out.display(),
        files = files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>().join(" "),
        s = a.sample,
        t = a.train,
        v = a.validation,
        te = a.test
    );
    measure(&os(&[&"sh", &"-c", &sh]), None, true)
}

/// Both sides' outputs, compared byte for byte.
fn same_output(run: &Path, reference: &Path) -> Result<()> {
    let dump = |p: &Path| -> Result<Vec<u8>> {
        let out = Command::new("target/release/xtask")
            .arg("dump")
            .arg(p)
            .output()?;
        ensure!(out.status.success(), "xtask dump {} failed", p.display());
        Ok(out.stdout)
    };
    let same = |ours: Vec<u8>, theirs: &Path| -> Result<()> {
        let want =
            std::fs::read(theirs).with_context(|| format!("{}: cannot read", theirs.display()))?;
        if ours != want {
            bail!("pricer's output differs from {}", theirs.display());
        }
        Ok(())
    };
    same(
        dump(&run.join("ingest"))?,
        &reference.join("items_raw.jsonl"),
    )?;
    same(
        std::fs::read(run.join("ingest/rejects.jsonl"))?,
        &reference.join("rejects.jsonl"),
    )?;
    for f in [
        "order.json",
        "weights.json",
        "draw.json",
        "dedup-titles.jsonl",
    ] {
        same(
            std::fs::read(run.join("curate/trace").join(f))?,
            &reference.join("curate").join(f),
        )?;
    }
    for (ours, theirs) in [("train", "train"), ("validation", "val"), ("test", "test")] {
        same(
            dump(&run.join(format!("curate/{ours}.art")))?,
            &reference.join(format!("curate/{theirs}.jsonl")),
        )?;
    }
    Ok(())
}

/// `n` synthetic items_raw records: the course's category mix, long-tailed prices, texts
/// of about 2,500 characters, about 1% repeated titles and 1% repeated texts.
fn synth_items_raw(path: &Path, n: usize) -> Result<()> {
    let words = [
        "steel",
        "replacement",
        "kit",
        "black",
        "premium",
        "compatible",
        "pack",
        "cable",
        "mount",
        "pro",
    ];
    let mut rng = SplitMix64(2025);
    let mut w = ArtifactWriter::<RawItem>::create(path)?;
    for i in 0..n {
        let category = COURSE_ORDER[rng.modulo(COURSE_ORDER.len())];
        let z =
            (-2.0 * (1.0 - rng.unit()).ln()).sqrt() * (std::f64::consts::TAU * rng.unit()).cos();
        let price = ((3.6 + 1.2 * z).exp().clamp(0.5, 999.49) * 100.0).round() / 100.0;
        let id = if rng.modulo(100) == 0 { i / 2 } else { i };
        let title = format!(
            "{} {} item {id}",
            words[rng.modulo(10)],
            words[rng.modulo(10)]
        );
        let mut full = format!("{title}\n");
        let text_id = if rng.modulo(100) == 0 { 7 } else { i };
        full.push_str(&format!("['product {text_id}"));
        while full.len() < 2500 {
            full.push(' ');
            full.push_str(words[rng.modulo(10)]);
        }
        full.push_str("']");
        w.write(&RawItem {
            title,
            category: category.into(),
            price,
            full,
            weight: rng.unit() * 10.0,
        })?;
    }
    w.finish()?;
    Ok(())
}

/// `cargo xtask bench curate-memory`: pricer-curate on `n` synthetic items with the
/// course's draw (820,000 of them, 800,000 / 10,000 / 10,000).
pub fn curate_memory(n: usize) -> Result<()> {
    let bin = release_bin("pricer-curate")?;
    let dir = PathBuf::from(format!("target/bench/curate-{n}"));
    let items = dir.join("items_raw.art");
    if !items.is_file() {
        eprintln!(
            "writing {n} synthetic items_raw records to {}",
            items.display()
        );
        synth_items_raw(&items, n)?;
    }
    let out = dir.join("curate");
    let m = measure(&os(&[&bin, &items, &"--out", &out]), None, true)?;
    let manifest = Manifest::read(&out)?;
    println!(
        "curate of {n} items ({:.0} MB artifact): {:.1} s, largest process {:.0} MiB; pool {}, sample {}, {} draw rounds",
        std::fs::metadata(&items)?.len() as f64 / 1e6,
        m.wall,
        m.max_rss as f64 / (1 << 20) as f64,
        manifest.summary["after_full_dedupe"],
        manifest.summary["sample"],
        manifest.summary["draw_rounds"]
    );
    Ok(())
}
