//! Sharded ingest and prompt (`--shard i/N`), joined by `pricer-merge`, give the
//! one-machine run's artifacts byte for byte, the same fingerprints, and the same split.

use std::path::{Path, PathBuf};

use pricer_e2e::{fixture, run, run_ok};

fn inputs() -> Vec<PathBuf> {
    vec![fixture("data/edge"), fixture("data/amazon-2023")]
}

fn args<'a>(
    inputs: &'a [PathBuf],
    extra: &'a [&'a dyn AsRef<std::ffi::OsStr>],
) -> Vec<&'a dyn AsRef<std::ffi::OsStr>> {
    let mut a: Vec<&dyn AsRef<std::ffi::OsStr>> = inputs.iter().map(|p| p as _).collect();
    a.extend_from_slice(extra);
    a
}

fn one_machine(dir: &Path) {
    let ins = inputs();
    run_ok(
        "pricer-ingest",
        &args(&ins, &[&"--out", &dir.join("ingest")]),
    );
    run_ok(
        "pricer-prompt",
        &[&dir.join("ingest"), &"--out", &dir.join("prompt")],
    );
    run_ok(
        "pricer-split",
        &[
            &dir.join("prompt"),
            &"--out",
            &dir.join("split"),
            &"--take-available",
        ],
    );
}

fn sharded(dir: &Path, n: u32) {
    let ins = inputs();
    for i in 0..n {
        let spec = format!("{i}/{n}");
        let ingest = dir.join(format!("shards/ingest-{i}"));
        run_ok(
            "pricer-ingest",
            &args(
                &ins,
                &[&"--shard", &spec, &"--threads", &"1", &"--out", &ingest],
            ),
        );
        run_ok(
            "pricer-prompt",
            &[&ingest, &"--out", &dir.join(format!("shards/prompt-{i}"))],
        );
    }
    // Any order of shard folders: the manifests say which is which.
    let order: Vec<u32> = (0..n).rev().collect();
    let stage_shards = |stage: &str| -> Vec<PathBuf> {
        order
            .iter()
            .map(|i| dir.join(format!("shards/{stage}-{i}")))
            .collect()
    };
    let ingest_shards = stage_shards("ingest");
    let mut a: Vec<&dyn AsRef<std::ffi::OsStr>> = ingest_shards.iter().map(|p| p as _).collect();
    let merged_ingest = dir.join("ingest");
    a.extend([&"--out" as &dyn AsRef<std::ffi::OsStr>, &merged_ingest]);
    run_ok("pricer-merge", &a);
    let prompt_shards = stage_shards("prompt");
    let mut a: Vec<&dyn AsRef<std::ffi::OsStr>> = prompt_shards.iter().map(|p| p as _).collect();
    let merged_prompt = dir.join("prompt");
    a.extend([
        &"--out" as &dyn AsRef<std::ffi::OsStr>,
        &merged_prompt,
        &"--upstream",
        &merged_ingest,
    ]);
    run_ok("pricer-merge", &a);
    run_ok(
        "pricer-split",
        &[
            &merged_prompt,
            &"--out",
            &dir.join("split"),
            &"--take-available",
        ],
    );
}

fn manifest(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap()
}

#[test]
fn merged_shards_equal_the_one_machine_run() {
    let tmp = tempfile::tempdir().unwrap();
    let one = tmp.path().join("one");
    one_machine(&one);
    for n in [4, 3, 11] {
        let many = tmp.path().join(format!("shards-{n}"));
        sharded(&many, n);
        for file in [
            "ingest/candidates.art",
            "ingest/rejects.jsonl",
            "prompt/items.art",
            "prompt/rejects.jsonl",
            "split/train.art",
            "split/test.art",
        ] {
            let a = std::fs::read(one.join(file)).unwrap();
            let b = std::fs::read(many.join(file)).unwrap();
            assert!(a == b, "{file} differs with {n} shards");
        }
        for stage in ["ingest", "prompt", "split"] {
            let (a, b) = (manifest(&one.join(stage)), manifest(&many.join(stage)));
            assert_eq!(
                a["fingerprint"], b["fingerprint"],
                "{stage} fingerprint, {n} shards"
            );
            assert_eq!(a["counts"], b["counts"], "{stage} counts, {n} shards");
        }
        assert_eq!(
            manifest(&one.join("ingest"))["per_file"],
            manifest(&many.join("ingest"))["per_file"]
        );
        let summary = &manifest(&many.join("prompt"))["summary"];
        assert_eq!(summary["shards"].as_array().unwrap().len(), n as usize);
    }
}

#[test]
fn incomplete_or_mixed_shards_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let ins = inputs();
    for i in 0..3 {
        let out = tmp.path().join(format!("ingest-{i}"));
        run_ok(
            "pricer-ingest",
            &args(&ins, &[&"--shard", &format!("{i}/3"), &"--out", &out]),
        );
    }
    let other = tmp.path().join("other-1");
    run_ok(
        "pricer-ingest",
        &args(&ins[1..], &[&"--shard", &"1/3", &"--out", &other]),
    );
    let out = tmp.path().join("merged");
    let s = |i: &str| tmp.path().join(format!("ingest-{i}"));
    let cases: Vec<(Vec<PathBuf>, &str)> = vec![
        (
            vec![s("0"), s("1")],
            "2 shard folders given, but the shards say the run has 3",
        ),
        (vec![s("0"), s("1"), s("1")], "appears twice"),
        (
            vec![s("0"), other.clone(), s("2")],
            "differs from shard 0's",
        ),
        (
            vec![s("0"), s("1"), tmp.path().join("missing")],
            "not a finished stage folder",
        ),
    ];
    for (dirs, want) in cases {
        let mut a: Vec<&dyn AsRef<std::ffi::OsStr>> = dirs.iter().map(|p| p as _).collect();
        a.extend([&"--out" as &dyn AsRef<std::ffi::OsStr>, &out]);
        let o = run("pricer-merge", &a);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            !o.status.success() && err.contains(want),
            "want {want:?}, got: {err}"
        );
        assert!(
            !out.join("candidates.art").exists(),
            "nothing merged on error"
        );
    }
    let o = run(
        "pricer-ingest",
        &args(&ins, &[&"--shard", &"3/3", &"--out", &out]),
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("expected i/N with 0 <= i < N"));
}
