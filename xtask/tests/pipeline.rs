//! `cargo xtask pipeline` as users run it: caching by fingerprint, reruns after a knob
//! changes, a SIGKILL mid-stage, thread counts, and the run-folder lock.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .unwrap()
}

fn xtask(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_xtask"));
    cmd.current_dir(root()).args(args).env_remove("RUST_LOG");
    cmd
}

fn pipeline(config: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "pipeline",
        "--config",
        config.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let o = xtask(&args).output().unwrap();
    assert!(
        o.status.success(),
        "pipeline failed:\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn ran(o: &Output) -> Vec<String> {
    stdout(o)
        .lines()
        .filter(|l| !l.contains("up to date") && !l.starts_with("pipeline:"))
        .filter_map(|l| l.split(':').next().map(str::to_owned))
        .collect()
}

fn config(dir: &Path, inputs: &Path, extra: &str) -> PathBuf {
    let path = dir.join("run.toml");
    let text = format!(
        "[input]\npaths = [{:?}]\n[tokenizer]\npath = \"fixtures/tokenizers/llama-3.1/tokenizer.json\"\n\
         [split]\ntrain = 300\ntest = 100\ntake_available = true\n{extra}",
        inputs.to_str().unwrap()
    );
    std::fs::write(&path, text).unwrap();
    path
}

/// Every output digest of every stage of a run.
fn digests(run: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for stage in ["ingest", "prompt", "split", "audit", "export"] {
        let m: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(run.join(stage).join("manifest.json")).unwrap(),
        )
        .unwrap();
        for (name, info) in m["outputs"].as_object().unwrap() {
            out.insert(
                format!("{stage}/{name}"),
                info["digest"].as_str().unwrap().to_owned(),
            );
        }
    }
    out
}

/// A synthetic corpus of `rows` rows per category, its config, and a clean run of it.
fn synth_and_clean_run(dir: &Path, rows: &str) -> (PathBuf, PathBuf) {
    let corpus = dir.join("corpus");
    let o = xtask(&["synth", corpus.to_str().unwrap(), "--rows", rows])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let cfg = config(dir, &corpus, "");
    let clean = dir.join("clean");
    pipeline(&cfg, &clean, &[]);
    (cfg, clean)
}

/// A pipeline run in the background, its output discarded (it is about to be killed).
fn spawn_pipeline(cfg: &Path, out: &Path, extra: &[&str]) -> std::process::Child {
    let mut args = vec![
        "pipeline",
        "--config",
        cfg.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    xtask(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

#[test]
fn second_run_skips_every_stage_and_a_knob_reruns_only_downstream() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &root().join("fixtures/data/amazon-2023"), "");
    let run = dir.path().join("run");
    let first = pipeline(&cfg, &run, &[]);
    assert_eq!(
        ran(&first),
        ["ingest", "prompt", "split", "audit", "export"]
    );
    let second = pipeline(&cfg, &run, &[]);
    assert!(
        ran(&second).is_empty(),
        "second run did work:\n{}",
        stdout(&second)
    );
    assert!(
        stdout(&second).contains("nothing to do"),
        "{}",
        stdout(&second)
    );

    let fixtures = root().join("fixtures/data/amazon-2023");
    // A split knob: split, audit (it reads the test split) and export run again.
    let cfg = config(dir.path(), &fixtures, "seed = 7\n");
    assert_eq!(
        ran(&pipeline(&cfg, &run, &[])),
        ["split", "audit", "export"]
    );
    // A sample knob does the same.
    let cfg = config(dir.path(), &fixtures, "seed = 7\n[sample]\ncap = 3\n");
    assert_eq!(
        ran(&pipeline(&cfg, &run, &[])),
        ["split", "audit", "export"]
    );
    // An audit knob reruns the audit, and the export, which puts the report beside the
    // card; nothing before them.
    let cfg = config(
        dir.path(),
        &fixtures,
        "seed = 7\n[sample]\ncap = 3\n[audit]\ncompare_sample = 10\n",
    );
    assert_eq!(ran(&pipeline(&cfg, &run, &[])), ["audit", "export"]);
    // --from redoes a stage and everything after it; --force redoes all.
    let all_from_prompt = ["prompt", "split", "audit", "export"];
    assert_eq!(
        ran(&pipeline(&cfg, &run, &["--from", "prompt"])),
        all_from_prompt
    );
    let all = ["ingest", "prompt", "split", "audit", "export"];
    assert_eq!(ran(&pipeline(&cfg, &run, &["--force"])), all);
    // A damaged artifact is noticed and its stage redone.
    let items = run.join("prompt/items.art");
    let mut bytes = std::fs::read(&items).unwrap();
    let n = bytes.len();
    bytes[n / 2] ^= 1;
    std::fs::write(&items, bytes).unwrap();
    assert_eq!(
        ran(&pipeline(&cfg, &run, &[])),
        ["prompt"],
        "items.art is rebuilt to the same bytes, so nothing after it reruns"
    );
}

#[test]
fn one_and_two_threads_give_identical_runs() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &root().join("fixtures/data/amazon-2023"), "");
    pipeline(&cfg, &dir.path().join("t1"), &["--threads", "1"]);
    pipeline(&cfg, &dir.path().join("t2"), &["--threads", "2"]);
    assert_eq!(
        digests(&dir.path().join("t1")),
        digests(&dir.path().join("t2"))
    );
}

