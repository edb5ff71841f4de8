//! Recipe V2 part 2 against a local OpenAI-compatible server (crates/e2e/src/fake_openai.rs):
//! faults injected (429 with Retry-After, 5xx, malformed and empty answers, timeouts),
//! requests counted. A rerun makes no request, a killed run restarts with exactly the
//! missing ones, failures are listed and retried. The Batch API path:
//! tests/summarize_batch.rs.

use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use pricer_e2e::fake_openai::{fault_of, start, Fault};
use pricer_e2e::summarize_run::*;

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
    let mut child = spawn_quiet(&args);
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
