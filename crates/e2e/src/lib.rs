//! Helpers for end-to-end tests: locate (building if needed) the stage binaries, run
//! them, and compare their outputs with the fixtures.

pub mod fake_batches;
pub mod fake_hub;
pub mod fake_openai;
pub mod http;
pub mod summarize_run;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Once;

use pricer_core::artifact::ArtifactReader;
use pricer_core::dump::item_json;
use pricer_core::Item;

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root")
}

pub fn fixture(rel: &str) -> PathBuf {
    root().join("fixtures").join(rel)
}

static BUILD: Once = Once::new();

/// Path of a workspace binary in the profile the tests run under, built on first use
/// (cargo builds only the tested package's own binaries for its tests).
pub fn bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps/..")
        .to_owned();
    let release = profile_dir.file_name().is_some_and(|n| n == "release");
    BUILD.call_once(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut cmd = Command::new(cargo);
        // Without what `cargo test` set for this package: a build script that watches
        // CARGO_MANIFEST_DIR (ring's) would otherwise rebuild, here and again in the
        // user's next plain cargo command (xtask/src/cargo.rs says more).
        for (name, _) in std::env::vars_os() {
            let n = name.to_string_lossy();
            if n == "CARGO_MANIFEST_DIR"
                || n == "CARGO_MANIFEST_PATH"
                || n.starts_with("CARGO_PKG_")
            {
                cmd.env_remove(&name);
            }
        }
        cmd.current_dir(root())
            .args(["build", "--quiet", "--bins", "--workspace"]);
        if release {
            cmd.arg("--release");
        }
        let status = cmd.status().expect("run cargo build");
        assert!(status.success(), "cargo build --bins failed");
    });
    let path = profile_dir.join(name);
    assert!(path.is_file(), "{} was not built", path.display());
    path
}

/// Runs a binary and returns its output, without judging the exit status.
pub fn run(name: &str, args: &[&dyn AsRef<std::ffi::OsStr>]) -> Output {
    let mut cmd = Command::new(bin(name));
    for a in args {
        cmd.arg(a.as_ref());
    }
    cmd.current_dir(root())
        .env_remove("RUST_LOG")
        .output()
        .expect("spawn stage binary")
}

/// Runs a binary and panics with its stderr if it fails.
pub fn run_ok(name: &str, args: &[&dyn AsRef<std::ffi::OsStr>]) -> Output {
    let out = run(name, args);
    assert!(
        out.status.success(),
        "{name} failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Items of an items artifact as the golden JSON lines.
pub fn dump_items(path: &Path) -> String {
    let mut s = String::new();
    for item in ArtifactReader::<Item>::open(path).expect("open items") {
        s.push_str(&item_json(&item.expect("read item")));
        s.push('\n');
    }
    s
}

/// Ingest then prompt `inputs` into `dir/ingest` and `dir/prompt` with `threads` worker
/// threads and ingest chunks of `chunk_bytes`; returns the prompt folder.
pub fn ingest_and_prompt(
    inputs: &[PathBuf],
    dir: &Path,
    threads: u32,
    chunk_bytes: u32,
) -> PathBuf {
    let ingest = dir.join("ingest");
    let prompt = dir.join("prompt");
    let threads = threads.to_string();
    let chunk_bytes = chunk_bytes.to_string();
    let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> = inputs.iter().map(|p| p as _).collect();
    args.extend([
        &"--out" as &dyn AsRef<std::ffi::OsStr>,
        &ingest,
        &"--threads",
        &threads,
        &"--chunk-bytes",
        &chunk_bytes,
    ]);
    run_ok("pricer-ingest", &args);
    run_ok(
        "pricer-prompt",
        &[&ingest, &"--out", &prompt, &"--threads", &threads],
    );
    prompt
}

/// A V2 golden file (fixtures/golden/v2/REL, decompressed when stored as REL.zst).
pub fn golden_v2(rel: &str) -> Vec<u8> {
    golden(&format!("v2/{rel}"))
}

/// A golden file (fixtures/golden/REL, decompressed when stored as REL.zst).
pub fn golden(rel: &str) -> Vec<u8> {
    let plain = fixture(&format!("golden/{rel}"));
    if plain.is_file() {
        return std::fs::read(plain).unwrap();
    }
    let zst = std::fs::read(fixture(&format!("golden/{rel}.zst")))
        .unwrap_or_else(|e| panic!("golden/{rel}: {e}"));
    zstd::decode_all(&zst[..]).unwrap()
}

/// The sha256 the golden set records for REL (golden/v2/SHA256SUMS, as the reference
/// wrote it), so a file rebuilt from others can be proven to be the golden file.
pub fn golden_v2_sha256(rel: &str) -> String {
    let sums = String::from_utf8(golden_v2("SHA256SUMS")).unwrap();
    sums.lines()
        .find_map(|l| {
            let (sum, name) = l.split_once("  ")?;
            (name.trim_start_matches("./") == rel).then(|| sum.to_owned())
        })
        .unwrap_or_else(|| panic!("{rel} is not in SHA256SUMS"))
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `cargo xtask dump PATH`: an artifact or stage folder as JSON lines.
pub fn dump(path: &Path) -> Vec<u8> {
    run_ok("xtask", &[&"dump", &path]).stdout
}

/// Panics with the first differing line when `got` is not `want`, byte for byte.
pub fn assert_same_lines(what: &str, got: &[u8], want: &[u8]) {
    if got == want {
        return;
    }
    let (g, w): (Vec<&[u8]>, Vec<&[u8]>) = (
        got.split(|&b| b == b'\n').collect(),
        want.split(|&b| b == b'\n').collect(),
    );
    let at = g
        .iter()
        .zip(&w)
        .position(|(a, b)| a != b)
        .unwrap_or(g.len().min(w.len()));
    panic!(
        "{what}: {} lines, the golden file has {}; first difference at line {}:\n got: {}\nwant: {}",
        g.len(),
        w.len(),
        at + 1,
        String::from_utf8_lossy(g.get(at).copied().unwrap_or(b"<none>")),
        String::from_utf8_lossy(w.get(at).copied().unwrap_or(b"<none>"))
    );
}

/// The Python that reads outputs back (`PRICER_PYTHON`, which `cargo xtask ci` points at
/// target/py-venv; else `python3`).
pub fn python() -> String {
    std::env::var("PRICER_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// Runs Python code with `args` (`sys.argv[1:]`), offline; panics with its output if it
/// fails. Returns its stdout.
pub fn py(code: &str, args: &[&Path]) -> String {
    let o = Command::new(python())
        .arg("-c")
        .arg(code)
        .args(args)
        .env("HF_DATASETS_OFFLINE", "1")
        .env("HF_HUB_OFFLINE", "1")
        .output()
        .expect("python");
    assert!(
        o.status.success(),
        "python failed (set PRICER_PYTHON to a Python with datasets and pyarrow):\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}
