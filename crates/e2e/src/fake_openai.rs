//! An OpenAI-compatible API for tests, on 127.0.0.1: chat completions whose answer is
//! derived from the request (so every run gets the same summaries), with faults injected
//! on the first attempt of some requests (429 with Retry-After, 500, a malformed body, an
//! empty answer, a delay past the client's timeout), and the Files and Batches endpoints.
//! It counts what it was asked, so tests can prove nothing was requested twice.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};

use crate::http::{serve, Request, Response, Server};

/// The fault injected on a request's first attempt, chosen by its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    None,
    RateLimited,
    ServerError,
    Malformed,
    Empty,
    Slow,
}

pub fn fault_of(user: &str) -> Fault {
    match blake3::hash(user.as_bytes()).as_bytes()[0] % 12 {
        0 => Fault::RateLimited,
        1 => Fault::ServerError,
        2 => Fault::Malformed,
        3 => Fault::Empty,
        4 => Fault::Slow,
        _ => Fault::None,
    }
}

/// The summary the fake model gives for a text (the course's five-line form).
pub fn answer_for(user: &str) -> String {
    let title: String = user.lines().next().unwrap_or("").chars().take(60).collect();
    let h = blake3::hash(user.as_bytes()).to_hex();
    format!("Title: {title}  \nCategory: Test\u{202f}Goods  \nBrand: Fake  \nDescription: A product ({}).  \nDetails: {} characters", &h[..8], user.chars().count())
}

#[derive(Debug, Default)]
struct State {
    attempts: HashMap<String, u32>,
    files: HashMap<String, Vec<u8>>,
    batches: Vec<Value>,
    polls: HashMap<String, u32>,
}

/// The running fake API and its counters.
pub struct FakeOpenAi {
    pub server: Server,
    /// Chat-completion requests received (every attempt).
    pub chat_requests: Arc<AtomicU64>,
    /// Chat-completion requests answered with a summary.
    pub answered: Arc<AtomicU64>,
    pub uploads: Arc<AtomicU64>,
    pub batches_created: Arc<AtomicU64>,
    /// While set, texts whose fault is `ServerError` fail on every attempt.
    pub hard_failures: Arc<AtomicBool>,
    /// Delay added to every chat answer (to stretch a run for a kill).
    pub delay_ms: Arc<AtomicU64>,
    /// While set, batches stay in progress.
    pub hold_batches: Arc<AtomicBool>,
    /// While set, a completed batch's output file has its second line cut in half (as an
    /// interrupted copy leaves it).
    pub tear_results: Arc<AtomicBool>,
    /// While set, a batch's status answer is 17 MiB of JSON (a proxy's page without end).
    pub huge_status: Arc<AtomicBool>,
}

impl FakeOpenAi {
    /// The API root to give as `base_url`.
    pub fn base_url(&self) -> String {
        format!("{}/v1", self.server.url())
    }
}

fn completion(user: &str) -> Value {
    json!({
        "id": "chatcmpl-fake", "object": "chat.completion", "model": "fake",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": answer_for(user)}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": user.len() / 4 + 60, "completion_tokens": 40},
    })
}

