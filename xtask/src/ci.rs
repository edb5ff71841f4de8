//! `cargo xtask ci`: everything CI checks, in the order a failure is cheapest to find.
//! Installs what the checks need (a Python venv with `datasets`, `pyarrow`, `pandas` and
//! `ray` from PyPI) under target/, so a fresh machine needs only a Rust toolchain and Python.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

/// Python packages the cross-checks read outputs with.
/// `ray` runs the scale-out driver's test (xtask/ray/test_ray.py).
pub const PY_REQUIREMENTS: [&str; 5] = [
    "datasets>=2.19",
    "pyarrow>=15",
    "pandas>=2",
    "numpy<2.3",
    "ray>=2.9",
];

fn run(cmd: &mut Command) -> Result<()> {
    eprintln!("+ {cmd:?}");
    let status = cmd
        .status()
        .with_context(|| format!("cannot start {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed ({status})");
    }
    Ok(())
}

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

/// target/py-venv with the cross-check packages; returns its python.
pub fn python_venv() -> Result<PathBuf> {
    let venv = Path::new("target/py-venv");
    let python = venv.join("bin/python");
    let ready = python.is_file()
        && Command::new(&python)
            .args(["-c", "import datasets, pyarrow, pandas, numpy, ray"])
            .status()
            .is_ok_and(|s| s.success());
    if !ready {
        run(Command::new("python3").args(["-m", "venv"]).arg(venv))?;
        run(Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .args(PY_REQUIREMENTS))?;
    }
    // Absolute, but not canonical: resolving the venv's `python` symlink would leave the venv.
    Ok(std::env::current_dir()?.join(python))
}

pub fn run_all() -> Result<()> {
    run(cargo().args(["fmt", "--all", "--", "--check"]))?;
    run(cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    let python = python_venv()?;
    run(cargo()
        .args(["test", "--workspace"])
        .env("PRICER_PYTHON", &python))?;
    run(cargo().args(["xtask", "regress"]))?;
    // The Ray driver on a local cluster against the one-machine pipeline, with the
    // binaries the tests built (no release build in CI).
    run(cargo().args(["build", "--workspace", "--bins", "--quiet"]))?;
    run(Command::new(&python)
        .arg("xtask/ray/test_ray.py")
        .env("PRICER_BIN_DIR", "target/debug"))?;
    Ok(())
}
