//! `cargo xtask bench python`: the Python package against the command users run in a
//! clone, side by side in one run: `import pricer` against a bare interpreter, and
//! `pricer.run("fixtures")` against `cargo xtask pipeline` (both redoing every stage,
//! interleaved, medians of `repeat`). Uses the wheel CI builds (target/wheels) installed
//! into target/wheel-venv (`cargo xtask ci` makes both).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{bail, Result};

fn seconds(cmd: &mut Command) -> Result<f64> {
    let t = Instant::now();
    let status = cmd.stdout(Stdio::null()).stderr(Stdio::null()).status()?;
    if !status.success() {
        bail!("{cmd:?} failed ({status})");
    }
    Ok(t.elapsed().as_secs_f64())
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

pub fn run(repeat: usize) -> Result<()> {
    let python = std::env::current_dir()?.join("target/wheel-venv/bin/python");
    if !python.is_file() {
        bail!(
            "{}: no wheel installed; run cargo xtask ci (or its wheel step) first",
            python.display()
        );
    }
    let scratch = Path::new("target/bench/python");
    std::fs::create_dir_all(scratch)?;
    let (mut import, mut bare, mut py_run, mut xtask) = (vec![], vec![], vec![], vec![]);
    // Warm: the first pipeline builds xtask, the first Python run unpacks nothing here.
    seconds(
        crate::cargo::cargo()
            .args(["xtask", "pipeline", "--out"])
            .arg(scratch.join("xtask")),
    )?;
    for _ in 0..repeat.max(1) {
        bare.push(seconds(Command::new(&python).args(["-c", "pass"]))?);
        import.push(seconds(
            Command::new(&python).args(["-c", "import pricer"]),
        )?);
        xtask.push(seconds(
            crate::cargo::cargo()
                .args(["xtask", "pipeline", "--force", "--out"])
                .arg(scratch.join("xtask")),
        )?);
        let code = format!(
            "import pricer; pricer.run('fixtures', out={:?}, force=True, progress=False)",
            scratch.join("py").display().to_string()
        );
        py_run.push(seconds(Command::new(&python).args(["-c", &code]))?);
    }
    let (import, bare, py_run, xtask) =
        (median(import), median(bare), median(py_run), median(xtask));
    println!(
        "bench python ({} runs each, medians, interleaved):",
        repeat.max(1)
    );
    println!(
        "  import pricer: {:.3} s ({:.3} s over a bare interpreter's {:.3} s)",
        import,
        import - bare,
        bare
    );
    println!(
        "  pricer.run(\"fixtures\", force=True): {py_run:.2} s; cargo xtask pipeline --force: {xtask:.2} s; ratio {:.2}",
        py_run / xtask
    );
    Ok(())
}
