//! The split of the fixture items, through the binaries, equals what the Python reference
//! gives for the same items and knobs (committed in fixtures/expected/split-reference).

use std::path::Path;

use pricer_core::artifact::ArtifactReader;
use pricer_core::dump::split_row_json;
use pricer_core::Item;
use pricer_e2e::{fixture, ingest_and_prompt, run_ok};

fn rows(path: &Path, test_form: bool) -> String {
    let mut s = String::new();
    for item in ArtifactReader::<Item>::open(path).unwrap() {
        let item = item.unwrap();
        let text = if test_form {
            item.test_prompt()
        } else {
            item.prompt.clone()
        };
        s.push_str(&split_row_json(&text, item.price));
        s.push('\n');
    }
    s
}

fn expected(rel: &str) -> String {
    let raw = std::fs::read(fixture(&format!(
        "expected/split-reference/{rel}.jsonl.zst"
    )))
    .unwrap();
    String::from_utf8(zstd::decode_all(&raw[..]).unwrap()).unwrap()
}

#[test]
fn fixture_split_matches_the_reference() {
    let dir = tempfile::tempdir().unwrap();
    let prompt = ingest_and_prompt(&[fixture("data/amazon-2023")], dir.path(), 2, 1 << 20);
    for (name, args) in [
        ("default", vec!["--train", "800", "--test", "200"]),
        (
            "smallcap",
            vec![
                "--cap",
                "3",
                "--keep-from",
                "60",
                "--train",
                "200",
                "--test",
                "50",
            ],
        ),
    ] {
        let out = dir.path().join(name);
        let mut all: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![&prompt, &"--out", &out];
        for a in &args {
            all.push(a);
        }
        run_ok("pricer-split", &all);
        assert!(
            rows(&out.join("train.art"), false) == expected(&format!("{name}/train")),
            "{name}: train differs"
        );
        assert!(
            rows(&out.join("test.art"), true) == expected(&format!("{name}/test")),
            "{name}: test differs"
        );
    }
}

#[test]
fn sizes_beyond_the_sample_are_a_clear_error_unless_asked() {
    let dir = tempfile::tempdir().unwrap();
    let prompt = ingest_and_prompt(&[fixture("data/edge")], dir.path(), 1, 1 << 20);
    let out = pricer_e2e::run("pricer-split", &[&prompt, &"--out", &dir.path().join("s")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("402000") && stderr.contains("holds 29"),
        "{stderr}"
    );
    let out = run_ok(
        "pricer-split",
        &[
            &prompt,
            &"--out",
            &dir.path().join("s"),
            &"--take-available",
        ],
    );
    // The sizes' proportions (400,000 : 2,000 of 29 items), and a test item at least.
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("train 28") && stdout.contains("test 1 "),
        "{stdout}"
    );
}
