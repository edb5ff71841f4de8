//! The skip check trusts nothing it has not verified: a stage reruns when a file it wrote
//! was changed (rejects included), when a compared tokenizer changed under the same name,
//! or when something its output prints changed upstream; and what an earlier run wrote
//! that this run does not is removed; a remembered digest that lies is caught.

use std::path::{Path, PathBuf};

use pricer_e2e::{fixture, root, run_ok};

fn pipeline(config: &Path, out: &Path) -> String {
    String::from_utf8(
        run_ok(
            "xtask",
            &[&"pipeline", &"--config", &config, &"--out", &out],
        )
        .stdout,
    )
    .unwrap()
}

fn ran(stdout: &str, stage: &str) -> bool {
    stdout
        .lines()
        .any(|l| l.starts_with(&format!("{stage}:")) && !l.contains("up to date"))
}

fn config(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(
        &path,
        format!(
            "[input]\npaths = [{:?}]\n[split]\ntrain = 800\ntest = 200\n{body}",
            fixture("data/amazon-2023")
        ),
    )
    .unwrap();
    path
}

/// A copy of the bundled Llama 3.1 tokenizer.json in `dir`, with `extra` bytes appended
/// (the same tokenizer, another file).
fn tokenizer_copy(dir: &Path, extra: &str) -> PathBuf {
    let zst =
        std::fs::read(root().join("fixtures/tokenizers/llama-3.1/tokenizer.json.zst")).unwrap();
    let mut json = zstd::decode_all(&zst[..]).unwrap();
    json.extend_from_slice(extra.as_bytes());
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join("tokenizer.json");
    std::fs::write(&path, json).unwrap();
    path
}

#[test]
fn a_torn_rejects_file_reruns_its_stage() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "run.toml", "[audit]\ncompare_bundled = false\n");
    let run = dir.path().join("run");
    pipeline(&cfg, &run);
    let rejects = run.join("ingest/rejects.jsonl");
    let bytes = std::fs::read(&rejects).unwrap();
    std::fs::write(&rejects, &bytes[..bytes.len() / 2]).unwrap();
    let out = pipeline(&cfg, &run);
    assert!(ran(&out, "ingest"), "{out}");
    assert_eq!(std::fs::read(&rejects).unwrap(), bytes, "rewritten whole");
}

#[test]
fn a_changed_compared_tokenizer_reruns_the_audit() {
    let dir = tempfile::tempdir().unwrap();
    let tok = tokenizer_copy(&dir.path().join("tok"), "");
    let cfg = config(
        dir.path(),
        "run.toml",
        &format!("[audit]\ncompare_bundled = false\ncompare = {{ Mine = {tok:?} }}\n"),
    );
    let run = dir.path().join("run");
    pipeline(&cfg, &run);
    assert!(
        !ran(&pipeline(&cfg, &run), "audit"),
        "up to date when nothing changed"
    );
    tokenizer_copy(&dir.path().join("tok"), "\n");
    let out = pipeline(&cfg, &run);
    assert!(ran(&out, "audit"), "{out}");
}

#[test]
fn what_the_card_prints_from_upstream_renews_the_card() {
    let dir = tempfile::tempdir().unwrap();
    let first = tokenizer_copy(&dir.path().join("a"), "");
    let cfg = config(
        dir.path(),
        "a.toml",
        &format!("[tokenizer]\npath = {first:?}\n[audit]\ncompare_bundled = false\n"),
    );
    let run = dir.path().join("run");
    pipeline(&cfg, &run);
    let card = std::fs::read_to_string(run.join("export/hub/README.md")).unwrap();
    // The same tokenizer in another file: the items are identical, so split is skipped,
    // but the card names the tokenizer by its digest.
    let second = tokenizer_copy(&dir.path().join("b"), " ");
    let cfg = config(
        dir.path(),
        "b.toml",
        &format!("[tokenizer]\npath = {second:?}\n[audit]\ncompare_bundled = false\n"),
    );
    let out = pipeline(&cfg, &run);
    assert!(
        ran(&out, "prompt") && !ran(&out, "split") && ran(&out, "export"),
        "{out}"
    );
    let renewed = std::fs::read_to_string(run.join("export/hub/README.md")).unwrap();
    assert_ne!(card, renewed);
    let digest = pricer_core::digest::bytes_digest(&std::fs::read(&second).unwrap());
    assert!(
        renewed.contains(&digest),
        "the card names the tokenizer in use"
    );
}

