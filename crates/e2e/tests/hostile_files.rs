//! Files a user can hand a binary (manifests, shard specs, tokenizer files, artifacts) are
//! answered with an error naming the file and what to do, or handled; never a panic or an
//! abort.

use std::path::{Path, PathBuf};
use std::process::Output;

use pricer_core::artifact::ArtifactWriter;
use pricer_core::Item;
use pricer_e2e::{fixture, ingest_and_prompt, root, run, run_ok};

/// No panic (exit 101) and no abort (a signal): a clean exit, success or error.
fn assert_no_crash(what: &str, o: &Output) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        o.status.code().is_some(),
        "{what}: killed by a signal: {err}"
    );
    assert_ne!(o.status.code(), Some(101), "{what}: panicked: {err}");
    assert!(!err.contains("panicked"), "{what}: {err}");
}

fn fails_naming(what: &str, o: &Output, name: &str) {
    assert_no_crash(what, o);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{what}: should fail");
    assert!(err.contains(name), "{what}: the error names {name}: {err}");
}

fn tokenizer_json() -> serde_json::Value {
    let zst =
        std::fs::read(root().join("fixtures/tokenizers/llama-3.1/tokenizer.json.zst")).unwrap();
    serde_json::from_slice(&zstd::decode_all(&zst[..]).unwrap()).unwrap()
}

fn write_tokenizer(dir: &Path, name: &str, v: &serde_json::Value) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, v.to_string()).unwrap();
    path
}

#[test]
fn odd_manifests_and_shard_specs() {
    let dir = tempfile::tempdir().unwrap();
    let prompt = ingest_and_prompt(&[fixture("data/edge")], dir.path(), 1, 1 << 20);
    // A manifest with a short fingerprint and no outputs, taken as it is by --start-at.
    let ingest = dir.path().join("ingest");
    let mut m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(ingest.join("manifest.json")).unwrap()).unwrap();
    m["fingerprint"] = serde_json::json!("ab");
    m["outputs"] = serde_json::json!({});
    std::fs::write(ingest.join("manifest.json"), m.to_string()).unwrap();
    let cfg = dir.path().join("run.toml");
    std::fs::write(
        &cfg,
        format!("[input]\npaths = [{:?}]\n", fixture("data/edge")),
    )
    .unwrap();
    let o = run(
        "xtask",
        &[
            &"pipeline",
            &"--config",
            &cfg,
            &"--out",
            &dir.path(),
            &"--start-at",
            &"split",
        ],
    );
    fails_naming("short fingerprint", &o, "ingest");
    // Shard specs: on the command line and in a manifest.
    let o = run(
        "pricer-ingest",
        &[
            &fixture("data/edge"),
            &"--shard",
            &"5/2",
            &"--out",
            &dir.path().join("s"),
        ],
    );
    fails_naming("--shard 5/2", &o, "5/2");
    m["shard"] =
        serde_json::json!({"index": 5, "count": 2, "first_file": 0, "files": 1, "all_inputs": []});
    std::fs::write(ingest.join("manifest.json"), m.to_string()).unwrap();
    let o = run(
        "pricer-merge",
        &[&ingest, &"--out", &dir.path().join("merged")],
    );
    fails_naming("shard index >= count", &o, "manifest.json");
    let _ = prompt;
}

