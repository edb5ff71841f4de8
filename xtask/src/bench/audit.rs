//! `cargo xtask bench audit`: the audit of many synthetic items against the prompt stage.

use std::path::{Path, PathBuf};

use anyhow::Result;
use pricer_core::manifest::Manifest;

use super::split_memory::synth_items;
use super::{release_bin, synth_corpus, timed};

/// `cargo xtask bench audit`: the audit (charts included) of `n` synthetic items, next
/// to the prompt stage's time for as many items at the rate measured on a synthetic raw
/// corpus in the same run.
pub fn run(n: usize, threads: usize) -> Result<()> {
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