#[test]
fn files_an_earlier_run_wrote_do_not_outlive_it() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    pipeline(
        &config(
            dir.path(),
            "v.toml",
            "validation = 28\n[audit]\ncompare_bundled = false\n",
        ),
        &run,
    );
    assert!(
        run.join("split/validation.art").is_file()
            && run.join("export/items/validation.art").is_file()
    );
    pipeline(
        &config(dir.path(), "n.toml", "[audit]\ncompare_bundled = false\n"),
        &run,
    );
    for stale in [
        "split/validation.art",
        "export/items/validation.art",
        "export/hub/data/validation-00000-of-00001.parquet",
    ] {
        assert!(!run.join(stale).exists(), "{stale} is gone");
    }
}

/// A digest the skip check remembers (`pricer_core::stamp`) is trusted only while the file
/// is unchanged; should one ever lie, the stage that reads the file finds out, stops,
/// and forgets it, so the next run reads the file and is right. The lie is written here
/// as the cache would hold it: the entry's format is the cache's, this test's copy of it.
#[test]
fn a_remembered_digest_that_lies_is_caught_and_forgotten() {
    use std::os::unix::fs::MetadataExt;
    let dir = tempfile::tempdir().unwrap();
    let (data, cache) = (dir.path().join("data"), dir.path().join("cache"));
    std::fs::create_dir_all(&data).unwrap();
    let raw = data.join("meta_Appliances.jsonl");
    std::fs::copy(fixture("data/amazon-2023/meta_Appliances.jsonl"), &raw).unwrap();
    let canonical = raw.canonicalize().unwrap().display().to_string();
    let m = std::fs::metadata(&raw).unwrap();
    let entry = serde_json::json!({
        "path": canonical,
        "kind": "file",
        "identity": {
            "len": m.len(),
            "mtime": [m.mtime(), m.mtime_nsec()],
            "ctime": [m.ctime(), m.ctime_nsec()],
            "ino": m.ino(),
            "dev": m.dev(),
        },
        "digest": "0".repeat(64),
    });
    let key = blake3::hash(format!("file\0{canonical}").as_bytes()).to_hex();
    let entry_file = cache.join("stamps").join(format!("{}.json", &key[..32]));
    std::fs::create_dir_all(entry_file.parent().unwrap()).unwrap();
    std::fs::write(&entry_file, entry.to_string()).unwrap();

    let cfg = dir.path().join("run.toml");
    std::fs::write(
        &cfg,
        format!("[input]\npaths = [{data:?}]\n[split]\ntake_available = true\n[audit]\ncompare_bundled = false\n"),
    )
    .unwrap();
    let run = dir.path().join("run");
    let pipeline = || {
        std::process::Command::new(pricer_e2e::bin("xtask"))
            .arg("pipeline")
            .arg("--config")
            .arg(&cfg)
            .arg("--out")
            .arg(&run)
            .env("PRICER_CACHE_DIR", &cache)
            .output()
            .unwrap()
    };
    let first = pipeline();
    let stderr = String::from_utf8_lossy(&first.stderr);
    assert!(!first.status.success(), "the lie went unnoticed");
    assert!(
        stderr.contains(&format!("{}: changed while the run read it", raw.display())),
        "{stderr}"
    );
    assert!(!entry_file.exists(), "the lying digest is forgotten");

    let second = pipeline();
    assert!(
        second.status.success(),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run.join("ingest/manifest.json")).unwrap()).unwrap();
    let real = blake3::hash(&std::fs::read(&raw).unwrap())
        .to_hex()
        .to_string();
    assert_eq!(manifest["inputs"][0]["digest"], real.as_str());
}
