//! One request: its content address, the route it goes to, what an answer must hold, and
//! what a run spent.

use serde_json::Value;

/// A request's content address: BLAKE3 (first 16 bytes) over a head (what decides the
/// answer besides the text: endpoint, model, prompts, options) and the text. Equal keys
/// are the same request, whichever run, split or item asks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key(pub [u8; 16]);

impl Key {
    /// The key of `text` under `head` (its compact JSON, length-prefixed).
    pub fn of(head: &Value, text: &str) -> Key {
        let mut h = blake3::Hasher::new();
        let head = head.to_string();
        h.update(&(head.len() as u64).to_le_bytes());
        h.update(head.as_bytes());
        h.update(text.as_bytes());
        let mut k = [0u8; 16];
        k.copy_from_slice(&h.finalize().as_bytes()[..16]);
        Key(k)
    }

    pub fn hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    pub fn from_hex(s: &str) -> Option<Key> {
        if s.len() != 32 {
            return None;
        }
        let mut k = [0u8; 16];
        for (i, byte) in k.iter_mut().enumerate() {
            *byte = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(Key(k))
    }
}

/// Which API a request goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `POST /chat/completions`; the answer is `choices[0].message.content`.
    Chat,
    /// `POST /completions` (a base model continuing a prompt); the answer is
    /// `choices[0].text`.
    Completions,
}

impl Route {
    /// The path under the API root.
    pub fn path(self) -> &'static str {
        match self {
            Route::Chat => "/chat/completions",
            Route::Completions => "/completions",
        }
    }
}

/// A usable answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The answer's text, unchanged.
    pub text: String,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
}

/// Why a request has no answer (yet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub reason: String,
}

impl Failure {
    pub fn new(reason: impl Into<String>) -> Failure {
        Failure {
            reason: reason.into(),
        }
    }
}

/// A response body to an answer. Empty text is a failure: it would train a model on
/// nothing, or score a guess of nothing.
pub fn parse_answer(route: Route, body: &Value) -> Result<Answer, Failure> {
    let (text, what) = match route {
        Route::Chat => (
            &body["choices"][0]["message"]["content"],
            "choices[0].message.content",
        ),
        Route::Completions => (&body["choices"][0]["text"], "choices[0].text"),
    };
    let text = text
        .as_str()
        .ok_or_else(|| Failure::new(format!("malformed answer: no {what} string")))?;
    if text.trim().is_empty() {
        return Err(Failure::new("empty answer"));
    }
    Ok(Answer {
        text: text.to_owned(),
        prompt_tokens: body["usage"]["prompt_tokens"].as_u64().unwrap_or(0),
        completion_tokens: body["usage"]["completion_tokens"].as_u64().unwrap_or(0),
    })
}

/// Dollars per million tokens, in and out.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prices {
    pub input_per_million: f64,
    pub output_per_million: f64,
}

/// What a run sent and what the answers it received cost.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Spent {
    /// Requests sent: online, each request once however often it was retried; in batch
    /// mode, the lines of the batches this run created.
    pub requests: u64,
    /// Answers received and stored (online, or read back from batch results).
    pub answers: u64,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
}

impl Spent {
    /// Counts an answer received.
    pub fn answer(&mut self, a: &Answer) {
        self.answers += 1;
        self.prompt_tokens += a.prompt_tokens;
        self.completion_tokens += a.completion_tokens;
    }

    pub fn cost(&self, p: &Prices) -> f64 {
        (self.prompt_tokens as f64 * p.input_per_million
            + self.completion_tokens as f64 * p.output_per_million)
            / 1e6
    }
}

impl std::ops::AddAssign for Spent {
    fn add_assign(&mut self, o: Spent) {
        self.requests += o.requests;
        self.answers += o.answers;
        self.prompt_tokens += o.prompt_tokens;
        self.completion_tokens += o.completion_tokens;
    }
}

/// Characters of an error answer's body quoted in a failure or an error message.
const ERROR_QUOTE_CHARS: usize = 300;

/// The start of an error answer's body: it says why; a whole page in a message would not.
pub fn error_text(resp: ureq::Response) -> String {
    resp.into_string()
        .unwrap_or_default()
        .chars()
        .take(ERROR_QUOTE_CHARS)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_round_trip_and_differ_by_head_and_text() {
        let k = Key::of(&json!(["a"]), "text");
        assert_eq!(Key::from_hex(&k.hex()), Some(k));
        assert_ne!(k, Key::of(&json!(["a"]), "text2"));
        assert_ne!(k, Key::of(&json!(["b"]), "text"));
        assert_eq!(Key::from_hex("zz"), None);
    }

    #[test]
    fn answers_must_hold_text() {
        let ok = json!({"choices": [{"message": {"content": "Title: x"}}], "usage": {"prompt_tokens": 5, "completion_tokens": 3}});
        assert_eq!(parse_answer(Route::Chat, &ok).unwrap().completion_tokens, 3);
        assert!(parse_answer(Route::Completions, &ok).is_err());
        let text = json!({"choices": [{"text": "12.00"}]});
        assert_eq!(
            parse_answer(Route::Completions, &text).unwrap().text,
            "12.00"
        );
        assert!(parse_answer(Route::Chat, &json!({"choices": []})).is_err());
        assert!(parse_answer(
            Route::Chat,
            &json!({"choices": [{"message": {"content": "  "}}]})
        )
        .is_err());
    }
}
