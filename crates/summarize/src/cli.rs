//! The command line of `pricer-summarize`, which the `pricer` command also carries as a subcommand: curated items -> items with LLM summaries (or published ones).

use std::path::PathBuf;

use crate::{Mode, SummarizeConfig, SummarizeStage};
use anyhow::Result;
use clap::Parser;
use pricer_core::stage::{self, Stage};

/// Rewrite each curated item's text with an LLM through any OpenAI-compatible endpoint
/// (Groq, OpenAI, vLLM, llama.cpp, Ollama), caching every answer by content so that no
/// request is ever paid for twice; or take summaries someone already published.
#[derive(Parser, Debug)]
#[command(version, about, long_about = None)]
pub struct Args {
    /// The curate stage's folder (train.art, validation.art, test.art).
    #[arg(default_value = "out/curate")]
    input: PathBuf,
    /// Output folder for train.art, validation.art, test.art and manifest.json.
    #[arg(long, short, default_value = "out/summarize")]
    out: PathBuf,
    /// Published summaries instead of an LLM: a Hub dataset folder or JSON lines with a split.
    #[arg(long)]
    from: Option<PathBuf>,
    /// online or batch.
    #[arg(long, default_value = "online")]
    mode: Mode,
    /// The OpenAI-compatible API root [default: https://api.groq.com/openai/v1, Groq's].
    #[arg(long)]
    base_url: Option<String>,
    /// The model [default: openai/gpt-oss-20b, the course's].
    #[arg(long)]
    model: Option<String>,
    /// The environment variable holding the API key ("" for none) [default: GROQ_API_KEY].
    #[arg(long)]
    api_key_env: Option<String>,
    /// A request option as KEY=JSON (repeatable), e.g. reasoning_effort="low"; replaces the default options.
    #[arg(long = "option", value_parser = parse_option)]
    options: Vec<(String, serde_json::Value)>,
    /// Online: requests in flight at once [default: 8].
    #[arg(long)]
    max_in_flight: Option<usize>,
    /// Dollars per million input tokens, for the estimate and the cost lines
    /// [default: 0.075, Groq's price for the default model].
    #[arg(long)]
    input_price_per_million: Option<f64>,
    /// Dollars per million output tokens [default: 0.30].
    #[arg(long)]
    output_price_per_million: Option<f64>,
    /// Batch: write the request files and stop (upload them yourself).
    #[arg(long)]
    no_submit: bool,
    /// Batch: result or error files downloaded by hand (repeatable).
    #[arg(long = "results")]
    results: Vec<PathBuf>,
    /// Refuse to start when the estimated cost is above this many dollars.
    #[arg(long)]
    max_cost_usd: Option<f64>,
    /// The response cache's folder (default: PRICER_CACHE_DIR/summaries).
    #[arg(long)]
    cache: Option<PathBuf>,
    /// Seconds before a request times out.
    #[arg(long)]
    timeout_s: Option<u64>,
    /// The first retry's wait, in milliseconds (doubles per attempt).
    #[arg(long)]
    backoff_ms: Option<u64>,
    /// Attempts per request.
    #[arg(long)]
    max_attempts: Option<u32>,
    /// Batch: requests per request file.
    #[arg(long)]
    batch_size: Option<usize>,
    /// Batch: seconds between polls.
    #[arg(long)]
    poll_s: Option<u64>,
}

fn parse_option(s: &str) -> Result<(String, serde_json::Value), String> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| format!("expected KEY=JSON, got {s:?}"))?;
    let v = serde_json::from_str(v).unwrap_or_else(|_| serde_json::Value::String(v.to_owned()));
    Ok((k.to_owned(), v))
}

/// Runs the command as parsed.
pub fn run(a: Args) -> Result<()> {
    let mut config = SummarizeConfig {
        from: a.from,
        mode: a.mode,
        submit: !a.no_submit,
        results: a.results,
        max_cost_usd: a.max_cost_usd,
        cache: a.cache,
        ..SummarizeConfig::default()
    };
    if let Some(v) = a.base_url {
        config.base_url = v;
    }
    if let Some(v) = a.model {
        config.model = v;
    }
    if let Some(v) = a.api_key_env {
        config.api_key_env = v;
    }
    if let Some(v) = a.max_in_flight {
        config.max_in_flight = v;
    }
    if let Some(v) = a.input_price_per_million {
        config.input_price_per_million = v;
    }
    if let Some(v) = a.output_price_per_million {
        config.output_price_per_million = v;
    }
    if let Some(v) = a.timeout_s {
        config.timeout_s = v;
    }
    if let Some(v) = a.backoff_ms {
        config.backoff_ms = v;
    }
    if let Some(v) = a.max_attempts {
        config.max_attempts = v;
    }
    if let Some(v) = a.batch_size {
        config.batch_size = v;
    }
    if let Some(v) = a.poll_s {
        config.poll_s = v;
    }
    if !a.options.is_empty() {
        config.options = a.options.into_iter().collect();
    }
    let mut stage = SummarizeStage::new(a.input, a.out, config);
    stage.max_cost_knob = "--max-cost-usd";
    stage.results_knob = "--results";
    let manifest = stage::run_now(&stage)?;
    println!("{}", stage.summary(&manifest));
    Ok(())
}

/// The binary's main: logging, the command line, the run; errors as `pricer_core::cli`
/// prints them.
pub fn main() -> std::process::ExitCode {
    use clap::Parser;
    pricer_core::obs::init_tracing();
    pricer_core::cli::exit(run(Args::parse()))
}
