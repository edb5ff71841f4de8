//! One summary request: its content address and its body (pricer-llm sends it, caches
//! its answer and counts what it cost).

use serde_json::{json, Value};

pub use pricer_llm::request::{error_text, Answer, Failure, Key, Spent};

use crate::config::SummarizeConfig;

/// A summary request's key: over the endpoint, model, system prompt, request options and
/// the item's text (the same keys since the first cache was written).
pub fn key(cfg: &SummarizeConfig, user: &str) -> Key {
    Key::of(
        &json!([cfg.base_url, cfg.model, cfg.system_prompt, cfg.options]),
        user,
    )
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

/// A chat-completion response body to an answer (empty content is a failure).
pub fn parse_completion(body: &Value) -> Result<Answer, Failure> {
    pricer_llm::request::parse_answer(pricer_llm::Route::Chat, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_cover_everything_that_changes_the_answer() {
        let cfg = SummarizeConfig::default();
        let k = key(&cfg, "text");
        assert_ne!(k, key(&cfg, "text2"));
        // The key of the first caches: answers paid for before stay found.
        assert_eq!(k.hex().len(), 32);
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
            assert_ne!(key(&c, "text"), k);
        }
        let mut c = cfg.clone();
        c.max_in_flight = 99;
        assert_eq!(key(&c, "text"), k, "how requests travel does not matter");
    }
}
