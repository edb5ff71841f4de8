//! The Files and Batches endpoints of the fake OpenAI-compatible API
//! (`fake_openai.rs`), as the public API reference describes them: `POST /files`
//! (multipart, `purpose=batch`), `POST /batches`, `GET /batches/{id}` (a batch ends on
//! its second poll), `GET /batches` (newest first, `limit`, `after`, `has_more`), and
//! `GET /files/{id}/content` (output and error files matched by `custom_id`).
//!
//! Faults, each switched on by a test: batches held in progress, ending `expired` (with
//! or without the requests done in time, the rest in the error file as
//! `batch_expired`), `failed` (validation `errors`, no files) or `cancelled` (the
//! requests done before it); one request in N sent to the error file on its first
//! batch; a torn output line; a status answer without end; a create call answered after
//! the client gave up; other batches listed before ours. It counts what it answered,
//! per request and in tokens, so tests can prove nothing was answered twice and that
//! the client's cost lines are right.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use serde_json::{json, Value};

use crate::fake_openai::{completion, user_of};
use crate::http::{Request, Response};

/// The switches and counters of the fake Batches API.
#[derive(Debug, Default)]
pub struct BatchControl {
    /// Files uploaded.
    pub uploads: AtomicU64,
    /// Batches created.
    pub created: AtomicU64,
    /// Request lines of the batches created.
    pub lines_batched: AtomicU64,
    /// `GET /batches` calls (pages read).
    pub list_calls: AtomicU64,
    /// While set, batches stay in progress.
    pub hold: AtomicBool,
    /// While set, a completed batch's output file has its second line cut in half (as an
    /// interrupted copy leaves it).
    pub tear: AtomicBool,
    /// While set, a batch's status answer is 17 MiB of JSON (a proxy's page without end).
    pub huge_status: AtomicBool,
    /// The next this-many batches to finish end `expired`.
    pub expire_next: AtomicU64,
    /// Expired batches keep the first half of their requests (done in time) in an output
    /// file and list the rest in the error file as `batch_expired`; unset, they end with
    /// neither file.
    pub expire_partial: AtomicBool,
    /// The next this-many batches to finish end `failed`, with validation `errors`.
    pub fail_next: AtomicU64,
    /// The next this-many batches to finish end `cancelled`, the first half done.
    pub cancel_next: AtomicU64,
    /// N > 0: a request whose text hashes to 0 modulo N goes to the error file (HTTP 500
    /// in the batch) the first time a batch holds it.
    pub error_every: AtomicU64,
    /// While set, `POST /batches` makes the batch but answers after 3 s (past the tests'
    /// 1 s client timeout): the batch exists and the client does not know its id.
    pub slow_create: AtomicBool,
    /// Batches of other work, listed before ours (newer), to make the listing long.
    pub others: AtomicU64,
    /// Tokens of the answers put in output files.
    pub prompt_tokens: AtomicU64,
    pub completion_tokens: AtomicU64,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    files: HashMap<String, Vec<u8>>,
    batches: Vec<Value>,
    polls: HashMap<String, u32>,
    /// Batches that held each request (by text).
    tries: HashMap<String, u32>,
    /// Answers given for each request (`custom_id`).
    answers: HashMap<String, u32>,
}

/// How a batch ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    Completed,
    Expired,
    Failed,
    Cancelled,
}

fn take_one(n: &AtomicU64) -> bool {
    n.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |v| v.checked_sub(1))
        .is_ok()
}

impl BatchControl {
    /// Answers given, over all requests.
    pub fn answers(&self) -> u64 {
        let s = self.state.lock().unwrap();
        s.answers.values().map(|&n| u64::from(n)).sum()
    }

    /// The most answers any one request got (1 when nothing was answered twice).
    pub fn most_answers_of_one_request(&self) -> u32 {
        let s = self.state.lock().unwrap();
        s.answers.values().copied().max().unwrap_or(0)
    }

    /// The status of every batch made, in order.
    pub fn statuses(&self) -> Vec<String> {
        let s = self.state.lock().unwrap();
        s.batches
            .iter()
            .map(|b| b["status"].as_str().unwrap_or("").to_owned())
            .collect()
    }

    fn end(&self) -> End {
        if take_one(&self.expire_next) {
            End::Expired
        } else if take_one(&self.fail_next) {
            End::Failed
        } else if take_one(&self.cancel_next) {
            End::Cancelled
        } else {
            End::Completed
        }
    }

