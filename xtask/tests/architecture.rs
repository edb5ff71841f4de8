//! The workspace's shape, checked (in the manner of rust-analyzer's tidy tests): stage
//! crates never depend on each other, every crate says what it owns, no hand-written
//! source file is a room too big to find one's way in, and no function is longer than
//! can be read at once (80 lines). docs/architecture.md states these rules.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .unwrap()
}

fn metadata() -> serde_json::Value {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(root())
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Whether a package's sources implement the stage interface (`impl ... Stage for`).
fn implements_stage(package: &serde_json::Value) -> bool {
    let manifest = PathBuf::from(package["manifest_path"].as_str().unwrap());
    let mut files = Vec::new();
    rust_files(&manifest.parent().unwrap().join("src"), &mut files);
    files.iter().any(|f| {
        std::fs::read_to_string(f).unwrap().lines().any(|l| {
            let l = l.trim_start();
            l.starts_with("impl") && (l.contains(" Stage for ") || l.contains("::Stage for "))
        })
    })
}

/// The stage crates: every crate that implements the stage interface.
fn stage_crates(packages: &[serde_json::Value]) -> BTreeSet<&str> {
    packages
        .iter()
        .filter(|p| implements_stage(p))
        .map(|p| p["name"].as_str().unwrap())
        .collect()
}

/// Each package's dependencies of any kind: (package, dependency, kind).
fn edges(packages: &[serde_json::Value]) -> Vec<(&str, &str, &str)> {
    packages
        .iter()
        .flat_map(|p| {
            let name = p["name"].as_str().unwrap();
            p["dependencies"].as_array().unwrap().iter().map(move |d| {
                (
                    name,
                    d["name"].as_str().unwrap(),
                    d["kind"].as_str().unwrap_or("normal"),
                )
            })
        })
        .collect()
}

#[test]
fn the_runner_the_command_and_the_python_package_sit_above_the_stages() {
    let meta = metadata();
    let packages = meta["packages"].as_array().unwrap();
    let stages = stage_crates(packages);
    let mut offences = Vec::new();
    for (from, to, kind) in edges(packages) {
        let above = ["pricer-pipeline", "pricer-cli", "pricer-python"];
        if stages.contains(from) && above.contains(&to) {
            offences.push(format!("stage {from} depends on {to} ({kind})"));
        }
        // The command is used by the Python package only; nothing uses the package.
        if to == "pricer-cli" && from != "pricer-python" {
            offences.push(format!("{from} depends on the command {to}"));
        }
        if to == "pricer-python" {
            offences.push(format!("{from} depends on the Python package"));
        }
        if from == "pricer-pipeline" && above.contains(&to) {
            offences.push(format!("the runner depends on {to}"));
        }
    }
    assert!(
        offences.is_empty(),
        "docs/architecture.md's layering:\n{}",
        offences.join("\n")
    );
    let runner: BTreeSet<&str> = edges(packages)
        .into_iter()
        .filter(|(f, _, k)| *f == "pricer-pipeline" && *k == "normal")
        .map(|(_, t, _)| t)
        .collect();
    for s in &stages {
        if *s != "pricer-merge" {
            assert!(runner.contains(s), "the runner runs every stage: {s}");
        }
    }
}

#[test]
fn no_stage_crate_depends_on_another_stage_crate() {
    let meta = metadata();
    let packages = meta["packages"].as_array().unwrap();
    let stages = stage_crates(packages);
    for expected in [
        "pricer-ingest",
        "pricer-prompt",
        "pricer-split",
        "pricer-tokenize-audit",
        "pricer-export",
    ] {
        assert!(
            stages.contains(expected),
            "{expected} is not marked as a stage crate"
        );
    }
    let mut offences = Vec::new();
    for p in packages {
        let name = p["name"].as_str().unwrap();
        if !stages.contains(name) {
            continue;
        }
        for d in p["dependencies"].as_array().unwrap() {
            let dep = d["name"].as_str().unwrap();
            if stages.contains(dep) {
                let kind = d["kind"].as_str().unwrap_or("normal");
                offences.push(format!("{name} depends on {dep} ({kind})"));
            }
        }
    }
    assert!(
        offences.is_empty(),
        "a stage crate knows only pricer-core and the shared libraries; move the shared \
         code into a library crate (docs/architecture.md):\n{}",
        offences.join("\n")
    );
}

#[test]
fn package_names_match_folders_and_every_crate_has_a_readme() {
    let meta = metadata();
    for p in meta["packages"].as_array().unwrap() {
        let manifest = PathBuf::from(p["manifest_path"].as_str().unwrap());
        let dir = manifest.parent().unwrap();
        let name = p["name"].as_str().unwrap();
        let folder = dir.file_name().unwrap().to_str().unwrap();
        if folder != "xtask" {
            assert_eq!(
                name,
                format!("pricer-{folder}"),
                "package of crates/{folder}"
            );
        }
    }
    // Every folder in crates/, crates/fuzz (outside the workspace) included, and xtask.
    let crates = std::fs::read_dir(root().join("crates")).unwrap();
    let folders = crates.map(|e| e.unwrap().path()).filter(|p| p.is_dir());
    for dir in folders.chain([root().join("xtask")]) {
        assert!(dir.join("README.md").is_file(), "{dir:?} has no README.md");
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            if p.file_name().is_some_and(|n| n != "target") {
                rust_files(&p, out);
            }
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn no_hand_written_source_file_is_over_500_lines() {
    let mut files = Vec::new();
    rust_files(&root().join("crates"), &mut files);
    rust_files(&root().join("xtask"), &mut files);
    let mut big = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        if text.lines().take(3).any(|l| l.contains("@generated")) {
            continue;
        }
        let n = text.lines().count();
        if n > 500 {
            big.push(format!(
                "{} ({n} lines)",
                f.strip_prefix(root()).unwrap().display()
            ));
        }
    }
    assert!(big.is_empty(), "split these by concern: {big:?}");
}

/// Where a function starts (`fn name`, any visibility or qualifiers) and its indent.
fn fn_start(line: &str) -> Option<usize> {
    let t = line.trim_start();
    let mut rest = t;
    for q in [
        "pub(crate) ",
        "pub(super) ",
        "pub ",
        "const ",
        "async ",
        "unsafe ",
    ] {
        rest = rest.strip_prefix(q).unwrap_or(rest);
    }
    (rest.starts_with("fn ") && !t.starts_with("//")).then(|| line.len() - t.len())
}

#[test]
fn no_function_is_over_80_lines() {
    let mut files = Vec::new();
    rust_files(&root().join("crates"), &mut files);
    rust_files(&root().join("xtask/src"), &mut files);
    let mut long = Vec::new();
    for f in files {
        let rel = f.strip_prefix(root()).unwrap().display().to_string();
        // Tests (tests/ folders and the test modules at a file's end) and the fuzz
        // targets outside the workspace are not measured.
        if rel.contains("/tests/") || rel.starts_with("crates/fuzz") {
            continue;
        }
        let text = std::fs::read_to_string(&f).unwrap();
        let lines: Vec<&str> = text
            .lines()
            .take_while(|l| !l.starts_with("#[cfg(test)]"))
            .collect();
        for (i, l) in lines.iter().enumerate() {
            let Some(indent) = fn_start(l) else { continue };
            // The body opens on the first line ending in `{` (a signature may span
            // lines); a line ending in `;` first is a declaration without a body.
            let Some(open) = lines[i..].iter().position(|x| {
                let x = x.trim_end();
                x.ends_with('{') || x.ends_with(';')
            }) else {
                continue;
            };
            if lines[i + open].trim_end().ends_with(';') {
                continue;
            }
            let close = " ".repeat(indent) + "}";
            let end = lines[i + open..]
                .iter()
                .position(|x| *x == close)
                .unwrap_or(0)
                + open;
            if end + 1 > 80 {
                long.push(format!("{rel}:{} ({} lines)", i + 1, end + 1));
            }
        }
    }
    assert!(
        long.is_empty(),
        "functions over 80 lines, to split: {long:?}"
    );
}
