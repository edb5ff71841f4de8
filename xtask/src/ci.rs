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
    checked_venv(
        Path::new("target/py-venv"),
        "import datasets, pyarrow, pandas, numpy, ray, playwright",
        || Ok("python3".into()),
        &PY_REQUIREMENTS,
    )
}

/// The virtual environment at `dir` once `check` runs in it: made anew from `base`'s
/// Python with `packages` when it does not. Returns its python.
fn checked_venv(
    dir: &Path,
    check: &str,
    base: impl FnOnce() -> Result<PathBuf>,
    packages: &[&str],
) -> Result<PathBuf> {
    let python = dir.join("bin/python");
    let ready = python.is_file()
        && Command::new(&python)
            .args(["-c", check])
            .status()
            .is_ok_and(|s| s.success());
    if !ready {
        if dir.exists() {
            std::fs::remove_dir_all(dir)?;
        }
        run(Command::new(base()?).args(["-m", "venv"]).arg(dir))?;
        run(Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .args(packages))?;
    }
    // Absolute, but not canonical: resolving the venv's `python` symlink would leave the venv.
    Ok(std::env::current_dir()?.join(python))
}

/// What the course's scoring runs on (crates/e2e/tests/py/course_eval.py): its figures
/// depend on Python 3.12's `sum`, numpy and scikit-learn.
const COURSE_REQUIREMENTS: [&str; 3] = ["numpy<2.3", "scikit-learn>=1.3", "pyarrow>=15"];

/// A Python 3.12 or later: `python3.12`/`python3.13` that runs, else pyenv's.
fn python312() -> Result<PathBuf> {
    let works = |p: &Path| {
        Command::new(p)
            .args(["-c", "import sys, venv; assert sys.version_info >= (3, 12)"])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    let mut candidates: Vec<PathBuf> =
        vec!["python3".into(), "python3.12".into(), "python3.13".into()];
    let pyenv = std::env::var_os("PYENV_ROOT")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".pyenv")));
    if let Some(Ok(versions)) = pyenv.map(|r| std::fs::read_dir(r.join("versions"))) {
        let mut found: Vec<PathBuf> = versions
            .filter_map(|e| e.ok().map(|e| e.path().join("bin/python3")))
            .collect();
        found.sort();
        candidates.extend(found);
    }
    candidates.into_iter().find(|p| works(p)).context(
        "the course's scoring test needs Python 3.12 or later (python3.12 on PATH, or pyenv's)",
    )
}

/// target/course-venv: Python 3.12 with numpy, scikit-learn and pyarrow; returns its python.
pub fn course_venv() -> Result<PathBuf> {
    checked_venv(
        Path::new("target/course-venv"),
        "import sys, numpy, sklearn, pyarrow; assert sys.version_info >= (3, 12)",
        python312,
        &COURSE_REQUIREMENTS,
    )
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
    let course = course_venv()?;
    run(cargo()
        .args(["test", "--workspace"])
        .env("PRICER_PYTHON", &python)
        .env("PRICER_COURSE_PYTHON", &course)
        .env("PRICER_CHROMIUM", &chromium))?;
    // The wheel's release build takes minutes of both cores; the regression check and
    // the Ray test wait on processes more than they compute, so it runs beside them.
    let wheel = WheelBuild::start()?;
    run(cargo().args(["xtask", "regress"]))?;
    // The Ray driver on a local cluster against the one-machine pipeline, with the
    // binaries the tests built (no release build in CI).
    run(cargo().args(["build", "--workspace", "--bins", "--quiet"]))?;
    run(Command::new(&python)
        .arg("xtask/ray/test_ray.py")
        .env("PRICER_BIN_DIR", "target/debug"))?;
    python_package(wheel.finish()?)
}

/// `maturin build --release` of the Python package (manylinux_2_28 through zig), in the
/// background, its output in target/wheel-build.log.
struct WheelBuild(std::process::Child);

impl WheelBuild {
    const LOG: &'static str = "target/wheel-build.log";

