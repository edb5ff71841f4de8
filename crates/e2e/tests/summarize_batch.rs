//! Recipe V2 part 2 in batch mode against a local OpenAI-compatible server
//! (crates/e2e/src/fake_openai.rs): a batch is submitted once even across a kill, a torn
//! result line costs only its own request, a status answer without end stops the run
//! and loses nothing, a results file of another cache is refused, and request files uploaded by hand complete the run with the results given back.

use std::collections::{BTreeSet, HashSet};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use pricer_e2e::fake_openai::answer_for;
use pricer_e2e::summarize_run::*;

#[test]
fn batch_mode_submits_once_even_across_a_kill() {
    let BatchRun {
        dir: _dir,
        api,
        curate,
        out,
        cache: _,
        args,
        files,
        unique: _,
    } = BatchRun::submitting();
    api.batch.hold.store(true, Ordering::SeqCst);
    // Killed while polling: every file was uploaded and batched once.
    let mut child = spawn_quiet(&args);
    let t = Instant::now();
    while api.batch.created.load(Ordering::SeqCst) < files && t.elapsed() < Duration::from_secs(60)
    {
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(100));
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(
        (
            api.batch.uploads.load(Ordering::SeqCst),
            api.batch.created.load(Ordering::SeqCst)
        ),
        (files, files)
    );
    api.batch.hold.store(false, Ordering::SeqCst);
    let o = summarize(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        api.batch.uploads.load(Ordering::SeqCst),
        files,
        "no file uploaded twice"
    );
    assert_eq!(
        api.batch.created.load(Ordering::SeqCst),
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
        api.batch.uploads.load(Ordering::SeqCst),
        files,
        "a rerun submits nothing"
    );
}

#[test]
fn a_torn_results_line_is_skipped_and_its_request_made_again() {
    let BatchRun {
        dir: _dir,
        api,
        curate,
        out,
        cache,
        args,
        files,
        unique,
    } = BatchRun::submitting();
    api.batch.tear.store(true, Ordering::SeqCst);
    // One line torn in each output file: those items stay unanswered, the rest is kept.
    let o = summarize(&args);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        err.contains("1 unreadable line skipped (line 2: not JSON"),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "{files} items have no summary yet (batch batch-1 completed without an answer for this request)"
        )),
        "{err}"
    );
    assert_eq!(cached(&cache), unique - files as usize);
    // The next run submits exactly the torn ones, once, in one new file.
    api.batch.tear.store(false, Ordering::SeqCst);
    let o = summarize(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(api.batch.uploads.load(Ordering::SeqCst), files + 1);
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
fn a_status_answer_without_end_stops_the_run_and_the_batches_are_kept() {
    let BatchRun {
        dir: _dir,
        api,
        curate,
        out,
        args,
        files,
        ..
    } = BatchRun::submitting();
    api.batch.huge_status.store(true, Ordering::SeqCst);
    let o = summarize(&args);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        err.contains(&format!(
            "{}: polling a batch: the answer is larger than 16 MiB",
            api.base_url()
        )),
        "{err}"
    );
    assert!(!out.join("manifest.json").exists(), "no stage output");
    // The batches made before the bad answer are polled again, not paid for again.
    api.batch.huge_status.store(false, Ordering::SeqCst);
    let o = summarize(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        (
            api.batch.uploads.load(Ordering::SeqCst),
            api.batch.created.load(Ordering::SeqCst)
        ),
        (files, files)
    );
    check_summaries(&curate, &out);
}

#[test]
fn a_results_file_of_another_kind_stops_naming_it() {
    let BatchRun { dir, mut args, .. } = BatchRun::by_hand();
    let results = dir.path().join("not-results.jsonl");
    std::fs::write(&results, "{\"custom_id\": \"request-1\"}\nnot json\n").unwrap();
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
    let BatchRun {
        dir,
        api,
        curate,
        out,
        cache,
        args,
        ..
    } = BatchRun::by_hand();
    let o = summarize(&args);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "stopped for you: {err}");
    assert!(
        err.starts_with("summarize: ") && err.contains("\nstopped: 1 request file is ready in "),
        "{err}"
    );
    assert!(
        err.contains("list them in --results and run again"),
        "{err}"
    );
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
    let mut args = args;
    args.extend(["--results".into(), results_file.into()]);
    let o = summarize(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        ids.len(),
        texts(&curate).into_iter().collect::<HashSet<_>>().len()
    );
    assert_eq!(
        api.chat_requests.load(Ordering::SeqCst) + api.batch.uploads.load(Ordering::SeqCst),
        0
    );
    check_summaries(&curate, &out);
}
