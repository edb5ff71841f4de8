//! `cargo xtask bench memory`: peak memory of every stage on two corpus sizes.

use anyhow::Result;

use super::e2e::{end_to_end, E2eArgs};

/// `cargo xtask bench memory`: every stage's peak memory on a small and a large
/// synthetic corpus, side by side in one run, and the large/small ratio per stage.
pub fn run(small: usize, large: usize, threads: usize) -> Result<()> {
    let mut runs = Vec::new();
    for rows in [small, large] {
        let stages = end_to_end(&E2eArgs {
            rows,
            threads,
            gzip: false,
            reference: None,
            corpus: None,
            no_floor: true,
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
