//! Recipe v2 as users run it (`cargo xtask pipeline`): part 1 on the fixtures
//! (crates/pipeline/configs/v2-fixtures.toml), then all three parts with summaries from a local
//! OpenAI-compatible server. Every exported Hub folder is read back by `datasets` with
//! the published columns and splits, every value equal to the stages' artifacts.

use std::path::Path;
use std::process::Command;

use pricer_e2e::{dump, fake_openai, root, run_ok};

fn python() -> String {
    std::env::var("PRICER_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// Every file under `dir` but the manifest (which holds times), by relative path.
fn files(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let path = e.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.file_name().is_some_and(|n| n != "manifest.json") {
                let rel = path.strip_prefix(dir).unwrap().display().to_string();
                out.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    out
}

fn check_export(dir: &Path, run: &Path, parts: &[(&str, &str, [&str; 3])]) {
    let probe = Command::new(python())
        .args(["-c", "import datasets, pyarrow"])
        .output();
    assert!(
        probe.as_ref().is_ok_and(|o| o.status.success()),
        "this test needs a Python with datasets and pyarrow: set PRICER_PYTHON (cargo xtask ci makes target/py-venv)"
    );
    let expected = dir.join("expected");
    for (part, stage, splits) in parts {
        std::fs::create_dir_all(expected.join(part)).unwrap();
        for (split, file) in splits.iter().zip(if *part == "items_prompts" {
            ["train", "val", "test"]
        } else {
            ["train", "validation", "test"]
        }) {
            let lines = dump(&run.join(stage).join(format!("{file}.art")));
            std::fs::write(expected.join(part).join(format!("{split}.jsonl")), lines).unwrap();
        }
    }
    let out = Command::new(python())
        .arg(root().join("crates/e2e/tests/py/check_v2_export.py"))
        .arg(run.join("export"))
        .arg(&expected)
        .args(["100", "10", "10"])
        .env("HF_DATASETS_OFFLINE", "1")
        .env("HF_HUB_OFFLINE", "1")
        .env("HF_HOME", dir.join("hf-home"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "check_v2_export.py failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn part_one_export_reads_back_with_datasets() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let config = root().join("crates/pipeline/configs/v2-fixtures.toml");
    run_ok(
        "xtask",
        &[&"pipeline", &"--config", &config, &"--out", &run],
    );
    check_export(
        dir.path(),
        &run,
        &[("items_raw", "curate", ["train", "validation", "test"])],
    );
}

/// The eval stage of a V2 run: the whole test split (50, under the course's 200), the
/// truths the prompts' prices, the frontier model asked the course's prompt with each
/// item's summary; the audit links the evaluation.
fn check_eval(run: &Path) {
    let tests: Vec<pricer_core::PromptPair> =
        pricer_core::ArtifactReader::<pricer_core::PromptPair>::open(run.join("prompts/test.art"))
            .unwrap()
            .map(Result::unwrap)
            .collect();
    let summaries: Vec<pricer_core::SummarizedItem> = pricer_core::ArtifactReader::<
        pricer_core::SummarizedItem,
    >::open(run.join("summarize/test.art"))
    .unwrap()
    .map(Result::unwrap)
    .collect();
    let lines = std::fs::read_to_string(run.join("eval/frontier/predictions.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = lines
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), tests.len());
    for ((line, t), s) in lines.iter().zip(&tests).zip(&summaries) {
        assert_eq!(line["truth"].as_f64().unwrap(), t.price);
        let asked = format!(
            "Estimate the price of this product. Respond with the price, no explanation\n\n{}",
            s.summary
        );
        assert_eq!(line["answer"], fake_openai::price_for(&asked));
    }
    let metrics = std::fs::read_to_string(run.join("eval/metrics.json")).unwrap();
    assert!(metrics.contains("\"recipe\": \"v2\""), "{metrics}");
    let audit = std::fs::read_to_string(run.join("audit/report.html")).unwrap();
    assert!(audit.contains(r#"id="eval-link" href="../eval/report.html""#));
}

#[test]
fn all_three_parts_with_a_local_llm_server() {
    let dir = tempfile::tempdir().unwrap();
    let api = fake_openai::start();
    let config = dir.path().join("v2.toml");
    let base =
        std::fs::read_to_string(root().join("crates/pipeline/configs/v2-fixtures.toml")).unwrap();
    std::fs::write(
        &config,
        format!(
            "{base}\n[summarize]\nbase_url = \"{0}\"\nmodel = \"local-model\"\napi_key_env = \"\"\ncache = {1:?}\ntimeout_s = 1\nbackoff_ms = 10\n\
             [[eval.predictors]]\nkind = \"random\"\n[[eval.predictors]]\nkind = \"constant\"\n\
             [[eval.predictors]]\nkind = \"endpoint\"\nname = \"frontier\"\nbase_url = \"{0}\"\nmodel = \"local-model\"\napi_key_env = \"\"\ncache = {1:?}\ntimeout_s = 1\nbackoff_ms = 10\n",
            api.base_url(),
            dir.path().join("cache")
        ),
    )
    .unwrap();
    let run = dir.path().join("run");
    let o = run_ok(
        "xtask",
        &[&"pipeline", &"--config", &config, &"--out", &run],
    );
    let stdout = String::from_utf8_lossy(&o.stdout);
    for stage in [
        "ingest",
        "curate",
        "summarize",
        "prompts",
        "audit",
        "export",
        "eval",
    ] {
        assert!(
            stdout.lines().any(|l| l.starts_with(&format!("{stage}:"))),
            "{stage} ran: {stdout}"
        );
    }
    check_eval(&run);
    check_export(
        dir.path(),
        &run,
        &[
            ("items_raw", "curate", ["train", "validation", "test"]),
            ("items", "summarize", ["train", "validation", "test"]),
            ("items_prompts", "prompts", ["train", "val", "test"]),
        ],
    );
    // The audit reports the tokens of prompt + completion, from the prompts themselves.
    let audit: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run.join("audit/audit.json")).unwrap()).unwrap();
    let pairs: Vec<pricer_core::PromptPair> =
        pricer_core::ArtifactReader::<pricer_core::PromptPair>::open(run.join("prompts/train.art"))
            .unwrap()
            .map(Result::unwrap)
            .collect();
    let train = &audit["splits"][0];
    assert_eq!(train["items"].as_u64().unwrap(), pairs.len() as u64);
    assert_eq!(
        train["prompt_completion_tokens_max"].as_u64().unwrap(),
        pairs
            .iter()
            .map(|p| u64::from(p.prompt_completion_tokens))
            .max()
            .unwrap()
    );
    let total: u64 = train["prompt_completion_tokens"]["bins"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b[2].as_u64().unwrap())
        .sum();
    assert_eq!(total, pairs.len() as u64);
    // The stage binaries on their own write what the pipeline wrote.
    let alone = dir.path().join("alone");
    run_ok(
        "pricer-export",
        &[
            &"--recipe",
            &"v2",
            &run,
            &"--lite",
            &"100,10,10", // v2-fixtures.toml's lite sizes
            &"--out",
            &alone.join("export"),
        ],
    );
    run_ok(
        "pricer-audit",
        &[
            &"--recipe",
            &"v2",
            &run.join("prompts"),
            &"--out",
            &alone.join("audit"),
            &"--link-eval",
        ],
    );
    for stage in ["export", "audit"] {
        let (want, got) = (files(&run.join(stage)), files(&alone.join(stage)));
        assert!(want.len() >= 2, "{stage}: {:?}", want.keys());
        assert_eq!(
            got.keys().collect::<Vec<_>>(),
            want.keys().collect::<Vec<_>>(),
            "{stage}"
        );
        for (name, bytes) in &want {
            assert!(got[name] == *bytes, "{stage}/{name} differs");
        }
    }

    // A second run: every stage up to date, no request made.
    let before = api.chat_requests.load(std::sync::atomic::Ordering::SeqCst);
    let o = run_ok(
        "xtask",
        &[&"pipeline", &"--config", &config, &"--out", &run],
    );
    assert!(String::from_utf8_lossy(&o.stdout).contains("nothing to do"));
    assert_eq!(
        api.chat_requests.load(std::sync::atomic::Ordering::SeqCst),
        before
    );
}