#[test]
fn a_run_killed_during_prompt_restarts_to_identical_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let (cfg, clean) = synth_and_clean_run(dir.path(), "1500");

    let killed = dir.path().join("killed");
    let mut child = spawn_pipeline(&cfg, &killed, &[]);
    // Wait until prompt is writing its artifact, then SIGKILL the whole process.
    let started = Instant::now();
    let prompt_dir = killed.join("prompt");
    loop {
        let writing = std::fs::read_dir(&prompt_dir)
            .map(|d| {
                d.filter_map(Result::ok)
                    .any(|e| e.file_name().to_string_lossy().contains(".tmp-"))
            })
            .unwrap_or(false);
        if writing {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run finished before it could be killed"
        );
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "prompt never started"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    // At once: on a quiet machine the prompt stage over these rows takes only tens of
    // milliseconds (a 100 ms pause here let it finish first).
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(
        !prompt_dir.join("manifest.json").exists(),
        "a killed stage has no manifest"
    );
    assert!(
        !prompt_dir.join("items.art").exists(),
        "a killed stage leaves no artifact under its name"
    );

    let restarted = pipeline(&cfg, &killed, &[]);
    assert_eq!(
        ran(&restarted),
        ["prompt", "split", "audit", "export"],
        "ingest had finished and is reused"
    );
    assert_eq!(digests(&killed), digests(&clean));
    let leftovers: Vec<String> = walk(&killed)
        .into_iter()
        .filter(|p| p.contains(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

fn walk(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().filter_map(Result::ok) {
        if e.file_type().unwrap().is_dir() {
            out.extend(walk(&e.path()));
        } else {
            out.push(e.path().display().to_string());
        }
    }
    out
}

#[test]
fn a_second_run_on_the_same_folder_refuses_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    std::fs::create_dir_all(&run).unwrap();
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(run.join(".lock"))
        .unwrap();
    lock.lock().unwrap(); // as a running pipeline holds it
    let cfg = config(dir.path(), &root().join("fixtures/data/edge"), "");
    let o = xtask(&[
        "pipeline",
        "--config",
        cfg.to_str().unwrap(),
        "--out",
        run.to_str().unwrap(),
    ])
    .output()
    .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(err.contains("is in use by another pricer run"), "{err}");
}

#[test]
fn regress_fails_readably_when_an_expectation_differs() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(root().join("fixtures/expected/regress.json")).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["fixtures"]["split"]["summary"]["sample"] = serde_json::json!(1027);
    let tampered = dir.path().join("regress.json");
    std::fs::write(&tampered, v.to_string()).unwrap();
    let o = xtask(&["regress", "--expectations", tampered.to_str().unwrap()])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        err.contains("fixtures/split: summary.sample: expected 1027, got 1028"),
        "{err}"
    );
    assert!(err.contains("--bless"), "{err}");
}

/// The stage whose folder holds a temporary file (the one being written), if any.
fn stage_in_flight(run: &Path) -> Option<String> {
    ["ingest", "prompt", "split", "audit", "export"]
        .into_iter()
        .map(str::to_owned)
        .find(|s| {
            let dir = run.join(s);
            dir.is_dir()
                && walk(&dir)
                    .iter()
                    .any(|p| p.contains(".tmp-") || p.contains(".split-buckets-"))
        })
}