    /// The files' requests for `/v1/{files,batches}...`, or None for other paths.
    pub fn handle(&self, req: &Request) -> Option<Response> {
        let path = req.path.split('?').next().unwrap_or("");
        Some(match (req.method.as_str(), path) {
            ("POST", "/v1/files") => self.upload(req),
            ("POST", "/v1/batches") => self.create(req),
            ("GET", "/v1/batches") => self.list(req),
            ("GET", p) if p.starts_with("/v1/batches/") => {
                self.poll(p.trim_start_matches("/v1/batches/"))
            }
            ("GET", p) if p.starts_with("/v1/files/") && p.ends_with("/content") => {
                let id = p
                    .trim_start_matches("/v1/files/")
                    .trim_end_matches("/content");
                match self.state.lock().unwrap().files.get(id) {
                    Some(bytes) => Response::new(200, bytes.clone()),
                    None => Response::new(404, "no such file"),
                }
            }
            _ => return None,
        })
    }

    fn upload(&self, req: &Request) -> Response {
        self.uploads.fetch_add(1, Ordering::SeqCst);
        let Some(content) = multipart_file(req) else {
            return Response::new(400, "no file part");
        };
        let mut s = self.state.lock().unwrap();
        let id = format!("file-{}", s.files.len() + 1);
        s.files.insert(id.clone(), content);
        Response::json(
            200,
            &json!({"id": id, "object": "file", "purpose": "batch"}),
        )
    }

    fn create(&self, req: &Request) -> Response {
        self.created.fetch_add(1, Ordering::SeqCst);
        let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
        let mut s = self.state.lock().unwrap();
        let lines = s
            .files
            .get(body["input_file_id"].as_str().unwrap_or_default())
            .map_or(0, |f| {
                f.split(|&b| b == b'\n').filter(|l| !l.is_empty()).count()
            });
        self.lines_batched.fetch_add(lines as u64, Ordering::SeqCst);
        let id = format!("batch-{}", s.batches.len() + 1);
        let batch = json!({"id": id, "object": "batch", "input_file_id": body["input_file_id"],
            "completion_window": body["completion_window"], "status": "in_progress"});
        s.batches.push(batch.clone());
        let mut r = Response::json(200, &batch);
        if self.slow_create.load(Ordering::SeqCst) {
            r.delay = Some(Duration::from_secs(3));
        }
        r
    }

    /// Newest first: the other work's batches, then ours from the last made.
    fn list(&self, req: &Request) -> Response {
        self.list_calls.fetch_add(1, Ordering::SeqCst);
        let query = req.path.split_once('?').map_or("", |(_, q)| q);
        let param = |k: &str| {
            query
                .split('&')
                .find_map(|kv| kv.strip_prefix(k)?.strip_prefix('='))
        };
        let limit = param("limit")
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or(20)
            .clamp(1, 100);
        let s = self.state.lock().unwrap();
        let others = (0..self.others.load(Ordering::SeqCst)).rev().map(|k| {
            json!({"id": format!("batch-other-{k}"), "object": "batch",
                   "input_file_id": format!("file-other-{k}"), "status": "completed"})
        });
        let all: Vec<Value> = others.chain(s.batches.iter().rev().cloned()).collect();
        let start = match param("after") {
            Some(after) => match all.iter().position(|b| b["id"] == after) {
                Some(p) => p + 1,
                None => return Response::new(400, "no such batch to list after"),
            },
            None => 0,
        };
        let page: Vec<Value> = all.iter().skip(start).take(limit).cloned().collect();
        Response::json(
            200,
            &json!({"object": "list", "data": page, "first_id": page.first().map(|b| b["id"].clone()),
                    "last_id": page.last().map(|b| b["id"].clone()), "has_more": start + page.len() < all.len()}),
        )
    }

    fn poll(&self, id: &str) -> Response {
        if self.huge_status.load(Ordering::SeqCst) {
            let pad = " ".repeat(17 << 20);
            return Response::new(200, format!("{{\"id\": \"{id}\",{pad}}}"))
                .header("Content-Type", "application/json");
        }
        let mut s = self.state.lock().unwrap();
        let polls = {
            let n = s.polls.entry(id.to_owned()).or_default();
            *n += 1;
            *n
        };
        let Some(pos) = s.batches.iter().position(|b| b["id"] == id) else {
            return Response::new(404, "no such batch");
        };
        // A batch ends on its second poll.
        if polls >= 2
            && s.batches[pos]["status"] == "in_progress"
            && !self.hold.load(Ordering::SeqCst)
        {
            let end = self.end();
            self.finish(&mut s, pos, end);
        }
        Response::json(200, &s.batches[pos])
    }

