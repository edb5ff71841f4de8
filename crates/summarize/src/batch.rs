//! Batch mode: OpenAI/Groq Batch API request files (`custom_id`, method, url, body; at
//! most `batch_size` lines each), uploaded and polled, or left for the user to upload;
//! then the result and error files, matched to requests by `custom_id` (the request's
//! cache key) and stored in the cache.
//!
//! Never paying twice, never stranding a request: request files are named by their
//! content and kept with a state file in `<cache>/batches/`, written after every API
//! call: the file id, `creating` while a create call is out, the batch id, and how the
//! batch ended. A restarted run polls the batches it finds pending and leaves their
//! requests out of new files; a batch whose create call may have gone through unanswered
//! is looked for in the whole listing before another is made. A batch that ended
//! (completed, expired, failed or cancelled) is read into the cache, output and error
//! files alike, and is never pending again: what it left undone goes into new request
//! files, and a request file whose content equals an ended one's is uploaded afresh.

use std::collections::HashSet;
use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use pricer_core::atomic::write_atomic;
use pricer_core::jsonl::{read_line_capped, LineRead, MAX_LINE_BYTES};
use pricer_core::obs::{plural, thousands};
use serde_json::{json, Value};

use crate::batch_api::Api;
use crate::config::SummarizeConfig;
use crate::request::{parse_completion, Answer, Failure, Key, Spent};
use pricer_llm::Cache;
use pricer_llm::Job;

const TERMINAL: [&str; 4] = ["completed", "failed", "expired", "cancelled"];

/// Where request files and their states live.
pub fn batches_dir(cache: &Cache) -> PathBuf {
    cache.dir().join("batches")
}

fn state_path(requests: &Path) -> PathBuf {
    requests.with_extension("state.json")
}

fn read_state(requests: &Path) -> Value {
    fs::read(state_path(requests))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_else(|| json!({}))
}

fn write_state(requests: &Path, state: &Value) -> Result<()> {
    Ok(write_atomic(
        &state_path(requests),
        format!("{state}\n").as_bytes(),
    )?)
}

/// Whether the state's batch has ended (its results are in the cache).
fn ended(state: &Value) -> bool {
    state["status"]
        .as_str()
        .is_some_and(|s| TERMINAL.contains(&s))
}

/// Whether a batch may exist for the state's file: made, or its create call sent.
fn submitted(state: &Value) -> bool {
    state["batch_id"].is_string() || state["creating"] == true
}

/// Whether `p` is a request file (`requests-<hex>.jsonl`).
fn is_request_file(p: &Path) -> bool {
    let name = p.file_name().unwrap_or_default().to_string_lossy();
    name.strip_prefix("requests-")
        .and_then(|n| n.strip_suffix(".jsonl"))
        .is_some_and(|hex| hex.chars().all(|c| c.is_ascii_hexdigit()))
}

/// The request keys of a request file, in order.
fn request_keys(f: &Path) -> Result<Vec<Key>> {
    let file = fs::File::open(f).with_context(|| format!("{}: cannot read", f.display()))?;
    let mut keys = Vec::new();
    for line in BufReader::new(file).lines() {
        let line = line.with_context(|| format!("{}: cannot read", f.display()))?;
        let v: Value = serde_json::from_str(&line).unwrap_or(Value::Null);
        keys.extend(v["custom_id"].as_str().and_then(Key::from_hex));
    }
    Ok(keys)
}

/// Request files of earlier runs submitted as batches that have not ended: (file, its
/// keys). Their answers are paid for, so they are waited for, never asked again. A file
/// never submitted is not pending: its requests are written again if still needed.
pub fn pending(cache: &Cache) -> Result<Vec<(PathBuf, HashSet<Key>)>> {
    let Ok(entries) = fs::read_dir(batches_dir(cache)) else {
        return Ok(Vec::new());
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| is_request_file(p))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let state = read_state(&f);
        if submitted(&state) && !ended(&state) {
            let keys = request_keys(&f)?.into_iter().collect();
            out.push((f, keys));
        }
    }
    Ok(out)
}

