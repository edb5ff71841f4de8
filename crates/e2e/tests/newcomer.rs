//! What a newcomer met following README.md and docs/ on the fixtures: silent empty
//! outputs, columns lost without a word, knobs named the way the user did not set them,
//! an unreachable endpoint retried quietly for many minutes. Each case as a user meets
//! it, through the binaries.

use std::path::{Path, PathBuf};
use std::process::Command;

use pricer_e2e::{fixture, py, run, run_ok};

fn text(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A V1 run config over the fixtures with the given `[split]` lines and more.
fn v1_config(dir: &Path, split: &str, more: &str) -> PathBuf {
    let path = dir.join("run.toml");
    let text = format!(
        "[input]\npaths = [{:?}]\n[tokenizer]\npath = {:?}\n[split]\n{split}\n[audit]\ncompare_bundled = false\n{more}",
        fixture("data/amazon-2023"),
        fixture("tokenizers/llama-3.1/tokenizer.json"),
    );
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn a_short_sample_keeps_the_proportions_and_every_split_loads_with_datasets() {
    let dir = tempfile::tempdir().unwrap();
    let config = v1_config(
        dir.path(),
        "train = 5000\ntest = 1000\ntake_available = true",
        "",
    );
    let out = dir.path().join("run");
    let o = run_ok(
        "xtask",
        &[&"pipeline", &"--config", &config, &"--out", &out],
    );
    let all = text(&o);
    assert!(all.contains("split: warning: the sample holds "), "{all}");
    assert!(
        all.contains("fewer than the 6,000 asked for; took train "),
        "{all}"
    );
    let rows = py(
        "import sys, datasets\n\
         d = datasets.load_dataset('parquet', data_dir=sys.argv[1])\n\
         print(len(d['train']), len(d['test']))",
        &[&out.join("export/hub")],
    );
    let (train, test) = rows.trim().split_once(' ').unwrap();
    let (train, test): (u64, u64) = (train.parse().unwrap(), test.parse().unwrap());
    // The sizes' proportions, 5,000 : 1,000, of a sample of fewer than 6,000.
    assert!(test > 0 && train + test < 6000, "{rows}");
    assert_eq!(test, (train + test) / 6, "{rows}");
    let card = std::fs::read_to_string(out.join("export/hub/README.md")).unwrap();
    assert!(
        !card.contains("example.invalid"),
        "the card links no placeholder"
    );
    // The stage binary says the same with its own flag.
    let alone = dir.path().join("split");
    let o = run_ok(
        "pricer-split",
        &[
            &out.join("prompt"),
            &"--out",
            &alone,
            &"--train",
            &"5000",
            &"--test",
            &"1000",
            &"--take-available",
        ],
    );
    assert!(text(&o).contains("took train "), "{}", text(&o));
}

#[test]
fn a_sample_too_small_names_the_knobs_as_the_user_set_them() {
    let dir = tempfile::tempdir().unwrap();
    let config = v1_config(dir.path(), "train = 5000\ntest = 1000", "");
    let out = dir.path().join("run");
    let o = run(
        "xtask",
        &[&"pipeline", &"--config", &config, &"--out", &out],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        err.contains("lower the sizes ([split] train, [split] test, [split] validation) or allow taking what there is in the sizes' proportions ([split] take_available = true)"),
        "{err}"
    );
    assert!(!err.contains("--take-available"), "{err}");
    let o = run(
        "pricer-split",
        &[
            &out.join("prompt"),
            &"--out",
            &dir.path().join("s"),
            &"--train",
            &"5000",
        ],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("(--train, --test, --validation)") && err.contains("(--take-available)"),
        "{err}"
    );
    assert!(!err.contains("[split]"), "{err}");
    // A user error prints its message, never a backtrace, whatever RUST_BACKTRACE says.
    let o = Command::new(pricer_e2e::bin("pricer-split"))
        .args([
            out.join("prompt").as_os_str(),
            "--out".as_ref(),
            dir.path().join("s").as_os_str(),
            "--train".as_ref(),
            "5000".as_ref(),
        ])
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.starts_with("error: "), "{err}");
    assert!(
        !err.contains("stack backtrace") && !err.contains("Stack backtrace"),
        "{err}"
    );
}

#[test]
fn warnings_off_a_terminal_carry_no_colour_codes() {
    let dir = tempfile::tempdir().unwrap();
    let config = v1_config(dir.path(), "train = 500\ntest = 100", "items = [99999]\n");
    let o = run_ok(
        "xtask",
        &[
            &"pipeline",
            &"--config",
            &config,
            &"--out",
            &dir.path().join("run"),
        ],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("item 99999 is not shown"), "{err}");
    assert!(!err.contains('\u{1b}'), "no escape codes: {err:?}");
}

#[test]
fn a_wrong_path_in_the_config_stops_before_the_first_stage_naming_its_key() {
    let dir = tempfile::tempdir().unwrap();
    let config = v1_config(
        dir.path(),
        "train = 500\ntest = 100",
        "compare = { Mine = \"no/such/tokenizer.json\" }\n",
    );
    let out = dir.path().join("run");
    let o = run(
        "xtask",
        &[&"pipeline", &"--config", &config, &"--out", &out],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        err.contains("[audit] compare.Mine = \"no/such/tokenizer.json\": no such file or folder"),
        "{err}"
    );
    assert!(!out.exists(), "nothing ran, no run folder is left");
}

#[test]
fn the_pipeline_runs_from_a_subfolder_and_refuses_zero_threads() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let o = Command::new(pricer_e2e::bin("xtask"))
        .args(["pipeline", "--config", "edge", "--out"])
        .arg(&out)
        .current_dir(pricer_e2e::root().join("docs"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(out.join("export/hub/README.md").is_file());
    let o = run(
        "xtask",
        &[
            &"pipeline",
            &"--config",
            &"edge",
            &"--out",
            &out,
            &"--threads",
            &"0",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("0 threads cannot run anything"));
}

#[test]
fn a_failed_hub_run_leaves_no_folder_and_a_missing_data_dir_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("hub.toml");
    std::fs::write(
        &config,
        "[input]\nhub = \"McAuley-Lab/Amazon-Reviews-2023\"\ncategories = [\"Automotive\"]\n",
    )
    .unwrap();
    let out = dir.path().join("run");
    let o = Command::new(pricer_e2e::bin("xtask"))
        .args(["pipeline", "--config"])
        .arg(&config)
        .arg("--out")
        .arg(&out)
        .current_dir(pricer_e2e::root())
        .env("HF_HOME", dir.path().join("hf"))
        .env("HF_HUB_OFFLINE", "1")
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(!out.exists(), "{}", String::from_utf8_lossy(&o.stderr));
    // An endpoint that refuses: the message names its URL once.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let o = Command::new(pricer_e2e::bin("xtask"))
        .args(["pipeline", "--config"])
        .arg(&config)
        .arg("--out")
        .arg(&out)
        .current_dir(pricer_e2e::root())
        .env("HF_HOME", dir.path().join("hf"))
        .env("HF_ENDPOINT", format!("http://127.0.0.1:{port}"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(
        err.matches(&format!("http://127.0.0.1:{port}")).count(),
        1,
        "{err}"
    );
    assert!(!out.exists());
    let o = run(
        "pricer-ingest",
        &[
            &"--data-dir",
            &dir.path().join("nowhere"),
            &"--categories",
            &"Automotive",
            &"--out",
            &out,
        ],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("nowhere") && err.contains("no such folder"),
        "{err}"
    );
}

#[test]
fn audit_compare_adds_to_the_bundled_tokenizers_and_ingest_says_what_it_needs() {
    let dir = tempfile::tempdir().unwrap();
    let config = v1_config(dir.path(), "train = 500\ntest = 100", "");
    let out = dir.path().join("run");
    let o = run_ok(
        "xtask",
        &[
            &"pipeline",
            &"--config",
            &config,
            &"--out",
            &out,
            &"--threads",
            &"1",
        ],
    );
    assert!(text(&o).contains("(1 thread)"), "{}", text(&o));
    let qwen = format!(
        "Mine={}",
        fixture("tokenizers/qwen3/tokenizer.json").display()
    );
    let audit = dir.path().join("audit");
    run_ok(
        "pricer-audit",
        &[
            &out.join("prompt"),
            &"--out",
            &audit,
            &"--compare",
            &qwen,
            &"--compare-sample",
            &"5",
        ],
    );
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(audit.join("audit.json")).unwrap()).unwrap();
    let compared = json.to_string();
    for name in ["Qwen3", "Gemma 3", "Llama 2", "Mine"] {
        assert!(compared.contains(&format!("\"{name}\"")), "{name} compared");
    }
    let o = run("pricer-ingest", &[&"--out", &dir.path().join("ingest")]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("nothing to read")
            && err.contains("--categories A,B with --data-dir DIR or --hub REPO"),
        "{err}"
    );
}
