//! The eval stage's `endpoint` predictor against a local OpenAI-compatible server with
//! faults (429 with Retry-After, 5xx, malformed and empty bodies, answers past the
//! timeout on first attempts): chat (the course's frontier prompt) and completions (the
//! test prompt), 200 items each, every request answered once; a rerun sends nothing and
//! scores the same; a run killed halfway asks only what is missing; a run whose
//! estimate is above `max_cost_usd` sends nothing; an unreachable endpoint stops at once.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use pricer_e2e::fake_openai::{self, FakeOpenAi};
use pricer_e2e::{bin, root, run, run_ok};
use serde_json::Value;

fn predictors(dir: &Path, api: &FakeOpenAi, cache: &Path, extra: &str) -> PathBuf {
    let common = format!(
        "base_url = \"{}\"\nmodel = \"fake\"\napi_key_env = \"\"\nbackoff_ms = 10\ntimeout_s = 2\nmax_in_flight = 2\ncache = \"{}\"\ninput_price_per_million = 0.5\noutput_price_per_million = 2.0\n{extra}",
        api.base_url(),
        cache.display()
    );
    let text = format!(
        "[[predictors]]\nkind = \"endpoint\"\nname = \"chat\"\n{common}\n[[predictors]]\nkind = \"endpoint\"\nname = \"base\"\napi = \"completions\"\n{common}"
    );
    let path = dir.join(format!(
        "predictors-{}.toml",
        cache.file_name().unwrap().to_string_lossy()
    ));
    std::fs::write(&path, text).unwrap();
    path
}

fn metrics(eval: &Path) -> Vec<Value> {
    let m: Value =
        serde_json::from_slice(&std::fs::read(eval.join("metrics.json")).unwrap()).unwrap();
    m["predictors"].as_array().unwrap().clone()
}

fn fixtures_run(dir: &Path) -> PathBuf {
    let run = dir.join("run");
    run_ok("pricer", &[&"run", &"fixtures", &"--out", &run]);
    run
}

fn spawn_eval(run: &Path, out: &Path, file: &Path) -> Child {
    Command::new(bin("pricer-eval"))
        .current_dir(root())
        .arg(run)
        .arg("--out")
        .arg(out)
        .arg("--predictors-file")
        .arg(file)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

#[test]
fn every_item_is_asked_once_and_a_rerun_asks_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let run_dir = fixtures_run(tmp.path());
    let api = fake_openai::start();
    let file = predictors(tmp.path(), &api, &tmp.path().join("cache"), "");
    let first = tmp.path().join("eval");
    let o = run_ok(
        "pricer-eval",
        &[&run_dir, &"--out", &first, &"--predictors-file", &file],
    );
    let said = String::from_utf8_lossy(&o.stdout);
    assert!(said.contains("eval: 200 test items"), "{said}");
    // 200 chat and 200 completion requests, each answered once whatever the faults.
    assert_eq!(api.answered.load(Ordering::SeqCst), 400);
    assert!(
        api.chat_requests.load(Ordering::SeqCst) > 400,
        "no faults were injected"
    );
    let m = metrics(&first);
    for p in &m {
        assert_eq!(p["calls"], 200, "{p}");
        assert!(p["cost"].as_f64().unwrap() > 0.0, "{p}");
    }
    // Every answer is the server's for the text the item was asked with.
    let lines = std::fs::read_to_string(first.join("base/predictions.jsonl")).unwrap();
    let test_prompts = pricer_e2e::dump(&run_dir.join("split/test.art"));
    let prompts: Vec<Value> = String::from_utf8_lossy(&test_prompts)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for (line, item) in lines.lines().zip(&prompts) {
        let line: Value = serde_json::from_str(line).unwrap();
        let prompt = item["prompt"].as_str().unwrap();
        let test_prompt = format!("{}Price is $", prompt.split("Price is $").next().unwrap());
        assert_eq!(line["answer"], fake_openai::price_for(&test_prompt));
    }

    // A rerun into another folder asks nothing and scores the same.
    let again = tmp.path().join("eval-again");
    run_ok(
        "pricer-eval",
        &[&run_dir, &"--out", &again, &"--predictors-file", &file],
    );
    assert_eq!(api.answered.load(Ordering::SeqCst), 400);
    let m2 = metrics(&again);
    for (a, b) in m.iter().zip(&m2) {
        assert_eq!(a["metrics"], b["metrics"]);
        assert_eq!(b["calls"], 0);
    }
}

