//! Rules 5-7: a candidate's text to the recipe's item.

use pricer_core::recipe::{self, MAX_TOKENS, MIN_TOKENS};
use pricer_core::{Candidate, Item};
use pricer_pycompat::transformers::clean_up_tokenization;
use tokenizers::Tokenizer;

/// Why the prompt stage did not keep a candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptReject {
    /// The text encodes to 150 tokens or fewer.
    TooFewTokens(usize),
}

impl PromptReject {
    pub fn code(self) -> &'static str {
        match self {
            PromptReject::TooFewTokens(_) => "too_few_tokens",
        }
    }

    pub fn detail(self) -> String {
        match self {
            PromptReject::TooFewTokens(n) => format!("{n} tokens (needs more than {MIN_TOKENS})"),
        }
    }
}

/// The recipe's tokenizer operations, as transformers 4.x performed them.
pub struct RecipeTokenizer<'t> {
    pub tokenizer: &'t Tokenizer,
    /// transformers' `clean_up_tokenization_spaces` (true for Llama 3.1).
    pub clean_up_spaces: bool,
}

impl RecipeTokenizer<'_> {
    /// `tok.encode(text, add_special_tokens=False)`.
    pub fn encode(&self, text: &str) -> anyhow::Result<Vec<u32>> {
        let enc = self
            .tokenizer
            .encode_fast(text, false)
            .map_err(|e| anyhow::anyhow!("encode failed: {e}"))?;
        Ok(enc.get_ids().to_vec())
    }

    /// `tok.decode(ids)`: plain decode, then `clean_up_tokenization` when configured.
    pub fn decode(&self, ids: &[u32]) -> anyhow::Result<String> {
        let text = self
            .tokenizer
            .decode(ids, false)
            .map_err(|e| anyhow::anyhow!("decode failed: {e}"))?;
        Ok(if self.clean_up_spaces {
            clean_up_tokenization(&text)
        } else {
            text
        })
    }
}

/// Rules 5-7 for one candidate.
pub fn make_item(
    tok: &RecipeTokenizer<'_>,
    c: &Candidate,
) -> anyhow::Result<Result<Item, PromptReject>> {
    let ids = tok.encode(&c.text)?;
    if ids.len() <= MIN_TOKENS {
        return Ok(Err(PromptReject::TooFewTokens(ids.len())));
    }
    let decoded = tok.decode(&ids[..ids.len().min(MAX_TOKENS)])?;
    let prompt = recipe::prompt(&decoded, c.price);
    let token_count = tok.encode(&prompt)?.len() as u32;
    Ok(Ok(Item {
        category: c.category.clone(),
        title: c.title.clone(),
        price: c.price,
        prompt,
        token_count,
    }))
}