fn user_of(body: &Value) -> String {
    body["messages"][1]["content"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
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

pub fn start() -> FakeOpenAi {
    let state = Arc::new(Mutex::new(State::default()));
    let chat_requests = Arc::new(AtomicU64::new(0));
    let answered = Arc::new(AtomicU64::new(0));
    let uploads = Arc::new(AtomicU64::new(0));
    let batches_created = Arc::new(AtomicU64::new(0));
    let hard_failures = Arc::new(AtomicBool::new(false));
    let delay_ms = Arc::new(AtomicU64::new(0));
    let hold_batches = Arc::new(AtomicBool::new(false));
    let tear_results = Arc::new(AtomicBool::new(false));
    let huge_status = Arc::new(AtomicBool::new(false));
    let (c, a, u, b, hf, d) = (
        chat_requests.clone(),
        answered.clone(),
        uploads.clone(),
        batches_created.clone(),
        hard_failures.clone(),
        delay_ms.clone(),
    );
    let hold = hold_batches.clone();
    let tear = tear_results.clone();
    let huge = huge_status.clone();
    let server = serve(move |req| {
        let path = req.path.split('?').next().unwrap_or("");
        match (req.method.as_str(), path) {
            ("POST", "/v1/chat/completions") => {
                c.fetch_add(1, Ordering::SeqCst);
                let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
                let user = user_of(&body);
                let attempt = {
                    let mut s = state.lock().unwrap();
                    let n = s.attempts.entry(user.clone()).or_default();
                    *n += 1;
                    *n
                };
                let fault = fault_of(&user);
                let delay = Some(Duration::from_millis(d.load(Ordering::SeqCst)));
                if fault == Fault::ServerError && hf.load(Ordering::SeqCst) {
                    return Response::new(500, "overloaded");
                }
                if attempt == 1 {
                    match fault {
                        Fault::RateLimited => {
                            return Response::json(
                                429,
                                &json!({"error": {"message": "rate limited"}}),
                            )
                            .header("Retry-After", "1")
                        }
                        Fault::ServerError => return Response::new(503, "try later"),
                        Fault::Malformed => {
                            return Response::new(200, "{\"choices\": [")
                                .header("Content-Type", "application/json")
                        }
                        Fault::Empty => {
                            return Response::json(
                                200,
                                &json!({"choices": [{"message": {"content": ""}}], "usage": {}}),
                            );
                        }
                        Fault::Slow => {
                            let mut r = Response::json(200, &completion(&user));
                            r.delay = Some(Duration::from_secs(3));
                            return r;
                        }
                        Fault::None => {}
                    }
                }
                a.fetch_add(1, Ordering::SeqCst);
                let mut r = Response::json(200, &completion(&user));
                r.delay = delay;
                r
            }
            ("POST", "/v1/files") => {
                u.fetch_add(1, Ordering::SeqCst);
                let Some(content) = multipart_file(req) else {
                    return Response::new(400, "no file part");
                };
                let mut s = state.lock().unwrap();
                let id = format!("file-{}", s.files.len() + 1);
                s.files.insert(id.clone(), content);
                Response::json(
                    200,
                    &json!({"id": id, "object": "file", "purpose": "batch"}),
                )
            }
            ("POST", "/v1/batches") => {
                b.fetch_add(1, Ordering::SeqCst);
                let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
                let mut s = state.lock().unwrap();
                let id = format!("batch-{}", s.batches.len() + 1);
                let batch = json!({"id": id, "object": "batch", "input_file_id": body["input_file_id"], "status": "in_progress"});
                s.batches.push(batch.clone());
                Response::json(200, &batch)
            }
            ("GET", "/v1/batches") => {
                let s = state.lock().unwrap();
                Response::json(200, &json!({"object": "list", "data": s.batches}))
            }
            ("GET", p) if p.starts_with("/v1/batches/") => {
                let id = p.trim_start_matches("/v1/batches/").to_owned();
                if huge.load(Ordering::SeqCst) {
                    let pad = " ".repeat(17 << 20);
                    return Response::new(200, format!("{{\"id\": \"{id}\",{pad}}}"))
                        .header("Content-Type", "application/json");
                }
                let mut s = state.lock().unwrap();
                let polls = {
                    let n = s.polls.entry(id.clone()).or_default();
                    *n += 1;
                    *n
                };
                let Some(pos) = s.batches.iter().position(|b| b["id"] == id) else {
                    return Response::new(404, "no such batch");
                };
                // Completed on the second poll: results for every request line.
                if polls >= 2
                    && s.batches[pos]["status"] == "in_progress"
                    && !hold.load(Ordering::SeqCst)
                {
                    let input = s.batches[pos]["input_file_id"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned();
                    let requests =
                        String::from_utf8(s.files.get(&input).cloned().unwrap_or_default())
                            .unwrap_or_default();
                    let mut out = String::new();
                    for (n, line) in requests.lines().enumerate() {
                        let r: Value = serde_json::from_str(line).unwrap_or(Value::Null);
                        let body = completion(&user_of(&r["body"]));
                        let mut answer = json!({"id": "batch_req", "custom_id": r["custom_id"], "response": {"status_code": 200, "request_id": "r", "body": body}, "error": null}).to_string();
                        if n == 1 && tear.load(Ordering::SeqCst) {
                            answer.truncate(answer.len() / 2);
                        }
                        out.push_str(&answer);
                        out.push('\n');
                    }
                    let out_id = format!("file-out-{id}");
                    s.files.insert(out_id.clone(), out.into_bytes());
                    s.batches[pos]["status"] = json!("completed");
                    s.batches[pos]["output_file_id"] = json!(out_id);
                }
                Response::json(200, &s.batches[pos])
            }
            ("GET", p) if p.starts_with("/v1/files/") && p.ends_with("/content") => {
                let id = p
                    .trim_start_matches("/v1/files/")
                    .trim_end_matches("/content");
                match state.lock().unwrap().files.get(id) {
                    Some(bytes) => Response::new(200, bytes.clone()),
                    None => Response::new(404, "no such file"),
                }
            }
            _ => Response::new(404, format!("no route {} {}", req.method, req.path)),
        }
    });
    FakeOpenAi {
        server,
        chat_requests,
        answered,
        uploads,
        batches_created,
        hard_failures,
        delay_ms,
        hold_batches,
        tear_results,
        huge_status,
    }
}