    fn start() -> Result<WheelBuild> {
        let tools = venv(Path::new("target/build-venv"), false, &BUILD_REQUIREMENTS)?;
        let path = std::env::join_paths(std::iter::once(tools.clone()).chain(
            std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
        ))?;
        if Path::new("target/wheels").exists() {
            std::fs::remove_dir_all("target/wheels")?;
        }
        let log = std::fs::File::create(Self::LOG)?;
        let mut cmd = Command::new(tools.join("maturin"));
        cmd.args([
            "build",
            "--release",
            "-m",
            "crates/python/Cargo.toml",
            "--zig",
        ])
        .args(["--compatibility", "manylinux_2_28", "-o", "target/wheels"])
        .env("PATH", &path)
        .stdout(log.try_clone()?)
        .stderr(log);
        eprintln!("+ {cmd:?} (in the background, output in {})", Self::LOG);
        Ok(WheelBuild(cmd.spawn().context("cannot start maturin")?))
    }

    /// Waits for the build; returns the wheel.
    fn finish(mut self) -> Result<PathBuf> {
        let status = self.0.wait()?;
        if !status.success() {
            let log = std::fs::read_to_string(Self::LOG).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            bail!("maturin build failed ({status}):\n{}", tail.join("\n"));
        }
        std::fs::read_dir("target/wheels")?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .find(|p| p.extension().is_some_and(|x| x == "whl"))
            .context("maturin wrote no wheel")
    }
}

/// Tools that build and check the wheel.
const BUILD_REQUIREMENTS: [&str; 3] = ["maturin>=1.9,<2", "ziglang", "auditwheel"];

/// What the wheel's tests and the notebook need beside the wheel.
const WHEEL_TEST_REQUIREMENTS: [&str; 7] = [
    "pytest",
    "datasets>=2.19",
    "pyarrow>=15",
    "nbclient",
    "nbformat",
    "ipykernel",
    "tqdm",
];

/// A virtual environment at `dir` (made anew when `fresh`) with `packages`; its bin/.
fn venv(dir: &Path, fresh: bool, packages: &[&str]) -> Result<PathBuf> {
    if fresh && dir.exists() {
        std::fs::remove_dir_all(dir)?;
    }
    let bin = std::env::current_dir()?.join(dir).join("bin");
    if !bin.join("python").is_file() {
        run(Command::new("python3").args(["-m", "venv"]).arg(dir))?;
    }
    run(Command::new(bin.join("python"))
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ])
        .args(packages))?;
    Ok(bin)
}

/// The Python package as users get it: a wheel built with maturin (manylinux_2_28 through
/// zig), checked (tag, size, stripped), installed into a fresh virtual environment, and
/// there its tests (the installed `pricer` command and `pricer.run` outside the
/// checkout, byte-identical to `cargo xtask pipeline`; a SIGINT mid-run) and the notebook.
fn python_package(wheel: PathBuf) -> Result<()> {
    let tools = std::env::current_dir()?.join("target/build-venv/bin");
    run(Command::new(tools.join("python"))
        .arg("crates/python/tests/check_wheel.py")
        .arg(&wheel))?;
    let mut packages = vec![wheel.to_str().context("a wheel path that is not UTF-8")?];
    packages.extend(WHEEL_TEST_REQUIREMENTS);
    let bin = venv(Path::new("target/wheel-venv"), true, &packages)?;
    let reference = Path::new("target/ci-fixtures-reference");
    run(cargo()
        .args(["xtask", "pipeline", "--force", "--out"])
        .arg(reference))?;
    // Outside the checkout, with the files the package carries.
    let work = std::env::temp_dir().join(format!("pricer-wheel-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;
    let path = std::env::join_paths(std::iter::once(bin.clone()).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))?;
    let root = std::env::current_dir()?;
    let tested = run(Command::new(bin.join("python"))
        .args(["-m", "pytest", "-q"])
        .arg(root.join("crates/python/tests"))
        .current_dir(&work)
        .env("PATH", &path)
        .env("PRICER_USE_CARRIED", "1")
        .env("PRICER_CACHE_DIR", work.join("cache"))
        .env(
            "PRICER_REFERENCE_EXPORT",
            root.join(reference).join("export"),
        ))
    .and_then(|_| {
        run(Command::new(bin.join("python"))
            .arg(root.join("crates/python/tests/run_notebook.py"))
            .arg(root.join("docs/pricer.ipynb"))
            .arg(&work)
            .env("PATH", &path)
            .env("PRICER_USE_CARRIED", "1")
            .env("PRICER_CACHE_DIR", work.join("cache")))
    });
    let _ = std::fs::remove_dir_all(&work);
    tested
}
