//! The `endpoint` predictor: a model behind any OpenAI-compatible endpoint, asked once per
//! test item through pricer-llm (the summarize stage's client: content-addressed answers
//! cached the moment they arrive, concurrency, retries, cost), so a rerun asks nothing it
//! was answered before and a killed run asks only what is missing.
//!
//! `api = "chat"`: the course's frontier prompt, "Estimate the price of this product.
//! Respond with the price, no explanation\n\n" + the item's summary (V2; in V1 the body of
//! its test prompt), or a `template` of the user's. `api = "completions"`: the item's own
//! prompt (V1's test prompt, V2's `prompt`), as a fine-tuned base model continues it.

use std::collections::HashMap;
use std::path::PathBuf;

use anyhow::{bail, Result};
use pricer_llm::{online, Cache, Job, Key, Prices, Route, Transport};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::data::TestItem;
use crate::predictors::{Predicted, Reject};
use crate::score::Answer;

/// The course's V2 frontier prompt (its `messages_for`), before the summary.
pub const COURSE_PROMPT: &str =
    "Estimate the price of this product. Respond with the price, no explanation\n\n";

/// Which API the model is asked through.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Api {
    #[default]
    Chat,
    Completions,
}

/// `[[eval.predictors]] kind = "endpoint"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointConfig {
    #[serde(default)]
    pub name: Option<String>,
    /// The OpenAI-compatible API root (a local server: `http://localhost:8000/v1`).
    pub base_url: String,
    pub model: String,
    #[serde(default)]
    pub api: Api,
    /// The environment variable holding the API key ("" for none).
    #[serde(default = "default_key_env")]
    pub api_key_env: String,
    /// Chat: the user message, `{summary}`, `{title}` and `{prompt}` filled in
    /// (default: the course's prompt and `{summary}`).
    #[serde(default)]
    pub template: Option<String>,
    /// Chat: a system message (default none, as the course's V2 evaluation).
    #[serde(default)]
    pub system_prompt: Option<String>,
    /// Completions: tokens to generate.
    #[serde(default = "default_max_tokens")]
    pub max_tokens: u64,
    /// Extra fields of every request body (e.g. `{ temperature = 0 }`).
    #[serde(default)]
    pub options: serde_json::Map<String, Value>,
    #[serde(default = "default_in_flight")]
    pub max_in_flight: usize,
    #[serde(default = "default_attempts")]
    pub max_attempts: u32,
    #[serde(default = "default_backoff")]
    pub backoff_ms: u64,
    #[serde(default = "default_timeout")]
    pub timeout_s: u64,
    /// Dollars per million tokens, for the estimate and the cost (default 0: a local model).
    #[serde(default)]
    pub input_price_per_million: f64,
    #[serde(default)]
    pub output_price_per_million: f64,
    /// Refuse to start when the estimate is above this many dollars.
    #[serde(default)]
    pub max_cost_usd: Option<f64>,
    /// The answer cache (default: PRICER_CACHE_DIR/answers, shared by runs).
    #[serde(default)]
    pub cache: Option<PathBuf>,
}

fn default_key_env() -> String {
    "OPENAI_API_KEY".into()
}
fn default_max_tokens() -> u64 {
    8
}
fn default_in_flight() -> usize {
    5
}
fn default_attempts() -> u32 {
    6
}
fn default_backoff() -> u64 {
    1000
}
fn default_timeout() -> u64 {
    120
}

/// Tokens an answer is taken to cost in the estimate (a price and a few words).
const EXPECTED_OUTPUT_TOKENS: u64 = 10;

impl EndpointConfig {
    /// What decides the answers: where, which model, how asked. Not how requests travel.
    pub fn semantic(&self) -> Value {
        json!([
            self.base_url,
            self.model,
            self.api,
            self.template,
            self.system_prompt,
            self.max_tokens,
            self.options
        ])
    }

    fn transport(&self) -> Transport {
        Transport {
            base_url: self.base_url.clone(),
            api_key_env: self.api_key_env.clone(),
            max_in_flight: self.max_in_flight,
            max_attempts: self.max_attempts,
            backoff_ms: self.backoff_ms,
            timeout_s: self.timeout_s,
            prices: Prices {
                input_per_million: self.input_price_per_million,
                output_per_million: self.output_price_per_million,
            },
            label: "eval",
        }
    }

    fn cache_dir(&self) -> PathBuf {
        self.cache
            .clone()
            .unwrap_or_else(|| pricer_llm::cache::default_dir("answers"))
    }

    /// The text an item is asked with.
    fn text(&self, item: &TestItem) -> String {
        match self.api {
            Api::Completions => item.prompt.clone(),
            Api::Chat => {
                let summary = item
                    .summary
                    .clone()
                    .unwrap_or_else(|| prompt_body(&item.prompt));
                match &self.template {
                    Some(t) => t
                        .replace("{summary}", &summary)
                        .replace("{title}", &item.title)
                        .replace("{prompt}", &item.prompt),
                    None => format!("{COURSE_PROMPT}{summary}"),
                }
            }
        }
    }

    fn key(&self, text: &str) -> Key {
        Key::of(&json!(["eval", self.semantic()]), text)
    }