/// Writes the jobs as request files of at most `batch_size` lines; returns them. A file
/// whose content equals that of a batch that ended (every request of it still
/// unanswered) starts again: its state keeps the ended batch under `earlier`, and the
/// file is uploaded and batched anew.
pub fn write_requests(
    cfg: &SummarizeConfig,
    jobs: impl Iterator<Item = Result<Job>>,
    cache: &Cache,
) -> Result<Vec<PathBuf>> {
    let dir = batches_dir(cache);
    let mut files = Vec::new();
    let mut chunk = String::new();
    let mut lines = 0;
    let flush = |chunk: &mut String, files: &mut Vec<PathBuf>| -> Result<()> {
        let digest = blake3::hash(chunk.as_bytes()).to_hex();
        let path = dir.join(format!("requests-{}.jsonl", &digest[..16]));
        if !path.is_file() {
            write_atomic(&path, chunk.as_bytes())?;
        }
        let state = read_state(&path);
        if ended(&state) {
            let mut earlier = state["earlier"].as_array().cloned().unwrap_or_default();
            earlier.push(json!({"file_id": state["file_id"], "batch_id": state["batch_id"], "status": state["status"]}));
            write_state(&path, &json!({ "earlier": earlier }))?;
        }
        files.push(path);
        chunk.clear();
        Ok(())
    };
    for job in jobs {
        let job = job?;
        let line = json!({"custom_id": job.key.hex(), "method": "POST", "url": "/v1/chat/completions", "body": job.body});
        chunk.push_str(&line.to_string());
        chunk.push('\n');
        lines += 1;
        if lines == cfg.batch_size.max(1) {
            flush(&mut chunk, &mut files)?;
            lines = 0;
        }
    }
    if !chunk.is_empty() {
        flush(&mut chunk, &mut files)?;
    }
    Ok(files)
}

/// What a result or error file gave: the failures in it, and the answers new to the
/// cache (counted with their usage).
#[derive(Debug, Default)]
pub struct Read {
    pub failures: Vec<(Key, Failure)>,
    pub spent: Spent,
}

/// Reads a Batch API result or error file into the cache.
///
/// A line that cannot be read (torn by an interrupted copy, not JSON, too long) is
/// skipped with a warning: its request stays unanswered, so it is listed and asked again
/// on the next run. Stopping at it instead would leave a submitted batch unfinishable,
/// since every rerun downloads the same file. A file whose lines name only requests of
/// another cache, and none of this one's, is the wrong file: it stops the run.
pub fn ingest_results(path: &Path, cache: &mut Cache) -> Result<Read> {
    let f = fs::File::open(path)
        .with_context(|| format!("{}: cannot read the batch results", path.display()))?;
    let mut read = Read::default();
    let (mut used, mut foreign, mut skipped) = (0u64, 0u64, 0u64);
    let mut first_skipped: Option<(u64, String)> = None;
    let (mut input, mut line) = (BufReader::new(f), Vec::new());
    for n in 1.. {
        let got = read_line_capped(&mut input, &mut line, MAX_LINE_BYTES)
            .with_context(|| format!("{}: line {n}: cannot read", path.display()))?;
        let parsed = match got {
            LineRead::End => break,
            LineRead::TooLong(bytes) => Err(Unreadable::Torn(format!(
                "{bytes} bytes, over {MAX_LINE_BYTES}"
            ))),
            LineRead::Line if line.trim_ascii().is_empty() => continue,
            LineRead::Line => result_line(&line),
        };
        let (key, outcome) = match parsed {
            Ok(r) => r,
            Err(why) => {
                foreign += u64::from(matches!(why, Unreadable::Foreign));
                skipped += 1;
                first_skipped.get_or_insert_with(|| (n, why.to_string()));
                continue;
            }
        };
        used += 1;
        match outcome {
            Ok(a) if !cache.contains(&key) => {
                cache.put(key, &a)?;
                read.spent.answer(&a);
            }
            Ok(_) => {}
            Err(f) => read.failures.push((key, f)),
        }
    }
    if let Some((line, why)) = first_skipped {
        if used == 0 && foreign > 0 {
            bail!(
                "{}: not a batch results file of this cache (line {line}: {why})",
                path.display()
            );
        }
        eprintln!(
            "summarize: warning: {}: {} skipped (line {line}: {why}); \
             their requests stay unanswered and are asked again on the next run",
            path.display(),
            plural(skipped, "unreadable line", "unreadable lines"),
        );
    }
    Ok(read)
}

