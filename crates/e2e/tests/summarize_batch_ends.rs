//! How batches end, against the fake Batches API (crates/e2e/src/fake_batches.rs): an
//! expired batch (with and without the requests done in time), a failed one with its
//! validation errors, a cancelled one, error-file lines, and a batch whose create call
//! went unanswered, found again in a listing of several pages. Nothing is stranded,
//! nothing answered is sent again, and the cost lines say what the server counted.

use std::path::Path;
use std::sync::atomic::Ordering;

use pricer_e2e::fake_openai::{self, FakeOpenAi};
use pricer_e2e::summarize_run::*;
use pricer_e2e::{root, run};

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Every summary the server gave was for a request asked once, and the cost lines of
/// `logs` add up to what the server counted.
fn check_paid_once(api: &FakeOpenAi, logs: &str) {
    let b = &api.batch;
    assert_eq!(
        b.most_answers_of_one_request(),
        1,
        "an answered request was sent again"
    );
    assert_eq!(
        spent_in(logs),
        [
            b.lines_batched.load(Ordering::SeqCst),
            b.answers(),
            b.prompt_tokens.load(Ordering::SeqCst),
            b.completion_tokens.load(Ordering::SeqCst),
        ],
        "requests, answers and tokens as the server counted them:\n{logs}"
    );
}

#[test]
fn an_expired_batch_without_output_is_sent_again_in_the_same_run() {
    let r = BatchRun::submitting();
    r.api.batch.expire_next.store(1, Ordering::SeqCst);
    let o = summarize(&r.args);
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("batch batch-1 expired: 0 answers read back"),
        "{err}"
    );
    assert!(
        err.contains("left undone by expired batches go into new request files now (round 2"),
        "{err}"
    );
    let statuses = r.api.batch.statuses();
    assert_eq!(statuses[0], "expired");
    assert!(
        statuses[1..].iter().all(|s| s == "completed"),
        "{statuses:?}"
    );
    assert_eq!(r.api.batch.created.load(Ordering::SeqCst), r.files + 1);
    check_summaries(&r.curate, &r.out);
    check_paid_once(
        &r.api,
        &format!("{err}{}", String::from_utf8_lossy(&o.stdout)),
    );
    // Nothing pending is left: a rerun sends nothing and waits for nothing.
    let o = summarize(&r.args);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("0 requests to send"), "{}", stderr(&o));
    assert_eq!(r.api.batch.created.load(Ordering::SeqCst), r.files + 1);
}

#[test]
fn a_failed_batch_names_its_errors_and_the_next_run_sends_its_requests() {
    let r = BatchRun::submitting();
    r.api.batch.fail_next.store(1, Ordering::SeqCst);
    let first = summarize(&r.args);
    let err = stderr(&first);
    assert!(!first.status.success());
    assert!(
        err.contains("batch batch-1 failed: invalid_request: The batch input file is not valid"),
        "{err}"
    );
    assert!(
        err.contains("items have no summary yet (batch batch-1 failed"),
        "{err}"
    );
    for f in ["train.art", "validation.art", "test.art", "manifest.json"] {
        assert!(!r.out.join(f).exists(), "a failed run leaves no {f}");
    }
    let second = summarize(&r.args);
    assert!(second.status.success(), "{}", stderr(&second));
    assert_eq!(r.api.batch.created.load(Ordering::SeqCst), r.files + 1);
    check_summaries(&r.curate, &r.out);
    check_paid_once(
        &r.api,
        &format!("{err}{}", String::from_utf8_lossy(&second.stdout)),
    );
}

#[test]
fn a_cancelled_batch_keeps_what_was_done_and_the_rest_is_sent_on_the_next_run() {
    let r = BatchRun::submitting();
    r.api.batch.cancel_next.store(1, Ordering::SeqCst);
    let first = summarize(&r.args);
    let err = stderr(&first);
    assert!(!first.status.success());
    assert!(
        err.contains("batch batch-1 cancelled: 25 answers read back, 25 without one"),
        "{err}"
    );
    assert_eq!(cached(&r.cache), r.unique - 25);
    let second = summarize(&r.args);
    assert!(second.status.success(), "{}", stderr(&second));
    // The second run's file holds only the 25 the cancelled batch left.
    assert_eq!(
        r.api.batch.lines_batched.load(Ordering::SeqCst),
        r.unique as u64 + 25
    );
    check_summaries(&r.curate, &r.out);
    check_paid_once(
        &r.api,
        &format!("{err}{}", String::from_utf8_lossy(&second.stdout)),
    );
}

