//! The exported folder read back by the real readers (`datasets`, pyarrow, pandas), and
//! export's determinism, through the binaries.

use std::path::{Path, PathBuf};
use std::process::Command;

use pricer_core::artifact::ArtifactReader;
use pricer_core::manifest::Manifest;
use pricer_core::Item;
use pricer_e2e::{fixture, ingest_and_prompt, root, run_ok};

/// A run folder with ingest, prompt and split (800 / 200 / 28) of the amazon-2023 fixtures.
fn make_run(dir: &Path) {
    let prompt = ingest_and_prompt(&[fixture("data/amazon-2023")], dir, 2, 1 << 20);
    run_ok(
        "pricer-split",
        &[
            &prompt,
            &"--out",
            &dir.join("split"),
            &"--train",
            &"800",
            &"--test",
            &"200",
            &"--validation",
            &"28",
        ],
    );
}

fn export(run: &Path, extra: &[&str]) -> Manifest {
    let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![&run];
    for a in extra {
        args.push(a);
    }
    run_ok("pricer-export", &args);
    Manifest::read(&run.join("export")).unwrap()
}

fn python() -> String {
    std::env::var("PRICER_PYTHON").unwrap_or_else(|_| "python3".into())
}

fn dump_rows(src: &Path, dst: &Path, train: bool) {
    let mut out = String::new();
    for item in ArtifactReader::<Item>::open(src).unwrap() {
        let item = item.unwrap();
        let text = if train {
            item.prompt.clone()
        } else {
            item.test_prompt()
        };
        out.push_str(&pricer_core::dump::split_row_json(&text, item.price));
        out.push('\n');
    }
    std::fs::write(dst, out).unwrap();
}

#[test]
fn datasets_and_pyarrow_read_back_every_value() {
    let probe = Command::new(python())
        .args(["-c", "import datasets, pyarrow, pandas"])
        .output();
    assert!(
        probe.as_ref().is_ok_and(|o| o.status.success()),
        "this test needs a Python with datasets, pyarrow and pandas: set PRICER_PYTHON (cargo xtask ci makes \
         target/py-venv) or pip install datasets pyarrow pandas"
    );
    let dir = tempfile::tempdir().unwrap();
    make_run(dir.path());
    let out_dir = dir.path().join("export");
    // Small shards, so the layout check sees a split cut into several files.
    export(dir.path(), &["--max-shard-bytes", "100000"]);
    let expected = dir.path().join("expected");
    std::fs::create_dir_all(&expected).unwrap();
    for split in ["train", "test", "validation"] {
        dump_rows(
            &dir.path().join(format!("split/{split}.art")),
            &expected.join(format!("{split}.jsonl")),
            split == "train",
        );
    }
    let mut items = String::new();
    for item in ArtifactReader::<Item>::open(dir.path().join("prompt/items.art")).unwrap() {
        // The golden form, and the details the items table also holds.
        let item = item.unwrap();
        let mut row: serde_json::Value =
            serde_json::from_str(&pricer_core::dump::item_json(&item)).unwrap();
        row["details"] = serde_json::json!(item.details);
        items.push_str(&row.to_string());
        items.push('\n');
    }
    std::fs::write(expected.join("items.jsonl"), items).unwrap();
    let out = Command::new(python())
        .arg(root().join("crates/e2e/tests/py/check_export.py"))
        .arg(&out_dir)
        .arg(&expected)
        .arg("100000")
        .env("HF_DATASETS_OFFLINE", "1")
        .env("HF_HUB_OFFLINE", "1")
        .env("HF_HOME", dir.path().join("hf-home"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "check_export.py failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // The binary items load through the documented API and match the split's.
    let loaded: Vec<Item> = pricer_export::load_items(out_dir.join("items/test.art"))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let split: Vec<Item> = ArtifactReader::<Item>::open(dir.path().join("split/test.art"))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(loaded, split);
}

#[test]
fn export_is_byte_identical_on_rerun_and_shards_by_size() {
    let dir = tempfile::tempdir().unwrap();
    make_run(dir.path());
    let first = export(dir.path(), &[]).outputs;
    let again = export(dir.path(), &[]).outputs;
    assert_eq!(
        first, again,
        "identical input and config give identical files"
    );
    // Small shards: the train split is cut into several files, none over the limit by rows' size.
    let m = export(dir.path(), &["--max-shard-bytes", "200000"]);
    let train_files: Vec<&String> = m
        .outputs
        .keys()
        .filter(|k| k.starts_with("hub/data/train-"))
        .collect();
    assert_eq!(train_files.len(), 4, "{train_files:?}");
    assert!(train_files[0].ends_with("train-00000-of-00004.parquet"));
    let on_disk: Vec<PathBuf> = std::fs::read_dir(dir.path().join("export/hub/data"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(on_disk.len(), 6, "stale shards are removed: {on_disk:?}");
}
