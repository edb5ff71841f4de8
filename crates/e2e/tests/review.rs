//! What a review of the docs and code found untested or hard-coded: dataset cards that
//! state the run's own limits, Hub requests that carry HF_TOKEN, and tokenizer files that
//! end with an error naming the file.

use std::path::Path;

use pricer_e2e::{fixture, run_ok};

fn card(run: &Path, folder: &str) -> String {
    std::fs::read_to_string(run.join("export").join(folder).join("README.md")).unwrap()
}

#[test]
fn v2_cards_state_the_runs_own_limits() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("v2.toml");
    std::fs::write(
        &config,
        format!(
            "recipe = \"v2\"\n[input]\npaths = [{:?}]\n[curate]\nsample = 600\nmin_chars = 500\ntotal_chars = 3500\n\
             [split]\ntrain = 500\nvalidation = 50\ntest = 50\nlite_train = 100\nlite_validation = 10\nlite_test = 10\n",
            fixture("data/amazon-2023")
        ),
    )
    .unwrap();
    let run = dir.path().join("run");
    run_ok(
        "xtask",
        &[&"pipeline", &"--config", &config, &"--out", &run],
    );
    let raw = card(&run, "items_raw_lite");
    assert!(
        raw.contains("has at least 500 characters (cut to 3,500)"),
        "{raw}"
    );
    assert!(raw.contains("between $0.50 and $999.49"), "{raw}");
    // Part 3 with another cutoff.
    let mut rows = String::new();
    for (n, split) in ["train", "validation", "test"]
        .iter()
        .cycle()
        .take(12)
        .enumerate()
    {
        rows.push_str(&format!(
            "{{\"split\": \"{split}\", \"price\": {n}.5, \"summary\": \"Title: item {n}\"}}\n"
        ));
    }
    let from = dir.path().join("s.jsonl");
    std::fs::write(&from, rows).unwrap();
    std::fs::write(
        &config,
        format!("recipe = \"v2\"\n[summarize]\nfrom = {from:?}\n[prompts]\ncutoff = 100\n"),
    )
    .unwrap();
    run_ok(
        "xtask",
        &[&"pipeline", &"--config", &config, &"--out", &run],
    );
    let prompts = card(&run, "items_prompts_lite");
    assert!(
        prompts.contains("cut to 100 tokens") && prompts.contains("cut to 100 Llama 3 tokens"),
        "{prompts}"
    );
    assert!(!prompts.contains("110"), "{prompts}");
}

#[test]
fn a_gated_hub_repo_needs_hf_token_and_the_refusal_says_so() {
    use pricer_e2e::fake_hub::FakeHub;
    let dir = tempfile::tempdir().unwrap();
    let hub = FakeHub::start();
    let bytes = std::fs::read(fixture("data/amazon-2023/meta_Appliances.jsonl")).unwrap();
    hub.add_dataset_file("org/gated", "raw/meta_Appliances.jsonl", bytes, true);
    hub.require_token(Some("hf_secret"));
    let ingest = |token: Option<&str>, out: &Path| {
        let mut cmd = std::process::Command::new(pricer_e2e::bin("pricer-ingest"));
        cmd.args([
            "--hub",
            "org/gated",
            "--categories",
            "Appliances",
            "--pattern",
            "raw/meta_{category}.jsonl",
            "--out",
        ])
        .arg(out)
        .env("HF_ENDPOINT", hub.url())
        .env("HF_HUB_CACHE", dir.path().join("cache"))
        .env_remove("HF_HOME")
        .env_remove("HF_HUB_OFFLINE")
        .env_remove("HF_TOKEN");
        if let Some(t) = token {
            cmd.env("HF_TOKEN", t);
        }
        cmd.output().unwrap()
    };
    let o = ingest(None, &dir.path().join("refused"));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        err.contains("HTTP 401") && err.contains("set HF_TOKEN"),
        "{err}"
    );
    let o = ingest(Some("hf_secret"), &dir.path().join("ingest"));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        hub.requests().iter().any(|r| r.starts_with("GET /cdn/")),
        "downloaded with the token"
    );
}

#[test]
fn a_hub_download_draws_its_progress_on_a_terminal_and_not_off_one() {
    use pricer_e2e::fake_hub::{FakeHub, Fault};
    let dir = tempfile::tempdir().unwrap();
    let hub = FakeHub::start();
    let bytes = std::fs::read(fixture("data/amazon-2023/meta_Amazon_Fashion.jsonl")).unwrap();
    hub.add_dataset_file("org/data", "raw/meta_Amazon_Fashion.jsonl", bytes, true);
    // The download stalls after 600 kB: the bar stays drawn at that point.
    hub.set_fault(Fault::StallAfter(600_000));
    let ingest = format!(
        "{} --hub org/data --categories Amazon_Fashion --pattern 'raw/meta_{{category}}.jsonl' --out {}",
        pricer_e2e::bin("pricer-ingest").display(),
        dir.path().join("run").display()
    );
    let env = |cmd: &mut std::process::Command| {
        cmd.env("HF_ENDPOINT", hub.url())
            .env("HF_HUB_CACHE", dir.path().join("cache"))
            .env_remove("HF_HOME")
            .env_remove("HF_HUB_OFFLINE");
    };
    // On a terminal: `script` gives the command a pseudo-terminal and copies what it draws.
    let mut cmd = std::process::Command::new("timeout");
    cmd.args(["4", "script", "-qfec", &ingest, "/dev/null"]);
    env(&mut cmd);
    let drawn = String::from_utf8_lossy(&cmd.output().unwrap().stdout).into_owned();
    assert!(drawn.contains("meta_Amazon_Fashion.jsonl"), "{drawn}");
    assert!(
        drawn.contains("KiB/") && drawn.contains(" eta "),
        "bytes, total, rate and ETA: {drawn}"
    );
    // Off a terminal: no bar.
    let mut cmd = std::process::Command::new("timeout");
    cmd.args(["4", "sh", "-c", &ingest]);
    env(&mut cmd);
    let o = cmd.output().unwrap();
    assert!(
        !String::from_utf8_lossy(&o.stderr).contains(" eta "),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}
