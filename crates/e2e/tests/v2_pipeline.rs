//! Recipe v2 part 1 as users run it (`cargo xtask pipeline` with xtask/configs/v2-fixtures.toml):
//! the exported Hub folders read back by `datasets`, with the published columns and splits,
//! every value equal to the curated splits; the lite folder is their prefixes.

use std::process::Command;

use pricer_e2e::{dump, root, run_ok};

fn python() -> String {
    std::env::var("PRICER_PYTHON").unwrap_or_else(|_| "python3".into())
}

#[test]
fn v2_export_reads_back_with_datasets() {
    let probe = Command::new(python())
        .args(["-c", "import datasets, pyarrow"])
        .output();
    assert!(
        probe.as_ref().is_ok_and(|o| o.status.success()),
        "this test needs a Python with datasets and pyarrow: set PRICER_PYTHON (cargo xtask ci makes target/py-venv)"
    );
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let config = root().join("xtask/configs/v2-fixtures.toml");
    run_ok(
        "xtask",
        &[&"pipeline", &"--config", &config, &"--out", &run],
    );
    let expected = dir.path().join("expected");
    std::fs::create_dir_all(&expected).unwrap();
    for split in ["train", "validation", "test"] {
        let lines = dump(&run.join("curate").join(format!("{split}.art")));
        std::fs::write(expected.join(format!("{split}.jsonl")), lines).unwrap();
    }
    let out = Command::new(python())
        .arg(root().join("crates/e2e/tests/py/check_items_raw.py"))
        .arg(run.join("export"))
        .arg(&expected)
        .args(["100", "10", "10"])
        .env("HF_DATASETS_OFFLINE", "1")
        .env("HF_HUB_OFFLINE", "1")
        .env("HF_HOME", dir.path().join("hf-home"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "check_items_raw.py failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
