//! `cargo xtask bench split-memory`: the split stage's peak memory on synthetic items.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use pricer_core::artifact::ArtifactWriter;
use pricer_core::manifest::Manifest;
use pricer_core::rng::SplitMix64;
use pricer_core::{recipe, Item};

use super::release_bin;

/// Synthetic items with the classic run's category mix, a long-tailed price
/// distribution, prompts of realistic length (~900 bytes) and details as the loader's
/// JSON strings (~300 bytes; one item in eight has none).
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
    let mut rng = SplitMix64(2024);
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
        let details = (!rng.next_u64().is_multiple_of(8)).then(|| {
            format!(
                "{{\"Brand\": \"{}\", \"Item Weight\": \"{:.2} pounds\", \"Manufacturer\": \"{}\", \"Part Number\": \"{:X}\", \"Best Sellers Rank\": {{\"{category}\": {}}}, \"Date First Available\": \"March 3, 2021\"}}",
                &body[..20],
                rng.unit() * 20.0,
                &body[20..60],
                rng.next_u64(),
                rng.next_u64() % 1_000_000
            )
        });
        w.write(&Item {
            category: category.into(),
            title: body[..40].to_owned(),
            price,
            prompt,
            token_count: 177,
            details,
        })?;
    }
    w.finish()?;
    Ok(())
}

/// Split's peak memory on `n` synthetic items, with the recipe's sizes.
pub fn run(n: usize) -> Result<()> {
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
