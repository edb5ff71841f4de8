//! Rules 5-7: a candidate's text to the recipe's item.

use pricer_core::recipe::{self, MAX_TOKENS, MIN_TOKENS};
use pricer_core::{Candidate, Item};
use pricer_tokenizer::Encoder;

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

/// What rules 5-7 add to a candidate: its prompt and the prompt's token count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    pub prompt: String,
    pub token_count: u32,
}

impl Prompt {
    /// The item, taking the candidate's own strings (no copy).
    pub fn into_item(self, c: Candidate) -> Item {
        Item {
            category: c.category,
            title: c.title,
            price: c.price,
            prompt: self.prompt,
            token_count: self.token_count,
            details: c.details,
        }
    }
}

/// Rules 5-7 for one candidate: its prompt and token count, or why it is not kept. Only
/// the first 160 tokens of the text matter, so the text is encoded only that far (the
/// count is exact whenever it decides a reject).
pub fn make_prompt(
    tok: &Encoder<'_>,
    c: &Candidate,
) -> anyhow::Result<Result<Prompt, PromptReject>> {
    const HEAD: usize = if MAX_TOKENS > MIN_TOKENS {
        MAX_TOKENS
    } else {
        MIN_TOKENS + 1
    };
    let ids = tok.encode_head(&c.text, HEAD)?;
    if ids.len() <= MIN_TOKENS {
        return Ok(Err(PromptReject::TooFewTokens(ids.len())));
    }
    let head = &ids[..ids.len().min(MAX_TOKENS)];
    let decoded = tok.decode_head(&c.text, head)?;
    let prompt = recipe::prompt(&decoded, c.price);
    // The prompt holds the decoded head right after the question and a blank line.
    let at = recipe::QUESTION.len() + 2;
    let token_count = tok.count_reusing(&prompt, at, &c.text, head)? as u32;
    Ok(Ok(Prompt {
        prompt,
        token_count,
    }))
}
