//! report.html opened in headless Chromium for the fixture and the edge runs: no console
//! error, every chart drawn with its title (on screen and in print layout). The runs and
//! their screenshots stay in target/e2e/report-browser/<run>/audit/report.png for a
//! person to look at.

use std::path::{Path, PathBuf};
use std::process::Command;

use pricer_e2e::{bin, root};

const CHARTS: [&str; 10] = [
    "chart-balance-prices",
    "chart-balance-shares",
    "chart-balance-means",
    "chart-train-test",
    "chart-scatter",
    "chart-tokens",
    "chart-prices",
    "chart-category-bars",
    "chart-category-donut",
    "chart-test-prices",
];

fn python() -> String {
    std::env::var("PRICER_PYTHON").unwrap_or_else(|_| "python3".into())
}

fn run_folder(name: &str) -> PathBuf {
    let dir = root().join("target/e2e/report-browser").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn pipeline(config: Option<&str>, out: &Path) {
    let mut cmd = Command::new(bin("xtask"));
    cmd.current_dir(root())
        .arg("pipeline")
        .arg("--out")
        .arg(out);
    if let Some(c) = config {
        cmd.arg("--config").arg(c);
    }
    let o = cmd.output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// The eval report's charts on the fixtures run (its two baselines).
const EVAL_CHARTS: [&str; 4] = [
    "chart-truth-guess-random",
    "chart-running-error-random",
    "chart-truth-guess-constant",
    "chart-running-error-constant",
];

/// `report` in Chromium, with `charts`; its screenshot beside it.
fn in_chromium(report: &Path, charts: &[&str]) -> Vec<u8> {
    let shot = report.with_extension("png");
    let out = Command::new(python())
        .arg(root().join("crates/e2e/tests/py/check_report.py"))
        .arg(report)
        .arg(&shot)
        .args(charts)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "report.html in Chromium ({}):\n{}\n{}\n(needs Playwright in PRICER_PYTHON and Debian's chromium; cargo xtask ci installs both)",
        report.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let png = std::fs::read(&shot).unwrap();
    assert!(png.starts_with(b"\x89PNG"), "screenshot {}", shot.display());
    png
}

fn check_in_chromium(run: &Path) {
    let report = run.join("audit/report.html");
    let png = in_chromium(&report, &CHARTS);
    assert!(
        png.len() > 50_000,
        "the audit's screenshot is {} bytes",
        png.len()
    );

    // The report and the card point at each other.
    let beside = std::fs::read_to_string(run.join("export/hub/report.html")).unwrap();
    assert!(beside.contains(r#"id="card-link" href="README.md""#));
    let original = std::fs::read_to_string(&report).unwrap();
    assert!(original.contains(r#"id="card-link" href="../export/hub/README.md""#));
    assert!(run.join("audit/../export/hub/README.md").is_file());
    let card = std::fs::read_to_string(run.join("export/hub/README.md")).unwrap();
    assert!(card.contains("[report.html](report.html)"));
}

#[test]
fn the_fixture_runs_report_works_in_chromium() {
    let run = run_folder("fixtures");
    pipeline(None, &run);
    check_in_chromium(&run);
    // The evaluation's page: the leaderboard and each baseline's two charts.
    let eval = run.join("eval/report.html");
    let png = in_chromium(&eval, &EVAL_CHARTS);
    assert!(
        png.len() > 20_000,
        "the eval's screenshot is {} bytes",
        png.len()
    );
    // The audit links the evaluation; its copy beside the published card does not.
    let audit = std::fs::read_to_string(run.join("audit/report.html")).unwrap();
    assert!(audit.contains(r#"id="eval-link" href="../eval/report.html""#));
    let beside = std::fs::read_to_string(run.join("export/hub/report.html")).unwrap();
    assert!(!beside.contains("eval-link"));
    let page = std::fs::read_to_string(&eval).unwrap();
    assert!(
        page.contains(r#"href="../audit/report.html""#) && page.contains(r##"href="#p-random""##)
    );
}

#[test]
fn the_edge_runs_report_works_in_chromium() {
    let run = run_folder("edge");
    pipeline(Some("edge"), &run);
    check_in_chromium(&run);
}
