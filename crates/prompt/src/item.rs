//! Rules 5-7: a candidate's text to the recipe's item.

use pricer_bpe::Bpe;
use pricer_core::recipe::{self, MAX_TOKENS, MIN_TOKENS};
use pricer_core::{Candidate, Item};
use pricer_pycompat::transformers::clean_up_tokenization;

use crate::tokenizer::{EncoderChoice, LoadedTokenizer};

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

/// The recipe's tokenizer operations, as transformers 4.x performed them: through the
/// exact fast encoder when there is one and the text holds no added token, otherwise
/// through `tokenizers`.
pub struct RecipeTokenizer<'t> {
    pub tokenizer: &'t LoadedTokenizer,
    pub fast: Option<&'t Bpe>,
    /// transformers' `clean_up_tokenization_spaces` (true for Llama 3.1).
    pub clean_up_spaces: bool,
}

impl<'t> RecipeTokenizer<'t> {
    pub fn new(
        tokenizer: &'t LoadedTokenizer,
        choice: EncoderChoice,
        clean_up_spaces: bool,
    ) -> Self {
        RecipeTokenizer {
            tokenizer,
            fast: tokenizer.fast_for(choice),
            clean_up_spaces,
        }
    }

    fn fast_for(&self, text: &str) -> Option<&'t Bpe> {
        self.fast.filter(|b| b.covers(text))
    }

    /// The first ids of `tok.encode(text, add_special_tokens=False)`: at least `limit` of
    /// them when the text has that many (the fast path stops there), else all.
    pub fn encode_head(&self, text: &str, limit: usize) -> anyhow::Result<Vec<u32>> {
        if let Some(bpe) = self.fast_for(text) {
            let mut ids = Vec::with_capacity(limit + 8);
            bpe.encode_into(text, limit, &mut ids);
            return Ok(ids);
        }
        let enc = self
            .tokenizer
            .reference()?
            .encode_fast(text, false)
            .map_err(|e| anyhow::anyhow!("encode failed: {e}"))?;
        Ok(enc.get_ids().to_vec())
    }

    /// `len(tok.encode(text, add_special_tokens=False))`.
    pub fn count(&self, text: &str) -> anyhow::Result<usize> {
        match self.fast_for(text) {
            Some(bpe) => Ok(bpe.count(text)),
            None => Ok(self.encode_head(text, usize::MAX)?.len()),
        }
    }

    /// `tok.decode(ids)`: plain decode, then `clean_up_tokenization` when configured.
    pub fn decode(&self, ids: &[u32]) -> anyhow::Result<String> {
        let fast = self.fast.and_then(|b| b.decode(ids));
        let text = match fast {
            Some(t) => t,
            None => self
                .tokenizer
                .reference()?
                .decode(ids, false)
                .map_err(|e| anyhow::anyhow!("decode failed: {e}"))?,
        };
        Ok(if self.clean_up_spaces {
            clean_up_tokenization(&text)
        } else {
            text
        })
    }
}

/// Rules 5-7 for one candidate. Only the first 160 tokens of the text matter, so the
/// text is encoded only that far (the count is exact whenever it decides a reject).
pub fn make_item(
    tok: &RecipeTokenizer<'_>,
    c: &Candidate,
) -> anyhow::Result<Result<Item, PromptReject>> {
    const HEAD: usize = if MAX_TOKENS > MIN_TOKENS {
        MAX_TOKENS
    } else {
        MIN_TOKENS + 1
    };
    let ids = tok.encode_head(&c.text, HEAD)?;
    if ids.len() <= MIN_TOKENS {
        return Ok(Err(PromptReject::TooFewTokens(ids.len())));
    }
    let decoded = tok.decode(&ids[..ids.len().min(MAX_TOKENS)])?;
    let prompt = recipe::prompt(&decoded, c.price);
    let token_count = tok.count(&prompt)? as u32;
    Ok(Ok(Item {
        category: c.category.clone(),
        title: c.title.clone(),
        price: c.price,
        prompt,
        token_count,
    }))
}
