//! Batch mode: OpenAI/Groq Batch API request files (`custom_id`, method, url, body; at
//! most `batch_size` lines each), uploaded and polled, or left for the user to upload;
//! then the result and error files, matched to requests by `custom_id` (the request's
//! cache key) and stored in the cache.
//!
//! Never paying twice: request files are named by their content and kept with a state
//! file (file id, batch id, status) in `<cache>/batches/`, written after every API call.
//! A restarted run polls the batches it finds pending instead of submitting again, leaves
//! their requests out of new files, and before creating a batch it asks the API whether
//! one already exists for the uploaded file.

use std::collections::HashSet;
use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use pricer_core::atomic::write_atomic;
use pricer_core::jsonl::{read_line_capped, LineRead, MAX_LINE_BYTES};
use serde_json::{json, Value};

use crate::cache::Cache;
use crate::config::SummarizeConfig;
use crate::online::Job;
use crate::request::{body, parse_completion, Answer, Failure, Key};

/// The largest Files/Batches API answer read (result files are streamed to disk instead).
const MAX_ANSWER_BYTES: u64 = 16 << 20;

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

/// Whether `p` is a request file (`requests-<hex>.jsonl`).
fn is_request_file(p: &Path) -> bool {
    let name = p.file_name().unwrap_or_default().to_string_lossy();
    name.strip_prefix("requests-")
        .and_then(|n| n.strip_suffix(".jsonl"))
        .is_some_and(|hex| hex.chars().all(|c| c.is_ascii_hexdigit()))
}

/// Request files of earlier runs submitted as batches that have not ended: (file, its
/// keys). Their answers are paid for, so they are waited for, never asked again. A file
/// never submitted is not pending: its requests are written again if still needed.
pub fn pending(cache: &Cache) -> Result<Vec<(PathBuf, HashSet<Key>)>> {
    let dir = batches_dir(cache);
    let Ok(entries) = fs::read_dir(&dir) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| is_request_file(p))
        .collect();
    files.sort();
    for f in files {
        let state = read_state(&f);
        let ended = state["status"]
            .as_str()
            .is_some_and(|s| TERMINAL.contains(&s));
        if ended || state["batch_id"].as_str().is_none() {
            continue;
        }
        let mut keys = HashSet::new();
        let file = fs::File::open(&f).with_context(|| format!("{}: cannot read", f.display()))?;
        for line in BufReader::new(file).lines() {
            let line = line.with_context(|| format!("{}: cannot read", f.display()))?;
            let v: Value = serde_json::from_str(&line).unwrap_or(Value::Null);
            if let Some(k) = v["custom_id"].as_str().and_then(Key::from_hex) {
                keys.insert(k);
            }
        }
        out.push((f, keys));
    }
    Ok(out)
}

