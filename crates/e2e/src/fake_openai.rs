//! An OpenAI-compatible API for tests, on 127.0.0.1: chat and text completions whose
//! answer is derived from the request (so every run gets the same summaries and prices), with faults injected
//! on the first attempt of some requests (429 with Retry-After, 500, a malformed body, an
//! empty answer, a delay past the client's timeout).
//! It counts what it was asked, so tests can prove nothing was requested twice. The
//! Files and Batches endpoints are in `fake_batches.rs`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};

use crate::fake_batches::BatchControl;
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
}

/// The running fake API and its counters.
pub struct FakeOpenAi {
    pub server: Server,
    /// Chat- and text-completion requests received (every attempt).
    pub chat_requests: Arc<AtomicU64>,
    /// Chat-completion requests answered with a summary.
    pub answered: Arc<AtomicU64>,
    /// While set, texts whose fault is `ServerError` fail on every attempt.
    pub hard_failures: Arc<AtomicBool>,
    /// Delay added to every chat answer (to stretch a run for a kill).
    pub delay_ms: Arc<AtomicU64>,
    /// The Files and Batches API's switches and counters.
    pub batch: Arc<BatchControl>,
}

impl FakeOpenAi {
    /// The API root to give as `base_url`.
    pub fn base_url(&self) -> String {
        format!("{}/v1", self.server.url())
    }
}

/// The price the fake model guesses for a text (asked by an evaluation): a dollar
/// amount, sometimes with words around it, derived from the text.
pub fn price_for(text: &str) -> String {
    let h = blake3::hash(text.as_bytes());
    let b = h.as_bytes();
    let dollars = u16::from_le_bytes([b[1], b[2]]) % 990 + 5;
    match b[3] % 4 {
        0 => format!("${dollars}.{:02}", b[4] % 100),
        1 => format!("{dollars}"),
        2 => format!("About ${dollars},000"),
        _ => format!("I would say {dollars}.99 dollars"),
    }
}

/// Whether a chat request is an evaluation's (the course's frontier prompt).
fn asks_a_price(user: &str) -> bool {
    user.starts_with("Estimate the price")
}

/// A chat-completion answer for `user`, with its usage: a summary, or a price when the
/// text asks for one.
pub fn completion(user: &str) -> Value {
    let content = if asks_a_price(user) {
        price_for(user)
    } else {
        answer_for(user)
    };
    json!({
        "id": "chatcmpl-fake", "object": "chat.completion", "model": "fake",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": user.len() / 4 + 60, "completion_tokens": 40},
    })
}

/// A text-completion answer for `prompt` (`/v1/completions`): a price.
pub fn text_completion(prompt: &str) -> Value {
    json!({
        "id": "cmpl-fake", "object": "text_completion", "model": "fake",
        "choices": [{"index": 0, "text": price_for(prompt), "finish_reason": "length"}],
        "usage": {"prompt_tokens": prompt.len() / 4, "completion_tokens": 4},
    })
}

/// The user message of a chat-completion request body (the last one), or a text
/// completion's prompt.
pub fn user_of(body: &Value) -> String {
    let last_user = body["messages"].as_array().and_then(|m| {
        m.iter()
            .rev()
            .find(|m| m["role"] == "user")
            .and_then(|m| m["content"].as_str())
    });
    last_user
        .or_else(|| body["prompt"].as_str())
        .unwrap_or_default()
        .to_owned()
}

/// What the chat endpoint shares between requests.
struct Chat {
    state: Mutex<State>,
    requests: Arc<AtomicU64>,
    answered: Arc<AtomicU64>,
    hard_failures: Arc<AtomicBool>,
    delay_ms: Arc<AtomicU64>,
}

impl Chat {
    /// `POST /v1/chat/completions` (or `/v1/completions` when `text`): the fault of the
    /// text on its first attempt, then the answer.
    fn answer(&self, req: &Request, text: bool) -> Response {
        let reply = |user: &str| {
            if text {
                text_completion(user)
            } else {
                completion(user)
            }
        };
        self.requests.fetch_add(1, Ordering::SeqCst);
        let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
        let user = user_of(&body);
        let attempt = {
            let mut s = self.state.lock().unwrap();
            let n = s.attempts.entry(user.clone()).or_default();
            *n += 1;
            *n
        };
        let fault = fault_of(&user);
        if fault == Fault::ServerError && self.hard_failures.load(Ordering::SeqCst) {
            return Response::new(500, "overloaded");
        }
        if attempt == 1 {
            match fault {
                Fault::RateLimited => {
                    return Response::json(429, &json!({"error": {"message": "rate limited"}}))
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
                        &json!({"choices": [{"message": {"content": ""}, "text": ""}], "usage": {}}),
                    );
                }
                Fault::Slow => {
                    let mut r = Response::json(200, &reply(&user));
                    r.delay = Some(Duration::from_secs(3));
                    return r;
                }
                Fault::None => {}
            }
        }
        self.answered.fetch_add(1, Ordering::SeqCst);
        let mut r = Response::json(200, &reply(&user));
        r.delay = Some(Duration::from_millis(self.delay_ms.load(Ordering::SeqCst)));
        r
    }
}

pub fn start() -> FakeOpenAi {
    let chat = Chat {
        state: Mutex::default(),
        requests: Arc::default(),
        answered: Arc::default(),
        hard_failures: Arc::default(),
        delay_ms: Arc::default(),
    };
    let batch = Arc::new(BatchControl::default());
    let (chat_requests, answered) = (chat.requests.clone(), chat.answered.clone());
    let (hard_failures, delay_ms) = (chat.hard_failures.clone(), chat.delay_ms.clone());
    let control = batch.clone();
    let server = serve(move |req| {
        let path = req.path.split('?').next().unwrap_or("");
        if (req.method.as_str(), path) == ("POST", "/v1/chat/completions") {
            return chat.answer(req, false);
        }
        if (req.method.as_str(), path) == ("POST", "/v1/completions") {
            return chat.answer(req, true);
        }
        batch
            .handle(req)
            .unwrap_or_else(|| Response::new(404, format!("no route {} {}", req.method, req.path)))
    });
    FakeOpenAi {
        server,
        chat_requests,
        answered,
        hard_failures,
        delay_ms,
        batch: control,
    }
}