#[test]
fn odd_tokenizer_files() {
    let dir = tempfile::tempdir().unwrap();
    let ingest = dir.path().join("ingest");
    run_ok("pricer-ingest", &[&fixture("data/edge"), &"--out", &ingest]);
    let normal = dir.path().join("normal");
    run_ok("pricer-prompt", &[&ingest, &"--out", &normal]);
    let items = std::fs::read(normal.join("items.art")).unwrap();

    // A huge token id: refused, naming the file and the token (no allocation for ids
    // that do not exist).
    let mut v = tokenizer_json();
    v["model"]["vocab"]["zzzzzzzzzz"] = serde_json::json!(4_000_000_000u32);
    let t = write_tokenizer(dir.path(), "huge-id.json", &v);
    let o = run(
        "pricer-prompt",
        &[
            &ingest,
            &"--out",
            &dir.path().join("huge"),
            &"--tokenizer",
            &t,
        ],
    );
    assert_no_crash("huge id", &o);
    fails_naming("huge id", &o, "huge-id.json");
    assert!(String::from_utf8_lossy(&o.stderr).contains("\"zzzzzzzzzz\" has id 4000000000"));

    // Truncation and padding set in the file: transformers ignores both, so do we.
    let mut v = tokenizer_json();
    v["truncation"] = serde_json::json!({"direction": "Right", "max_length": 12, "strategy": "LongestFirst", "stride": 0});
    v["padding"] = serde_json::json!({"strategy": {"Fixed": 300}, "direction": "Right", "pad_to_multiple_of": null, "pad_id": 0, "pad_type_id": 0, "pad_token": "!"});
    let t = write_tokenizer(dir.path(), "truncating.json", &v);
    for encoder in ["fast", "reference"] {
        let out = dir.path().join(format!("trunc-{encoder}"));
        run_ok(
            "pricer-prompt",
            &[
                &ingest,
                &"--out",
                &out,
                &"--tokenizer",
                &t,
                &"--encoder",
                &encoder,
            ],
        );
        assert_eq!(
            std::fs::read(out.join("items.art")).unwrap(),
            items,
            "{encoder}: truncation is not applied"
        );
    }

    // An added token whose id is a vocabulary id.
    let mut v = tokenizer_json();
    v["added_tokens"].as_array_mut().unwrap().push(serde_json::json!({"id": 1000, "content": "<|clash|>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true}));
    let t = write_tokenizer(dir.path(), "clash.json", &v);
    let (a, b) = (dir.path().join("clash-fast"), dir.path().join("clash-ref"));
    let o = run(
        "pricer-prompt",
        &[&ingest, &"--out", &a, &"--tokenizer", &t],
    );
    assert_no_crash("added id in the vocabulary", &o);
    fails_naming("added id in the vocabulary", &o, "clash.json");
    assert!(String::from_utf8_lossy(&o.stderr)
        .contains("added token \"<|clash|>\" has id 1000, which the vocabulary gives to"));
    // The reference encoder refuses the same file: the check is the loader's, not one encoder's.
    let o = run(
        "pricer-prompt",
        &[
            &ingest,
            &"--out",
            &b,
            &"--tokenizer",
            &t,
            &"--encoder",
            &"reference",
        ],
    );
    fails_naming("added id in the vocabulary (reference)", &o, "clash.json");

    // Not a tokenizer at all, and a truncated zstd file.
    let t = dir.path().join("junk.json");
    std::fs::write(&t, b"[1, 2, 3]").unwrap();
    fails_naming(
        "junk",
        &run(
            "pricer-prompt",
            &[&ingest, &"--out", &dir.path().join("j"), &"--tokenizer", &t],
        ),
        "junk.json",
    );
    let zst =
        std::fs::read(root().join("fixtures/tokenizers/llama-3.1/tokenizer.json.zst")).unwrap();
    let t = dir.path().join("cut/tokenizer.json.zst");
    std::fs::create_dir_all(t.parent().unwrap()).unwrap();
    std::fs::write(&t, &zst[..zst.len() / 2]).unwrap();
    fails_naming(
        "truncated zstd",
        &run(
            "pricer-prompt",
            &[&ingest, &"--out", &dir.path().join("c"), &"--tokenizer", &t],
        ),
        "tokenizer.json.zst",
    );
}

#[test]
fn an_infinite_price_in_an_items_artifact() {
    let dir = tempfile::tempdir().unwrap();
    let prompt = dir.path().join("prompt");
    let mut w = ArtifactWriter::<Item>::create(prompt.join("items.art")).unwrap();
    for (i, price) in [12.5, f64::INFINITY, f64::NAN, 1e300, -3.0]
        .into_iter()
        .enumerate()
    {
        w.write(&Item {
            category: "Toys_and_Games".into(),
            title: format!("t{i}"),
            price,
            prompt: "How much? Price is $1.00".into(),
            token_count: 9,
            details: None,
        })
        .unwrap();
    }
    w.finish().unwrap();
    let out = dir.path().join("audit");
    let llama2 = format!(
        "Llama 2={}",
        root()
            .join("fixtures/tokenizers/llama-2/tokenizer.json")
            .display()
    );
    let o = run(
        "pricer-audit",
        &[
            &prompt,
            &"--out",
            &out,
            &"--compare-sample",
            &"2",
            &"--compare",
            &llama2,
            &"--no-bundled",
        ],
    );
    assert_no_crash("infinite price", &o);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let audit: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("audit.json")).unwrap()).unwrap();
    assert_eq!(
        audit["stats"]["prices_off_scale"], 3,
        "inf, NaN and 1e300 are off the histogram's scale"
    );
}