/// Writes the jobs as request files of at most `batch_size` lines; returns them.
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
        files.push(path);
        chunk.clear();
        Ok(())
    };
    for job in jobs {
        let job = job?;
        let line = json!({"custom_id": job.key.hex(), "method": "POST", "url": "/v1/chat/completions", "body": body(cfg, &job.user)});
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

/// Reads a Batch API result or error file into the cache; returns the failures in it.
///
/// A line that cannot be read (torn by an interrupted copy, not JSON, too long) is
/// skipped with a warning: its request stays unanswered, so it is listed and asked again
/// on the next run. Stopping at it instead would leave a submitted batch unfinishable,
/// since every rerun downloads the same file. A file whose lines name only requests of
/// another cache, and none of this one's, is the wrong file: it stops the run.
pub fn ingest_results(path: &Path, cache: &mut Cache) -> Result<Vec<(Key, Failure)>> {
    let f = fs::File::open(path)
        .with_context(|| format!("{}: cannot read the batch results", path.display()))?;
    let mut failures = Vec::new();
    let (mut used, mut foreign, mut skipped) = (0u64, 0u64, 0u64);
    let mut first_skipped: Option<(u64, String)> = None;
    let (mut input, mut line) = (BufReader::new(f), Vec::new());
    for n in 1.. {
        let read = read_line_capped(&mut input, &mut line, MAX_LINE_BYTES)
            .with_context(|| format!("{}: line {n}: cannot read", path.display()))?;
        let parsed = match read {
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
            Ok(a) => cache.put(key, &a)?,
            Err(f) => failures.push((key, f)),
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
            "summarize: warning: {}: {skipped} unreadable lines skipped (line {line}: {why}); \
             their requests stay unanswered and are asked again on the next run",
            path.display()
        );
    }
    Ok(failures)
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

/// The Batch API of an OpenAI-compatible endpoint.
struct Api {
    agent: ureq::Agent,
    base: String,
    auth: Option<String>,
}

impl Api {
    fn new(cfg: &SummarizeConfig) -> Api {
        Api {
            agent: ureq::AgentBuilder::new()
                .timeout(Duration::from_secs(cfg.timeout_s.max(1)))
                .build(),
            base: cfg.base_url.trim_end_matches('/').to_owned(),
            auth: cfg.api_key(),
        }
    }

    fn req(&self, method: &str, path: &str) -> ureq::Request {
        let r = self.agent.request(method, &format!("{}{path}", self.base));
        match &self.auth {
            Some(k) => r.set("Authorization", &format!("Bearer {k}")),
            None => r,
        }
    }

    fn json(
        &self,
        r: std::result::Result<ureq::Response, ureq::Error>,
        what: &str,
    ) -> Result<Value> {
        match r {
            Ok(resp) => {
                // The answers read here are small objects; a body without end (a proxy's
                // page, a broken server) must not take the memory of the machine.
                let mut body = Vec::new();
                resp.into_reader()
                    .take(MAX_ANSWER_BYTES + 1)
                    .read_to_end(&mut body)
                    .with_context(|| format!("{}: {what}: reading the answer", self.base))?;
                if body.len() as u64 > MAX_ANSWER_BYTES {
                    bail!(
                        "{}: {what}: the answer is larger than {} MiB",
                        self.base,
                        MAX_ANSWER_BYTES >> 20
                    );
                }
                serde_json::from_slice(&body)
                    .with_context(|| format!("{}: {what}: the answer is not JSON", self.base))
            }
            Err(ureq::Error::Status(code, resp)) => bail!(
                "{}: {what}: HTTP {code}: {}",
                self.base,
                crate::request::error_text(resp)
            ),
            Err(e) => bail!("{}: {what}: {e}", self.base),
        }
    }

    fn upload(&self, path: &Path) -> Result<String> {
        let boundary = format!(
            "pricer-{}",
            blake3::hash(path.as_os_str().as_encoded_bytes()).to_hex()
        );
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        let mut body = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/jsonl\r\n\r\n").into_bytes();
        body.extend(fs::read(path).with_context(|| format!("{}: cannot read", path.display()))?);
        body.extend(format!("\r\n--{boundary}--\r\n").into_bytes());
        let r = self
            .req("POST", "/files")
            .set(
                "Content-Type",
                &format!("multipart/form-data; boundary={boundary}"),
            )
            .send_bytes(&body);
        let v = self.json(r, "uploading a request file")?;
        v["id"]
            .as_str()
            .map(str::to_owned)
            .context("the upload answer has no file id")
    }

    /// A batch already made from `file_id` (a run killed after creating it).
    fn find_batch(&self, file_id: &str) -> Result<Option<String>> {
        let v = self.json(
            self.req("GET", "/batches?limit=100").call(),
            "listing batches",
        )?;
        Ok(v["data"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|b| b["input_file_id"] == file_id)
            .and_then(|b| b["id"].as_str().map(str::to_owned)))
    }

    fn create_batch(&self, file_id: &str) -> Result<String> {
        let r = self.req("POST", "/batches").send_json(json!({"input_file_id": file_id, "endpoint": "/v1/chat/completions", "completion_window": "24h"}));
        let v = self.json(r, "creating a batch")?;
        v["id"]
            .as_str()
            .map(str::to_owned)
            .context("the batch answer has no id")
    }

    fn get_batch(&self, id: &str) -> Result<Value> {
        self.json(
            self.req("GET", &format!("/batches/{id}")).call(),
            "polling a batch",
        )
    }

    fn download(&self, file_id: &str, to: &Path) -> Result<()> {
        match self.req("GET", &format!("/files/{file_id}/content")).call() {
            Ok(resp) => {
                // Streamed to disk: a result file of 50,000 answers is hundreds of MB.
                let mut out = pricer_core::atomic::AtomicFile::create(to)?;
                std::io::copy(&mut resp.into_reader(), &mut out).with_context(|| {
                    format!("{}: downloading {file_id} into {}", self.base, to.display())
                })?;
                Ok(out.commit()?)
            }
            Err(e) => bail!("{}: downloading {file_id}: {e}", self.base),
        }
    }
}

/// Submits `files` (upload, create batch) unless their state says it was done, then polls
/// every one until it ends and reads its results into the cache.
pub fn submit_and_wait(
    cfg: &SummarizeConfig,
    files: &[PathBuf],
    cache: &mut Cache,
) -> Result<Vec<(Key, Failure)>> {
    let api = Api::new(cfg);
    for f in files {
        let mut state = read_state(f);
        if state["file_id"].as_str().is_none() {
            state["file_id"] = json!(api.upload(f)?);
            write_state(f, &state)?;
        }
        if state["batch_id"].as_str().is_none() {
            let file_id = state["file_id"].as_str().unwrap_or_default().to_owned();
            let id = match api.find_batch(&file_id)? {
                Some(id) => id,
                None => api.create_batch(&file_id)?,
            };
            state["batch_id"] = json!(id);
            write_state(f, &state)?;
            eprintln!("summarize: submitted {} as batch {id}", f.display());
        }
    }
    let mut failures = Vec::new();
    let mut open: Vec<&PathBuf> = files.iter().collect();
    while !open.is_empty() {
        let mut still = Vec::new();
        for f in open {
            let mut state = read_state(f);
            let id = state["batch_id"].as_str().unwrap_or_default().to_owned();
            let b = api.get_batch(&id)?;
            let status = b["status"].as_str().unwrap_or("unknown").to_owned();
            if !TERMINAL.contains(&status.as_str()) {
                still.push(f);
                continue;
            }
            for (field, kind) in [("output_file_id", "output"), ("error_file_id", "errors")] {
                if let Some(file_id) = b[field].as_str() {
                    let name = f
                        .file_name()
                        .unwrap_or_default()
                        .to_string_lossy()
                        .replacen("requests-", &format!("{kind}-"), 1);
                    let to = f.with_file_name(name);
                    api.download(file_id, &to)?;
                    failures.extend(ingest_results(&to, cache)?);
                }
            }
            state["status"] = json!(status);
            write_state(f, &state)?;
            eprintln!("summarize: batch {id} {status}");
        }
        open = still;
        if !open.is_empty() {
            std::thread::sleep(Duration::from_secs(cfg.poll_s));
        }
    }
    Ok(failures)
}
