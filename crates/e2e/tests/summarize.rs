//! Recipe V2 part 2 against a local OpenAI-compatible server (crates/e2e/src/fake_openai.rs):
//! faults injected (429 with Retry-After, 5xx, malformed and empty answers, timeouts),
//! requests counted. A rerun makes no request, a killed run restarts with exactly the
//! missing ones, failures are listed and retried, and the Batch API path (submitted, or
//! uploaded by the user) never submits twice.

use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use pricer_core::artifact::ArtifactReader;
use pricer_core::{RawItem, SummarizedItem};
use pricer_e2e::fake_openai::{answer_for, fault_of, start, FakeOpenAi, Fault};
use pricer_e2e::{bin, fixture, run, run_ok};

/// The fixtures parsed and curated (120 items: 100 / 10 / 10).
fn curated(dir: &Path) -> PathBuf {
    let ingest = dir.join("ingest");
    run_ok(
        "pricer-ingest",
        &[
            &"--recipe",
            &"v2",
            &fixture("data/amazon-2023"),
            &"--out",
            &ingest,
        ],
    );
    let curate = dir.join("curate");
    run_ok(
        "pricer-curate",
        &[
            &ingest,
            &"--out",
            &curate,
            &"--sample",
            &"120",
            &"--train",
            &"100",
            &"--validation",
            &"10",
            &"--test",
            &"10",
        ],
    );
    curate
}

fn texts(curate: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for split in ["train", "validation", "test"] {
        for item in ArtifactReader::<RawItem>::open(curate.join(format!("{split}.art"))).unwrap() {
            out.push(item.unwrap().full);
        }
    }
    out
}

fn summarize_args(
    api: &FakeOpenAi,
    curate: &Path,
    out: &Path,
    cache: &Path,
    extra: &[&str],
) -> Vec<std::ffi::OsString> {
    let mut a: Vec<std::ffi::OsString> = vec![
        curate.into(),
        "--out".into(),
        out.into(),
        "--base-url".into(),
        api.base_url().into(),
        "--api-key-env".into(),
        "".into(),
        "--cache".into(),
        cache.into(),
        "--timeout-s".into(),
        "1".into(),
        "--backoff-ms".into(),
        "10".into(),
        "--max-attempts".into(),
        "4".into(),
    ];
    a.extend(extra.iter().map(Into::into));
    a
}

fn summarize(args: &[std::ffi::OsString]) -> std::process::Output {
    let refs: Vec<&dyn AsRef<std::ffi::OsStr>> = args.iter().map(|a| a as _).collect();
    run("pricer-summarize", &refs)
}

/// Every summary equals the fake model's answer for its text.
fn check_summaries(curate: &Path, out: &Path) {
    for split in ["train", "validation", "test"] {
        let raw: Vec<RawItem> =
            ArtifactReader::<RawItem>::open(curate.join(format!("{split}.art")))
                .unwrap()
                .map(Result::unwrap)
                .collect();
        let got: Vec<SummarizedItem> =
            ArtifactReader::<SummarizedItem>::open(out.join(format!("{split}.art")))
                .unwrap()
                .map(Result::unwrap)
                .collect();
        assert_eq!(raw.len(), got.len(), "{split}");
        for (r, g) in raw.iter().zip(&got) {
            assert_eq!((&g.title, &g.full, g.price), (&r.title, &r.full, r.price));
            assert_eq!(g.summary, answer_for(&r.full));
        }
    }
}

/// Complete answers in the cache's logs.
fn cached(cache: &Path) -> usize {
    std::fs::read_dir(cache)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .map(|p| {
            std::fs::read_to_string(p)
                .unwrap()
                .lines()
                .filter(|l| serde_json::from_str::<serde_json::Value>(l).is_ok())
                .count()
        })
        .sum()
}

#[test]
fn online_run_survives_faults_and_a_rerun_asks_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let curate = curated(dir.path());
    let unique: HashSet<String> = texts(&curate).into_iter().collect();
    let faulted = unique.iter().filter(|t| fault_of(t) != Fault::None).count() as u64;
    assert!(
        faulted > 20,
        "the fixtures exercise every fault ({faulted} texts)"
    );
    let api = start();
    let (out, cache) = (dir.path().join("summarize"), dir.path().join("cache"));
    let o = summarize(&summarize_args(
        &api,
        &curate,
        &out,
        &cache,
        &["--max-in-flight", "4"],
    ));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("estimated $"),
        "the cost estimate comes first: {stderr}"
    );
    // One request per distinct text, one more for each fault on a first attempt.
    assert_eq!(api.answered.load(Ordering::SeqCst), unique.len() as u64);
    assert_eq!(
        api.chat_requests.load(Ordering::SeqCst),
        unique.len() as u64 + faulted
    );
    check_summaries(&curate, &out);
    let before = api.chat_requests.load(Ordering::SeqCst);
    let o = summarize(&summarize_args(
        &api,
        &curate,
        &dir.path().join("again"),
        &cache,
        &[],
    ));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        api.chat_requests.load(Ordering::SeqCst),
        before,
        "a rerun makes zero requests"
    );
    check_summaries(&curate, &dir.path().join("again"));
}

