//! The skip check trusts nothing it has not verified: a stage reruns when a file it wrote
//! was changed (rejects included), when a compared tokenizer changed under the same name,
//! or when something its output prints changed upstream; and what an earlier run wrote
//! that this run does not is removed.

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
