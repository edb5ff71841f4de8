//! One summary request: its content address, its body, and what an answer must hold.

use serde_json::{json, Value};

use crate::config::SummarizeConfig;

/// A request's content address: BLAKE3 (first 16 bytes) over the endpoint, model, system
/// prompt, request options and user text. Equal keys are the same request, whichever
/// run, split or item asks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key(pub [u8; 16]);

impl Key {
    pub fn of(cfg: &SummarizeConfig, user: &str) -> Key {
        let mut h = blake3::Hasher::new();
        let head = json!([cfg.base_url, cfg.model, cfg.system_prompt, cfg.options]).to_string();
        h.update(&(head.len() as u64).to_le_bytes());
        h.update(head.as_bytes());
        h.update(user.as_bytes());
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

/// The chat-completion body: the system prompt, the item's text, the extra options.
pub fn body(cfg: &SummarizeConfig, user: &str) -> Value {
    let mut b = json!({
        "model": cfg.model,
        "messages": [
            {"role": "system", "content": cfg.system_prompt},
            {"role": "user", "content": user},
        ],
    });
    if let Value::Object(m) = &mut b {
        for (k, v) in &cfg.options {
            m.insert(k.clone(), v.clone());
        }
    }
    b
}

/// A usable answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// `choices[0].message.content`, unchanged.
    pub summary: String,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
}

/// Why a request has no summary (yet).
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

/// A chat-completion response body to an answer. Empty content is a failure: it would
/// train a model on nothing.
pub fn parse_completion(body: &Value) -> Result<Answer, Failure> {
    let content = body["choices"][0]["message"]["content"]
        .as_str()
        .ok_or_else(|| Failure::new("malformed answer: no choices[0].message.content string"))?;
    if content.trim().is_empty() {
        return Err(Failure::new("empty answer"));
    }
    Ok(Answer {
        summary: content.to_owned(),
        prompt_tokens: body["usage"]["prompt_tokens"].as_u64().unwrap_or(0),
        completion_tokens: body["usage"]["completion_tokens"].as_u64().unwrap_or(0),
    })
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

    pub fn cost(&self, cfg: &SummarizeConfig) -> f64 {
        (self.prompt_tokens as f64 * cfg.input_price_per_million
            + self.completion_tokens as f64 * cfg.output_price_per_million)
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

    #[test]
    fn keys_cover_everything_that_changes_the_answer() {
        let cfg = SummarizeConfig::default();
        let k = Key::of(&cfg, "text");
        assert_eq!(Key::from_hex(&k.hex()), Some(k));
        assert_ne!(k, Key::of(&cfg, "text2"));
        for change in [
            |c: &mut SummarizeConfig| c.model = "other".into(),
            |c: &mut SummarizeConfig| c.base_url = "http://localhost:8000/v1".into(),
            |c: &mut SummarizeConfig| c.system_prompt.push('!'),
            |c: &mut SummarizeConfig| {
                c.options.insert("temperature".into(), json!(0));
            },
        ] {
            let mut c = cfg.clone();
            change(&mut c);
            assert_ne!(Key::of(&c, "text"), k);
        }
        let mut c = cfg.clone();
        c.max_in_flight = 99;
        assert_eq!(
            Key::of(&c, "text"),
            k,
            "how requests travel does not matter"
        );
    }

    #[test]
    fn answers_must_hold_text() {
        let ok = json!({"choices": [{"message": {"content": "Title: x"}}], "usage": {"prompt_tokens": 5, "completion_tokens": 3}});
        assert_eq!(parse_completion(&ok).unwrap().completion_tokens, 3);
        assert!(parse_completion(&json!({"choices": []})).is_err());
        assert!(parse_completion(&json!({"choices": [{"message": {"content": "  "}}]})).is_err());
    }
}