#[test]
fn a_batch_made_while_the_create_call_went_unanswered_is_found_in_a_long_listing() {
    let r = BatchRun::submitting();
    r.api.batch.others.store(250, Ordering::SeqCst);
    r.api.batch.slow_create.store(true, Ordering::SeqCst);
    let first = summarize(&r.args);
    assert!(!first.status.success());
    assert!(
        stderr(&first).contains("creating a batch"),
        "{}",
        stderr(&first)
    );
    assert_eq!(r.api.batch.created.load(Ordering::SeqCst), 1);
    r.api.batch.slow_create.store(false, Ordering::SeqCst);
    let second = summarize(&r.args);
    assert!(second.status.success(), "{}", stderr(&second));
    assert_eq!(
        r.api.batch.created.load(Ordering::SeqCst),
        r.files,
        "the batch made unanswered is found, not made again"
    );
    assert_eq!(
        r.api.batch.list_calls.load(Ordering::SeqCst),
        3,
        "250 other batches before ours: three pages of 100"
    );
    check_summaries(&r.curate, &r.out);
}

/// A V2 run config over the fixtures with summaries from `api`.
fn config(dir: &Path, api: &FakeOpenAi, name: &str, summarize: &str) -> std::path::PathBuf {
    let base =
        std::fs::read_to_string(root().join("crates/pipeline/configs/v2-fixtures.toml")).unwrap();
    let path = dir.join(format!("{name}.toml"));
    let text = format!(
        "{base}\n[summarize]\nbase_url = \"{}\"\nmodel = \"local-model\"\napi_key_env = \"\"\ncache = {:?}\ntimeout_s = 1\nbackoff_ms = 10\n{summarize}",
        api.base_url(),
        dir.join(format!("cache-{name}"))
    );
    std::fs::write(&path, text).unwrap();
    path
}

/// The case: v2-fixtures (600 items), batches of 250, the first batch expires
/// with what it did in time, and one request in seven goes to the error file.
#[test]
fn an_expiring_batch_and_failing_lines_finish_within_three_runs_as_online_would() {
    let dir = tempfile::tempdir().unwrap();
    let api = fake_openai::start();
    api.batch.expire_next.store(1, Ordering::SeqCst);
    api.batch.expire_partial.store(true, Ordering::SeqCst);
    api.batch.error_every.store(7, Ordering::SeqCst);
    let batch = config(
        dir.path(),
        &api,
        "batch",
        "mode = \"batch\"\nbatch_size = 250\npoll_s = 0\n",
    );
    let (batch_run, online_run) = (dir.path().join("batch-run"), dir.path().join("online-run"));
    let mut logs = String::new();
    let mut runs = 0;
    loop {
        runs += 1;
        let o = run(
            "xtask",
            &[&"pipeline", &"--config", &batch, &"--out", &batch_run],
        );
        logs.push_str(&stderr(&o));
        logs.push_str(&String::from_utf8_lossy(&o.stdout));
        if o.status.success() {
            break;
        }
        assert!(runs < 3, "still unfinished after 3 runs:\n{logs}");
    }
    assert!(logs.contains("batch batch-1 expired: "), "{logs}");
    check_paid_once(&api, &logs);
    let online = config(dir.path(), &api, "online", "");
    let o = run(
        "xtask",
        &[&"pipeline", &"--config", &online, &"--out", &online_run],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let export = |run: &Path| {
        let mut files = std::collections::BTreeMap::new();
        for e in walk(&run.join("export")) {
            if e.file_name().is_some_and(|n| n != "manifest.json") {
                let rel = e.strip_prefix(run).unwrap().to_owned();
                files.insert(rel, std::fs::read(&e).unwrap());
            }
        }
        files
    };
    let (want, got) = (export(&online_run), export(&batch_run));
    assert!(want.len() > 6);
    assert_eq!(
        want.keys().collect::<Vec<_>>(),
        got.keys().collect::<Vec<_>>()
    );
    for (name, bytes) in &want {
        assert!(
            got[name] == *bytes,
            "{} differs from the online run's",
            name.display()
        );
    }
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
