//! `cargo xtask bench pickles`: what the seed's pickles add to the export stage at the
//! classic run's sizes (400,000 train, 2,000 test): the export of synthetic items with
//! and without them, interleaved, medians of `repeat`; the largest process of each.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use pricer_core::manifest::Manifest;

use super::release_bin;
use super::split_memory::synth_items;

/// Runs `pricer-export` on `run`, with or without the pickles; (wall s, peak bytes).
fn export(bin: &Path, run: &Path, pickles: bool) -> Result<(f64, u64)> {
    let mut cmd = Command::new(bin);
    cmd.arg(run).arg("--out").arg(run.join("export"));
    if !pickles {
        cmd.arg("--no-pickles");
    }
    if !cmd.stdout(std::process::Stdio::null()).status()?.success() {
        bail!("pricer-export failed");
    }
    let m = Manifest::read(&run.join("export"))?;
    Ok((
        m.wall_seconds,
        m.peak_rss_bytes.context("peak memory not recorded")?,
    ))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

pub fn run(items: usize, repeat: usize) -> Result<()> {
    let (split, export_bin) = (release_bin("pricer-split")?, release_bin("pricer-export")?);
    let run = PathBuf::from(format!("target/bench/pickles-{items}"));
    let prompt = run.join("prompt");
    if !prompt.join("items.art").is_file() {
        std::fs::create_dir_all(&prompt)?;
        eprintln!("writing {items} synthetic items to {}", prompt.display());
        synth_items(&prompt.join("items.art"), items)?;
    }
    if !run.join("split/manifest.json").is_file() {
        let ok = Command::new(&split)
            .arg(&prompt)
            .arg("--out")
            .arg(run.join("split"))
            .arg("--take-available")
            .stdout(std::process::Stdio::null())
            .status()?
            .success();
        anyhow::ensure!(ok, "pricer-split failed");
    }
    let (mut with, mut without) = (Vec::new(), Vec::new());
    let (mut peak_with, mut peak_without) = (0u64, 0u64);
    for _ in 0..repeat.max(1) {
        let (w, p) = export(&export_bin, &run, true)?;
        with.push(w);
        peak_with = peak_with.max(p);
        let (w, p) = export(&export_bin, &run, false)?;
        without.push(w);
        peak_without = peak_without.max(p);
    }
    export(&export_bin, &run, true)?;
    let size = |f: &str| std::fs::metadata(run.join("export/items").join(f)).map_or(0, |m| m.len());
    let m = Manifest::read(&run.join("split"))?;
    println!(
        "export of train {} / test {} synthetic items ({} runs each, interleaved, medians):",
        m.summary["train"],
        m.summary["test"],
        repeat.max(1)
    );
    let (w, wo) = (median(with), median(without));
    println!(
        "  with the pickles: {w:.2} s, largest process {:.0} MiB; without: {wo:.2} s, {:.0} MiB; the pickles add {:.2} s",
        peak_with as f64 / (1 << 20) as f64,
        peak_without as f64 / (1 << 20) as f64,
        w - wo
    );
    println!(
        "  train.pkl {:.0} MB, test.pkl {:.1} MB",
        size("train.pkl") as f64 / 1e6,
        size("test.pkl") as f64 / 1e6
    );
    Ok(())
}