/// Why a result line gives no answer.
enum Unreadable {
    /// Not a whole JSON line: torn, or not JSON at all.
    Torn(String),
    /// JSON, but its `custom_id` is not a request key of this cache.
    Foreign,
}

impl std::fmt::Display for Unreadable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unreadable::Torn(why) => f.write_str(why),
            Unreadable::Foreign => f.write_str("no custom_id of this cache's form"),
        }
    }
}

/// What a batch said about one request.
type Outcome = std::result::Result<Answer, Failure>;

/// One line of a result or error file: the request's key and its answer or failure.
fn result_line(line: &[u8]) -> std::result::Result<(Key, Outcome), Unreadable> {
    let v: Value =
        serde_json::from_slice(line).map_err(|e| Unreadable::Torn(format!("not JSON: {e}")))?;
    let key = v["custom_id"]
        .as_str()
        .and_then(Key::from_hex)
        .ok_or(Unreadable::Foreign)?;
    let outcome = match v["response"]["status_code"].as_u64() {
        Some(200) => parse_completion(&v["response"]["body"]),
        Some(code) => Err(Failure::new(format!(
            "HTTP {code} in the batch: {}",
            v["response"]["body"]["error"]["message"]
                .as_str()
                .unwrap_or("")
        ))),
        None => Err(Failure::new(format!(
            "batch error: {}",
            v["error"]["message"].as_str().unwrap_or("no response")
        ))),
    };
    Ok((key, outcome))
}

/// What the batches of one submission gave back.
#[derive(Debug, Default)]
pub struct Ended {
    /// Requests without an answer, with reasons.
    pub failures: Vec<(Key, Failure)>,
    /// Requests sent (lines of the batches made) and answers read back.
    pub spent: Spent,
    /// Requests that expired batches left undone: worth sending again at once.
    pub expired: u64,
    /// Batches that failed or were cancelled, and why.
    pub stopped: Vec<String>,
}