    /// Ends batch `pos` the way `end` says, with its output and error files.
    fn finish(&self, s: &mut State, pos: usize, end: End) {
        let id = s.batches[pos]["id"].as_str().unwrap_or_default().to_owned();
        let input = s.batches[pos]["input_file_id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let requests =
            String::from_utf8(s.files.get(&input).cloned().unwrap_or_default()).unwrap_or_default();
        let lines: Vec<Value> = requests
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or(Value::Null))
            .collect();
        let done = match end {
            End::Completed => lines.len(),
            End::Failed => 0,
            End::Expired if !self.expire_partial.load(Ordering::SeqCst) => 0,
            End::Expired | End::Cancelled => lines.len() / 2,
        };
        let (mut out, mut errors) = (String::new(), String::new());
        for (n, r) in lines.iter().enumerate() {
            let (line, answered) = match self.line(s, n, r, n < done) {
                Some(Ok(answer)) => (answer, true),
                Some(Err(error)) => (error, false),
                // An expired batch lists what it left undone; a cancelled one does not.
                None if end == End::Expired && done > 0 => (expired_line(n, r), false),
                None => continue,
            };
            let file = if answered { &mut out } else { &mut errors };
            file.push_str(&line);
            file.push('\n');
        }
        let failed = errors.lines().count();
        let b = &mut s.batches[pos];
        b["status"] = json!(match end {
            End::Completed => "completed",
            End::Expired => "expired",
            End::Failed => "failed",
            End::Cancelled => "cancelled",
        });
        b["request_counts"] =
            json!({"total": lines.len(), "completed": out.lines().count(), "failed": failed});
        if end == End::Failed {
            b["errors"] = json!({"object": "list", "data": [{"code": "invalid_request",
                "message": "The batch input file is not valid (fake validation failure).", "param": null, "line": null}]});
        }
        for (kind, field, text) in [
            ("out", "output_file_id", out),
            ("err", "error_file_id", errors),
        ] {
            if !text.is_empty() {
                let file = format!("file-{kind}-{id}");
                s.files.insert(file.clone(), text.into_bytes());
                s.batches[pos][field] = json!(file);
            }
        }
    }

    /// Request line `n`'s result: None when the batch did not get to it (`done` false);
    /// else its answer line, or its error line (the first time some requests are tried).
    fn line(
        &self,
        s: &mut State,
        n: usize,
        r: &Value,
        done: bool,
    ) -> Option<Result<String, String>> {
        if !done {
            return None;
        }
        let user = user_of(&r["body"]);
        let tries = {
            let t = s.tries.entry(user.clone()).or_default();
            *t += 1;
            *t
        };
        let every = self.error_every.load(Ordering::SeqCst);
        if tries == 1
            && every > 0
            && u64::from(blake3::hash(user.as_bytes()).as_bytes()[1]) % every == 0
        {
            return Some(Err(json!({"id": format!("batch_req_{n}"), "custom_id": r["custom_id"],
                "response": {"status_code": 500, "request_id": "r", "body": {"error": {"message": "The server had an error processing the request."}}},
                "error": null}).to_string()));
        }
        let body = completion(&user);
        let usage = |k: &str| body["usage"][k].as_u64().unwrap_or(0);
        self.prompt_tokens
            .fetch_add(usage("prompt_tokens"), Ordering::SeqCst);
        self.completion_tokens
            .fetch_add(usage("completion_tokens"), Ordering::SeqCst);
        *s.answers
            .entry(r["custom_id"].as_str().unwrap_or("").to_owned())
            .or_default() += 1;
        let mut answer = json!({"id": format!("batch_req_{n}"), "custom_id": r["custom_id"],
            "response": {"status_code": 200, "request_id": "r", "body": body}, "error": null})
        .to_string();
        if n == 1 && self.tear.load(Ordering::SeqCst) {
            answer.truncate(answer.len() / 2);
        }
        Some(Ok(answer))
    }
}

/// The error line of a request an expired batch did not get to.
fn expired_line(n: usize, r: &Value) -> String {
    json!({"id": format!("batch_req_{n}"), "custom_id": r["custom_id"], "response": null,
        "error": {"code": "batch_expired", "message": "This request could not be executed before the completion window expired."}})
    .to_string()
}

/// The content of the `file` part of a multipart upload.
fn multipart_file(req: &Request) -> Option<Vec<u8>> {
    let ct = req.header("content-type")?;
    let boundary = ct.split("boundary=").nth(1)?.trim();
    let body = &req.body;
    let text = String::from_utf8_lossy(body);
    let start = text.find("name=\"file\"")?;
    let data = start + text[start..].find("\r\n\r\n")? + 4;
    let end = data + text[data..].find(&format!("\r\n--{boundary}"))?;
    Some(body[data..end].to_vec())
}