    fn body(&self, text: &str) -> Value {
        let mut b = match self.api {
            Api::Completions => {
                json!({"model": self.model, "prompt": text, "max_tokens": self.max_tokens})
            }
            Api::Chat => {
                let mut messages = Vec::new();
                if let Some(s) = &self.system_prompt {
                    messages.push(json!({"role": "system", "content": s}));
                }
                messages.push(json!({"role": "user", "content": text}));
                json!({"model": self.model, "messages": messages})
            }
        };
        if let Value::Object(m) = &mut b {
            for (k, v) in &self.options {
                m.insert(k.clone(), v.clone());
            }
        }
        b
    }

    fn route(&self) -> Route {
        match self.api {
            Api::Chat => Route::Chat,
            Api::Completions => Route::Completions,
        }
    }
}

/// A V1 test prompt's body: without the question and the `Price is $` line.
fn prompt_body(prompt: &str) -> String {
    let body = prompt.split_once("\n\n").map_or(prompt, |(_, b)| b);
    body.trim_end_matches(pricer_core::recipe::PRICE_PREFIX)
        .trim_end()
        .to_owned()
}

/// Asks the model what the cache lacks, then answers every item from the cache.
pub fn predict(cfg: &EndpointConfig, name: &str, items: &[TestItem]) -> Result<Predicted> {
    let texts: Vec<String> = items.iter().map(|i| cfg.text(i)).collect();
    let keys: Vec<Key> = texts.iter().map(|t| cfg.key(t)).collect();
    let mut cache = Cache::open(&cfg.cache_dir())?;
    let mut todo: HashMap<Key, &str> = HashMap::new();
    for (k, t) in keys.iter().zip(&texts) {
        if !cache.contains(k) {
            todo.insert(*k, t);
        }
    }
    let transport = cfg.transport();
    let in_tokens: u64 = todo.values().map(|t| t.len() as u64 / 4 + 10).sum();
    let estimate = pricer_llm::Spent {
        prompt_tokens: in_tokens,
        completion_tokens: todo.len() as u64 * EXPECTED_OUTPUT_TOKENS,
        ..Default::default()
    }
    .cost(&transport.prices);
    eprintln!(
        "eval {name}: {} of {} items answered before; {} requests to send, estimated ${estimate:.4}",
        items.len() - todo.len().min(items.len()),
        items.len(),
        todo.len()
    );
    if let Some(max) = cfg.max_cost_usd {
        if estimate > max {
            bail!("eval {name}: the {} requests to send are estimated at ${estimate:.4}, above max_cost_usd = {max}; raise it or lower [eval] size", todo.len());
        }
    }
    // In test order, each missing request once.
    let jobs: Vec<Result<Job>> = keys
        .iter()
        .zip(&texts)
        .filter(|(k, _)| todo.remove(k).is_some())
        .map(|(k, t)| {
            Ok(Job {
                key: *k,
                body: cfg.body(t),
            })
        })
        .collect();
    let n = jobs.len() as u64;
    let (failures, spent) = online::run(&transport, cfg.route(), jobs.into_iter(), n, &mut cache)?;
    if !failures.is_empty() {
        let (_, first) = &failures[0];
        bail!(
            "eval {name}: {} of {n} requests failed (the first: {}); the answers received are kept, and the next run asks only the rest",
            failures.len(),
            first.reason
        );
    }
    let mut answers = Vec::with_capacity(items.len());
    let mut rejects = Vec::new();
    for (i, k) in keys.iter().enumerate() {
        match cache.get(k)? {
            Some(a) => answers.push(Some(Answer::Text(a.text))),
            None => {
                rejects.push(Reject {
                    at: format!("item {i}"),
                    reason: "missing",
                    detail: "no answer in the cache".into(),
                });
                answers.push(None);
            }
        }
    }
    Ok(Predicted {
        answers,
        rejects,
        calls: spent.requests,
        cost: spent.cost(&transport.prices),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_are_asked_as_the_course_asks() {
        let cfg: EndpointConfig =
            toml::from_str("base_url = \"http://x/v1\"\nmodel = \"m\"").unwrap();
        let v2 = TestItem {
            title: "Lamp".into(),
            truth: 1.0,
            prompt: "Q\n\nS\n\nPrice is $".into(),
            summary: Some("Title: Lamp".into()),
        };
        assert_eq!(cfg.text(&v2), format!("{COURSE_PROMPT}Title: Lamp"));
        let v1 = TestItem {
            summary: None,
            ..v2.clone()
        };
        assert_eq!(cfg.text(&v1), format!("{COURSE_PROMPT}S"));
        let body = cfg.body("hi");
        assert_eq!(body["messages"].as_array().unwrap().len(), 1);
        let c: EndpointConfig =
            toml::from_str("base_url = \"u\"\nmodel = \"m\"\napi = \"completions\"").unwrap();
        assert_eq!(c.text(&v2), v2.prompt);
        assert_eq!(c.body("p")["max_tokens"], 8);
        assert_ne!(cfg.key("hi"), c.key("hi"));
        assert!(
            toml::from_str::<EndpointConfig>("base_url = \"u\"\nmodel = \"m\"\nmodle = 1").is_err()
        );
    }
}