#[test]
fn a_killed_run_restarts_with_exactly_the_missing_requests() {
    let dir = tempfile::tempdir().unwrap();
    let curate = curated(dir.path());
    let unique: HashSet<String> = texts(&curate).into_iter().collect();
    let api = start();
    api.delay_ms.store(40, Ordering::SeqCst);
    let (out, cache) = (dir.path().join("summarize"), dir.path().join("cache"));
    let args = summarize_args(&api, &curate, &out, &cache, &["--max-in-flight", "2"]);
    let mut child = Command::new(bin("pricer-summarize"))
        .args(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let t = Instant::now();
    while api.answered.load(Ordering::SeqCst) < 40 && t.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let kept = cached(&cache);
    assert!(
        kept >= 30 && kept < unique.len(),
        "killed halfway: {kept} answers kept"
    );
    api.delay_ms.store(0, Ordering::SeqCst);
    let answered_before = api.answered.load(Ordering::SeqCst);
    let o = summarize(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        api.answered.load(Ordering::SeqCst) - answered_before,
        (unique.len() - kept) as u64,
        "the restart requests exactly what the cache lacks"
    );
    check_summaries(&curate, &out);
}

#[test]
fn failures_are_listed_never_written_and_retried_on_the_next_run() {
    let dir = tempfile::tempdir().unwrap();
    let curate = curated(dir.path());
    let unique: HashSet<String> = texts(&curate).into_iter().collect();
    let failing = unique
        .iter()
        .filter(|t| fault_of(t) == Fault::ServerError)
        .count();
    assert!(failing > 0);
    let api = start();
    api.hard_failures.store(true, Ordering::SeqCst);
    let (out, cache) = (dir.path().join("summarize"), dir.path().join("cache"));
    let args = summarize_args(&api, &curate, &out, &cache, &[]);
    let o = summarize(&args);
    assert!(!o.status.success(), "a run with failures does not finish");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("have no summary yet") && stderr.contains("failures.jsonl"),
        "{stderr}"
    );
    let listed = std::fs::read_to_string(out.join("failures.jsonl")).unwrap();
    assert!(listed.lines().all(|l| l.contains("HTTP 500")), "{listed}");
    assert!(
        !out.join("manifest.json").exists(),
        "no summaries are published"
    );
    assert_eq!(cached(&cache), unique.len() - failing);
    api.hard_failures.store(false, Ordering::SeqCst);
    let before = api.chat_requests.load(Ordering::SeqCst);
    let o = summarize(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        api.chat_requests.load(Ordering::SeqCst) - before,
        failing as u64,
        "only the failed ones"
    );
    check_summaries(&curate, &out);
}

/// A batch-mode run of 50 requests per file, polling without pause, over the fixtures.
struct BatchRun {
    _dir: tempfile::TempDir,
    api: FakeOpenAi,
    curate: PathBuf,
    out: PathBuf,
    cache: PathBuf,
    args: Vec<std::ffi::OsString>,
    /// Request files the distinct texts make.
    files: u64,
    /// Distinct texts.
    unique: usize,
}

impl BatchRun {
    fn new() -> BatchRun {
        let dir = tempfile::tempdir().unwrap();
        let curate = curated(dir.path());
        let unique = texts(&curate).into_iter().collect::<HashSet<_>>().len();
        let api = start();
        let (out, cache) = (dir.path().join("summarize"), dir.path().join("cache"));
        let args = summarize_args(
            &api,
            &curate,
            &out,
            &cache,
            &["--mode", "batch", "--batch-size", "50", "--poll-s", "0"],
        );
        BatchRun {
            _dir: dir,
            api,
            curate,
            out,
            cache,
            args,
            files: unique.div_ceil(50) as u64,
            unique,
        }
    }
}

