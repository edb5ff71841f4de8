//! Every knob of the summarize stage (`[summarize]`), with the course's values where the
//! course had one.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// The course's system prompt, byte for byte (no trailing newline).
pub const COURSE_SYSTEM_PROMPT: &str = "Create a concise description of a product. Respond only in this format. Do not include part numbers.\n\
Title: Rewritten short precise title\n\
Category: eg Electronics\n\
Brand: Brand name\n\
Description: 1 sentence description\n\
Details: 1 sentence on features";

/// How requests are sent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Concurrent chat-completion requests, a bounded number in flight.
    #[default]
    Online,
    /// OpenAI/Groq Batch API request files (submitted and polled, or left for the user).
    Batch,
}

impl std::str::FromStr for Mode {
    type Err = String;
    fn from_str(s: &str) -> Result<Mode, String> {
        match s {
            "online" => Ok(Mode::Online),
            "batch" => Ok(Mode::Batch),
            _ => Err(format!("{s:?}: the modes are online and batch")),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SummarizeConfig {
    /// Summaries someone already made instead of an LLM: a Hub-layout folder
    /// (`data/<split>-*.parquet` with a `summary` column) or JSON lines with a `split`.
    pub from: Option<PathBuf>,
    pub mode: Mode,
    /// The OpenAI-compatible API root, e.g. `https://api.groq.com/openai/v1`.
    pub base_url: String,
    pub model: String,
    /// The environment variable that holds the API key (empty: send none, e.g. for a
    /// local server).
    pub api_key_env: String,
    pub system_prompt: String,
    /// Extra fields of every request body, e.g. `{ reasoning_effort = "low" }`.
    pub options: serde_json::Map<String, serde_json::Value>,
    /// Online: requests in flight at once.
    pub max_in_flight: usize,
    /// Online: attempts per request (429, 5xx, timeouts and malformed answers are retried).
    pub max_attempts: u32,
    /// Online: the first backoff; it doubles per attempt (a `Retry-After` wins).
    pub backoff_ms: u64,
    pub timeout_s: u64,
    /// Batch: requests per request file.
    pub batch_size: usize,
    /// Batch: upload and poll (false: write the request files and stop).
    pub submit: bool,
    pub poll_s: u64,
    /// Batch: result and error files downloaded by hand, to read into the cache.
    pub results: Vec<PathBuf>,
    /// Prices per million tokens, for the estimate printed before sending and the cost
    /// shown while running.
    pub input_price_per_million: f64,
    pub output_price_per_million: f64,
    /// Tokens one answer is expected to take (for the estimate).
    pub expected_output_tokens: u64,
    /// Refuse to start when the estimate is above this many dollars.
    pub max_cost_usd: Option<f64>,
    /// Where responses are kept (default: `PRICER_CACHE_DIR`/summaries, shared by runs).
    pub cache: Option<PathBuf>,
}

impl Default for SummarizeConfig {
    fn default() -> Self {
        SummarizeConfig {
            from: None,
            mode: Mode::Online,
            base_url: "https://api.groq.com/openai/v1".into(),
            model: "openai/gpt-oss-20b".into(),
            api_key_env: "GROQ_API_KEY".into(),
            system_prompt: COURSE_SYSTEM_PROMPT.into(),
            options: [("reasoning_effort".to_owned(), serde_json::json!("low"))]
                .into_iter()
                .collect(),
            max_in_flight: 8,
            max_attempts: 6,
            backoff_ms: 1000,
            timeout_s: 120,
            batch_size: 1000,
            submit: true,
            poll_s: 30,
            results: Vec::new(),
            input_price_per_million: 0.075,
            output_price_per_million: 0.30,
            expected_output_tokens: 150,
            max_cost_usd: None,
            cache: None,
        }
    }
}

impl SummarizeConfig {
    /// What decides the summaries' content (and so the stage's fingerprint): the
    /// endpoint, model, system prompt and request options. How requests travel (mode,
    /// concurrency, retries) does not.
    pub fn semantic(&self) -> serde_json::Value {
        match &self.from {
            Some(_) => serde_json::json!({"from": "published summaries"}),
            None => serde_json::json!({
                "base_url": self.base_url,
                "model": self.model,
                "system_prompt": self.system_prompt,
                "options": self.options,
            }),
        }
    }

    /// The response cache's folder.
    pub fn cache_dir(&self) -> PathBuf {
        self.cache
            .clone()
            .unwrap_or_else(|| pricer_llm::cache::default_dir("summaries"))
    }

    /// The API key, if one is configured.
    pub fn api_key(&self) -> Option<String> {
        self.transport().api_key()
    }

    /// Where requests go and how they travel, for pricer-llm.
    pub fn transport(&self) -> pricer_llm::Transport {
        pricer_llm::Transport {
            base_url: self.base_url.clone(),
            api_key_env: self.api_key_env.clone(),
            max_in_flight: self.max_in_flight,
            max_attempts: self.max_attempts,
            backoff_ms: self.backoff_ms,
            timeout_s: self.timeout_s,
            prices: self.prices(),
            label: "summarize",
        }
    }

    /// Dollars per million tokens, in and out.
    pub fn prices(&self) -> pricer_llm::Prices {
        pricer_llm::Prices {
            input_per_million: self.input_price_per_million,
            output_per_million: self.output_price_per_million,
        }
    }
}