/// Submits `files` (upload, create batch) unless their state says it was done, then polls
/// every one until it ends and reads its results into the cache.
pub fn submit_and_wait(
    cfg: &SummarizeConfig,
    files: &[PathBuf],
    cache: &mut Cache,
) -> Result<Ended> {
    let api = Api::new(cfg);
    let mut ended = Ended::default();
    for f in files {
        ended.spent.requests += submit(&api, f)?;
    }
    let mut open: Vec<(&PathBuf, String)> = files.iter().map(|f| (f, String::new())).collect();
    while !open.is_empty() {
        let mut still = Vec::new();
        for (f, last) in open {
            let id = read_state(f)["batch_id"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let b = api.get_batch(&id)?;
            let status = b["status"].as_str().unwrap_or("unknown").to_owned();
            if TERMINAL.contains(&status.as_str()) {
                finish(&api, f, &b, cache, &mut ended)?;
                continue;
            }
            if status != last {
                let c = &b["request_counts"];
                let done = match (c["completed"].as_u64(), c["total"].as_u64()) {
                    (Some(done), Some(total)) if total > 0 => {
                        format!(" ({} of {total} requests done)", thousands(done))
                    }
                    _ => String::new(),
                };
                eprintln!("summarize: batch {id} {status}{done}");
            }
            still.push((f, status));
        }
        open = still;
        if !open.is_empty() {
            wait(Duration::from_secs(cfg.poll_s))?;
        }
    }
    Ok(ended)
}

/// Sleeps between polls, stopping early when the run is interrupted (the batches are
/// polled again on the next run).
fn wait(d: Duration) -> Result<()> {
    let until = std::time::Instant::now() + d;
    while std::time::Instant::now() < until {
        pricer_core::cancel::check()?;
        std::thread::sleep(Duration::from_millis(100).min(d));
    }
    Ok(())
}

/// Uploads `f` and makes its batch, as far as its state says is still to do; returns
/// the requests this call sent (the file's lines when it made the batch, else 0).
fn submit(api: &Api, f: &Path) -> Result<u64> {
    let mut state = read_state(f);
    if state["file_id"].as_str().is_none() {
        state["file_id"] = json!(api.upload(f)?);
        write_state(f, &state)?;
    }
    if state["batch_id"].is_string() {
        return Ok(0);
    }
    let file_id = state["file_id"].as_str().unwrap_or_default().to_owned();
    // A create call that went out before the run stopped may have made the batch.
    let made_before = if state["creating"] == true {
        api.find_batch(&file_id)?
    } else {
        None
    };
    let (id, sent) = match made_before {
        Some(id) => (id, 0),
        None => {
            state["creating"] = json!(true);
            write_state(f, &state)?;
            let id = api.create_batch(&file_id)?;
            (id, request_keys(f)?.len() as u64)
        }
    };
    if let Value::Object(m) = &mut state {
        m.remove("creating");
    }
    state["batch_id"] = json!(id);
    write_state(f, &state)?;
    eprintln!("summarize: submitted {} as batch {id}", f.display());
    Ok(sent)
}

/// Reads an ended batch's output and error files into the cache and gives every request
/// it left without an answer a reason; records the end in the state file.
fn finish(api: &Api, f: &Path, b: &Value, cache: &mut Cache, ended: &mut Ended) -> Result<()> {
    let id = b["id"].as_str().unwrap_or_default();
    let status = b["status"].as_str().unwrap_or_default();
    let mut failures = Vec::new();
    let mut spent = Spent::default();
    for (field, kind) in [("output_file_id", "output"), ("error_file_id", "errors")] {
        if let Some(file_id) = b[field].as_str() {
            let name = f
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .replacen("requests-", &format!("{kind}-"), 1);
            let to = f.with_file_name(name);
            api.download(file_id, &to)?;
            let read = ingest_results(&to, cache)?;
            failures.extend(read.failures);
            spent += read.spent;
        }
    }
    let why = match status {
        "expired" => format!("batch {id} expired before this request was done"),
        "cancelled" => format!("batch {id} was cancelled before this request was done"),
        "failed" => format!("batch {id} failed: {}", batch_errors(b)),
        _ => format!("batch {id} {status} without an answer for this request"),
    };
    let said: HashSet<Key> = failures.iter().map(|(k, _)| *k).collect();
    for k in request_keys(f)? {
        if !cache.contains(&k) && !said.contains(&k) {
            failures.push((k, Failure::new(why.clone())));
        }
    }
    let unanswered = failures.iter().filter(|(k, _)| !cache.contains(k)).count() as u64;
    match status {
        "expired" => ended.expired += unanswered,
        "failed" | "cancelled" => ended.stopped.push(why.clone()),
        _ => {}
    }
    let mut state = read_state(f);
    state["status"] = json!(status);
    state["ended"] = json!({"answers": spent.answers, "unanswered": unanswered});
    write_state(f, &state)?;
    eprintln!(
        "summarize: batch {id} {status}: {} read back, {} without one",
        plural(spent.answers, "answer", "answers"),
        thousands(unanswered)
    );
    ended.failures.extend(failures);
    ended.spent += spent;
    Ok(())
}

/// A failed batch's `errors` (validation errors of its input file), as one line.
fn batch_errors(b: &Value) -> String {
    let list: Vec<String> = b["errors"]["data"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            let line = e["line"]
                .as_u64()
                .map(|l| format!(" (line {l})"))
                .unwrap_or_default();
            format!(
                "{}{line}: {}",
                e["code"].as_str().unwrap_or("error"),
                e["message"].as_str().unwrap_or("")
            )
        })
        .collect();
    if list.is_empty() {
        "no reason given".into()
    } else {
        list.join("; ")
    }
}
