//! `cargo xtask ci`: everything CI checks, in the order a failure is cheapest to find.
//! Installs what the checks need (a Python venv with `datasets`, `pyarrow`, `pandas`,
//! `ray` and `playwright` from PyPI under target/; Debian's `chromium` package when it is
//! missing), so a fresh machine needs only a Rust toolchain and Python.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::cargo::cargo;

/// Python packages the cross-checks read outputs with.
/// `ray` runs the scale-out driver's test (xtask/ray/test_ray.py); `playwright` drives
/// the system's Chromium for the report's browser test (it downloads no browser).
pub const PY_REQUIREMENTS: [&str; 6] = [
    "datasets>=2.19",
    "pyarrow>=15",
    "pandas>=2",
    "numpy<2.3",
    "ray>=2.9",
    "playwright>=1.40",
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

/// target/py-venv with the cross-check packages; returns its python.
pub fn python_venv() -> Result<PathBuf> {
    let venv = Path::new("target/py-venv");
    let python = venv.join("bin/python");
    let ready = python.is_file()
        && Command::new(&python)
            .args([
                "-c",
                "import datasets, pyarrow, pandas, numpy, ray, playwright",
            ])
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

/// Debian's `chromium` for the report's browser test: on PATH, else installed with
/// apt-get (as root, or through `sudo -n`). Returns its path.
pub fn chromium() -> Result<PathBuf> {
    let find = || {
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|d| d.join("chromium"))
                .find(|p| p.is_file())
        })
    };
    if let Some(p) = find() {
        return Ok(p);
    }
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0");
    let apt = |args: &[&str]| {
        let mut cmd = if root {
            Command::new("apt-get")
        } else {
            let mut c = Command::new("sudo");
            c.args(["-n", "apt-get"]);
            c
        };
        cmd.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        run(&mut cmd)
    };
    apt(&["update", "-qq"])
        .and_then(|_| apt(&["install", "-y", "-qq", "chromium"]))
        .context("the report's browser test needs Debian's chromium package; install it (apt-get install chromium) or set PRICER_CHROMIUM")?;
    find().context("apt-get installed chromium but it is not on PATH")
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
    let chromium = match std::env::var_os("PRICER_CHROMIUM") {
        Some(p) => PathBuf::from(p),
        None => chromium()?,
    };
    run(cargo()
        .args(["test", "--workspace"])
        .env("PRICER_PYTHON", &python)
        .env("PRICER_CHROMIUM", &chromium))?;
    run(cargo().args(["xtask", "regress"]))?;
    // The Ray driver on a local cluster against the one-machine pipeline, with the
    // binaries the tests built (no release build in CI).
    run(cargo().args(["build", "--workspace", "--bins", "--quiet"]))?;
    run(Command::new(&python)
        .arg("xtask/ray/test_ray.py")
        .env("PRICER_BIN_DIR", "target/debug"))?;
    Ok(())
}
