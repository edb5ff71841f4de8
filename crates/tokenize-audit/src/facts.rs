//! Token facts: how tokenizers treat prices and prompts.

use pricer_tokenizer::Encoder;
use serde::Serialize;

/// The prompt's ending around a price, as every prompt has it.
fn priced(p: u32) -> String {
    format!("Price is ${p}.00")
}

/// How a tokenizer encodes the prices 1..=999 where prompts show them
/// (`Price is $N.00`): the tokens whose spans overlap the digits of N.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PriceFacts {
    pub tokenizer: String,
    pub prices: u32,
    pub single_token: u32,
    /// Prices that take more than one token (all of them, ascending).
    pub exceptions: Vec<u32>,
    pub mean_tokens_per_price: f64,
    pub max_tokens_per_price: u32,
}

pub fn price_facts(name: &str, enc: &Encoder) -> anyhow::Result<PriceFacts> {
    let start = "Price is $".len();
    let mut per_price = Vec::with_capacity(999);
    for p in 1..=999u32 {
        let text = priced(p);
        let end = start + p.to_string().len();
        let covering = enc
            .encode_with_spans(&text)?
            .iter()
            .filter(|(_, (s, e))| *s < end && *e > start)
            .count();
        per_price.push(covering as u32);
    }
    let exceptions: Vec<u32> = (1..=999u32)
        .zip(&per_price)
        .filter(|(_, n)| **n != 1)
        .map(|(p, _)| p)
        .collect();
    Ok(PriceFacts {
        tokenizer: name.to_owned(),
        prices: 999,
        single_token: 999 - exceptions.len() as u32,
        exceptions,
        mean_tokens_per_price: per_price.iter().map(|&n| f64::from(n)).sum::<f64>() / 999.0,
        max_tokens_per_price: per_price.iter().copied().max().unwrap_or(0),
    })
}

/// Tokens per prompt for one tokenizer over a sample of prompts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PromptTokens {
    pub tokenizer: String,
    pub prompts: usize,
    pub mean_tokens: f64,
    pub max_tokens: usize,
}

pub fn prompt_tokens(
    name: &str,
    enc: &Encoder,
    prompts: &[String],
) -> anyhow::Result<PromptTokens> {
    let counts: Vec<usize> = prompts
        .iter()
        .map(|p| enc.count(p))
        .collect::<anyhow::Result<_>>()?;
    Ok(PromptTokens {
        tokenizer: name.to_owned(),
        prompts: counts.len(),
        mean_tokens: if counts.is_empty() {
            0.0
        } else {
            counts.iter().sum::<usize>() as f64 / counts.len() as f64
        },
        max_tokens: counts.iter().copied().max().unwrap_or(0),
    })
}

/// The per-item view the recipe's author used: the last tokens of a prompt.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TailView {
    pub text: String,
    pub ids: Vec<u32>,
    /// Each id decoded on its own.
    pub pieces: Vec<String>,
}

/// `enc` decodes as `tokenizers` does (no clean-up of spaces).
pub fn tail(enc: &Encoder, text: &str, n: usize) -> anyhow::Result<TailView> {
    let ids = enc.encode(text)?;
    let ids = ids[ids.len().saturating_sub(n)..].to_vec();
    let pieces = ids
        .iter()
        .map(|id| enc.decode(&[*id]))
        .collect::<anyhow::Result<_>>()?;
    Ok(TailView {
        text: text.to_owned(),
        ids,
        pieces,
    })
}