#[test]
fn a_killed_evaluation_asks_only_what_is_missing() {
    let tmp = tempfile::tempdir().unwrap();
    let run_dir = fixtures_run(tmp.path());
    let api = fake_openai::start();
    let file = predictors(tmp.path(), &api, &tmp.path().join("cache"), "");
    api.delay_ms.store(30, Ordering::SeqCst);
    let out = tmp.path().join("eval");
    let mut child = spawn_eval(&run_dir, &out, &file);
    let t = Instant::now();
    while api.answered.load(Ordering::SeqCst) < 100 && t.elapsed() < Duration::from_secs(120) {
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let before = api.answered.load(Ordering::SeqCst);
    assert!(
        (100..400).contains(&before),
        "killed halfway: {before} answered"
    );
    api.delay_ms.store(0, Ordering::SeqCst);
    run_ok(
        "pricer-eval",
        &[&run_dir, &"--out", &out, &"--predictors-file", &file],
    );
    let total = api.answered.load(Ordering::SeqCst);
    // At most the requests in flight at the kill (2) were answered but never received.
    assert!(
        (400..=402).contains(&total),
        "{total} answers for 400 requests"
    );
    // The same scores as a run never killed.
    let clean = tmp.path().join("eval-clean");
    let file2 = predictors(tmp.path(), &api, &tmp.path().join("cache2"), "");
    run_ok(
        "pricer-eval",
        &[&run_dir, &"--out", &clean, &"--predictors-file", &file2],
    );
    for (a, b) in metrics(&out).iter().zip(&metrics(&clean)) {
        assert_eq!(a["metrics"], b["metrics"]);
    }
    assert_eq!(
        std::fs::read(out.join("chat/predictions.jsonl")).unwrap(),
        std::fs::read(clean.join("chat/predictions.jsonl")).unwrap()
    );
}

#[test]
fn a_dear_or_unreachable_endpoint_sends_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let run_dir = fixtures_run(tmp.path());
    let api = fake_openai::start();
    let dear = predictors(
        tmp.path(),
        &api,
        &tmp.path().join("cache"),
        "max_cost_usd = 0.001\ninput_price_per_million = 1000.0\n",
    );
    // The extra key overrides the common one: TOML refuses a repeated key, so write it
    // without the common price.
    let text = std::fs::read_to_string(&dear)
        .unwrap()
        .replace("input_price_per_million = 0.5\n", "");
    std::fs::write(&dear, text).unwrap();
    let out = tmp.path().join("eval");
    let o = run(
        "pricer-eval",
        &[&run_dir, &"--out", &out, &"--predictors-file", &dear],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains("estimated at $") && err.contains("max_cost_usd"),
        "{err}"
    );
    assert_eq!(api.chat_requests.load(Ordering::SeqCst), 0);
    assert!(!out.join("metrics.json").exists());

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let nowhere = tmp.path().join("nowhere.toml");
    std::fs::write(
        &nowhere,
        format!("[[predictors]]\nkind = \"endpoint\"\nbase_url = \"http://127.0.0.1:{port}/v1\"\nmodel = \"m\"\napi_key_env = \"\"\ncache = \"{}\"\n", tmp.path().join("c3").display()),
    )
    .unwrap();
    let t = Instant::now();
    let o = run(
        "pricer-eval",
        &[&run_dir, &"--out", &out, &"--predictors-file", &nowhere],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains("cannot reach the endpoint"),
        "{err}"
    );
    assert!(
        t.elapsed() < Duration::from_secs(30),
        "took {:?}",
        t.elapsed()
    );
}