#[test]
fn batch_mode_submits_once_even_across_a_kill() {
    let BatchRun {
        _dir,
        api,
        curate,
        out,
        cache: _,
        args,
        files,
        unique: _,
    } = BatchRun::new();
    api.hold_batches.store(true, Ordering::SeqCst);
    // Killed while polling: every file was uploaded and batched once.
    let mut child = Command::new(bin("pricer-summarize"))
        .args(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let t = Instant::now();
    while api.batches_created.load(Ordering::SeqCst) < files
        && t.elapsed() < Duration::from_secs(60)
    {
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(100));
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(
        (
            api.uploads.load(Ordering::SeqCst),
            api.batches_created.load(Ordering::SeqCst)
        ),
        (files, files)
    );
    api.hold_batches.store(false, Ordering::SeqCst);
    let o = summarize(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        api.uploads.load(Ordering::SeqCst),
        files,
        "no file uploaded twice"
    );
    assert_eq!(
        api.batches_created.load(Ordering::SeqCst),
        files,
        "no batch made twice"
    );
    assert_eq!(
        api.chat_requests.load(Ordering::SeqCst),
        0,
        "batch mode sends no online request"
    );
    check_summaries(&curate, &out);
    let o = summarize(&args);
    assert!(o.status.success());
    assert_eq!(
        api.uploads.load(Ordering::SeqCst),
        files,
        "a rerun submits nothing"
    );
}

#[test]
fn a_torn_results_line_is_skipped_and_its_request_made_again() {
    let BatchRun {
        _dir,
        api,
        curate,
        out,
        cache,
        args,
        files,
        unique,
    } = BatchRun::new();
    api.tear_results.store(true, Ordering::SeqCst);
    // One line torn in each output file: those items stay unanswered, the rest is kept.
    let o = summarize(&args);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        err.contains("1 unreadable lines skipped (line 2: not JSON"),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "{files} items have no summary yet (not answered yet)"
        )),
        "{err}"
    );
    assert_eq!(cached(&cache), unique - files as usize);
    // The next run submits exactly the torn ones, once, in one new file.
    api.tear_results.store(false, Ordering::SeqCst);
    let o = summarize(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(api.uploads.load(Ordering::SeqCst), files + 1);
    let batches = cache.join("batches");
    let newest = std::fs::read_dir(&batches)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("requests-")
                && !p.to_string_lossy().ends_with(".state.json")
        })
        .map(|p| std::fs::read_to_string(p).unwrap().lines().count())
        .min();
    assert_eq!(newest, Some(files as usize));
    check_summaries(&curate, &out);
}

#[test]
fn a_results_file_of_another_kind_stops_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let curate = curated(dir.path());
    let api = start();
    let (out, cache) = (dir.path().join("summarize"), dir.path().join("cache"));
    let results = dir.path().join("not-results.jsonl");
    std::fs::write(&results, "{\"custom_id\": \"request-1\"}\nnot json\n").unwrap();
    let mut args = summarize_args(
        &api,
        &curate,
        &out,
        &cache,
        &["--mode", "batch", "--no-submit"],
    );
    args.extend(["--results".into(), results.clone().into()]);
    let o = summarize(&args);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        err.contains(&format!(
            "{}: not a batch results file of this cache (line 1: no custom_id of this cache's form)",
            results.display()
        )),
        "{err}"
    );
}

#[test]
fn request_files_uploaded_by_hand_and_their_results_complete_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let curate = curated(dir.path());
    let api = start();
    let (out, cache) = (dir.path().join("summarize"), dir.path().join("cache"));
    let args = summarize_args(
        &api,
        &curate,
        &out,
        &cache,
        &["--mode", "batch", "--no-submit"],
    );
    let o = summarize(&args);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("request files are ready"));
    // What the user downloads: a result line per request, matched by custom_id.
    let mut results = String::new();
    let mut ids = BTreeSet::new();
    for e in std::fs::read_dir(cache.join("batches")).unwrap() {
        let p = e.unwrap().path();
        if !p
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("requests-")
        {
            continue;
        }
        for line in std::fs::read_to_string(&p).unwrap().lines() {
            let r: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(
                (r["method"].as_str(), r["url"].as_str()),
                (Some("POST"), Some("/v1/chat/completions"))
            );
            ids.insert(r["custom_id"].as_str().unwrap().to_owned());
            let user = r["body"]["messages"][1]["content"].as_str().unwrap();
            let body = serde_json::json!({"choices": [{"message": {"content": answer_for(user)}}], "usage": {"prompt_tokens": 1, "completion_tokens": 1}});
            results.push_str(&serde_json::json!({"custom_id": r["custom_id"], "response": {"status_code": 200, "body": body}}).to_string());
            results.push('\n');
        }
    }
    let results_file = dir.path().join("batch_output.jsonl");
    std::fs::write(&results_file, results).unwrap();
    let mut args = summarize_args(
        &api,
        &curate,
        &out,
        &cache,
        &["--mode", "batch", "--no-submit"],
    );
    args.extend(["--results".into(), results_file.into()]);
    let o = summarize(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        ids.len(),
        texts(&curate).into_iter().collect::<HashSet<_>>().len()
    );
    assert_eq!(
        api.chat_requests.load(Ordering::SeqCst) + api.uploads.load(Ordering::SeqCst),
        0
    );
    check_summaries(&curate, &out);
}