#[test]
fn runs_killed_again_and_again_end_identical_to_a_clean_run() {
    let dir = tempfile::tempdir().unwrap();
    let (cfg, clean) = synth_and_clean_run(dir.path(), "1200");

    let run = dir.path().join("killed");
    let mut interrupted = Vec::new();
    // SIGKILL at a spread of moments; each restart resumes from what is complete.
    for delay_ms in [150u64, 400, 700, 1000, 1300, 1700, 2200, 3000] {
        let mut child = spawn_pipeline(&cfg, &run, &[]);
        std::thread::sleep(Duration::from_millis(delay_ms));
        if let Some(stage) = stage_in_flight(&run) {
            interrupted.push(stage);
        }
        child.kill().unwrap();
        child.wait().unwrap();
    }
    pipeline(&cfg, &run, &[]);
    assert_eq!(
        digests(&run),
        digests(&clean),
        "interrupted during {interrupted:?}"
    );
    assert!(
        walk(&run).iter().all(|p| !p.contains(".tmp-")),
        "temporary files left"
    );
    eprintln!("stages interrupted mid-write: {interrupted:?}");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().filter_map(Result::ok) {
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

#[test]
fn a_run_killed_inside_each_stage_restarts_to_identical_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let (cfg, clean) = synth_and_clean_run(dir.path(), "1200");
    for stage in ["ingest", "prompt", "split", "audit", "export"] {
        let run = dir.path().join(format!("killed-in-{stage}"));
        copy_dir(&clean, &run);
        let manifest = run.join(stage).join("manifest.json");
        let mut child = spawn_pipeline(&cfg, &run, &["--from", stage]);
        // The pipeline deletes a stage's manifest just before running it and writes it
        // last: killing while it is absent kills the process inside the stage.
        let started = Instant::now();
        while manifest.exists() {
            assert!(
                child.try_wait().unwrap().is_none(),
                "{stage}: the run ended before the stage started"
            );
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "{stage} never started"
            );
            std::thread::sleep(Duration::from_micros(200));
        }
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(
            !manifest.exists(),
            "{stage}: killed before its manifest was written"
        );
        let restarted = pipeline(&cfg, &run, &[]);
        assert_eq!(
            ran(&restarted).first().map(String::as_str),
            Some(stage),
            "{stage} is redone"
        );
        assert_eq!(
            digests(&run),
            digests(&clean),
            "after a kill inside {stage}"
        );
        assert!(
            walk(&run)
                .iter()
                .all(|p| !p.contains(".tmp-") && !p.contains(".split-buckets-")),
            "{stage}: leftovers"
        );
    }
}

#[test]
fn start_at_split_takes_earlier_stages_only_when_they_match_the_config() {
    let tmp = tempfile::tempdir().unwrap();
    let edge = root().join("fixtures/data/edge");
    let cfg = config(tmp.path(), &edge, "");
    let run = tmp.path().join("run");
    pipeline(&cfg, &run, &[]);
    let before = digests(&run);
    // Taken as they are, later stages re-run (forced) to the same bytes.
    let o = pipeline(&cfg, &run, &["--start-at", "split", "--force"]);
    assert!(
        stdout(&o).contains("ingest: taken as it is"),
        "{}",
        stdout(&o)
    );
    let out = stdout(&o);
    assert!(out.contains("prompt: taken as it is"), "{out}");
    let ran_now: Vec<String> = ran(&o)
        .into_iter()
        .filter(|s| !out.contains(&format!("{s}: taken as it is")))
        .collect();
    assert_eq!(ran_now, ["split", "audit", "export"]);
    assert_eq!(digests(&run), before);

    let refuse = |cfg: &Path, run: &Path, want: &str| {
        let args = [
            "pipeline",
            "--config",
            cfg.to_str().unwrap(),
            "--out",
            run.to_str().unwrap(),
            "--start-at",
            "split",
        ];
        let o = xtask(&args).output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            !o.status.success() && err.contains(want),
            "want {want:?}, got: {err}"
        );
    };
    // Another tokenizer setting than the prompt stage was made with.
    let other = tmp.path().join("other");
    std::fs::create_dir_all(&other).unwrap();
    let other_cfg = config(&other, &edge, "");
    let text = std::fs::read_to_string(&other_cfg)
        .unwrap()
        .replace("[split]", "clean_up_spaces = false\n[split]");
    std::fs::write(&other_cfg, text).unwrap();
    refuse(&other_cfg, &run, "made with another prompt config");
    // A stage folder that does not verify any more.
    let items = run.join("prompt/items.art");
    let mut bytes = std::fs::read(&items).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x01;
    std::fs::write(&items, bytes).unwrap();
    refuse(&cfg, &run, "its outputs do not verify");
    refuse(
        &cfg,
        &tmp.path().join("empty"),
        "has no finished ingest stage",
    );
}
