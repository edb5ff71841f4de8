//! The tokenizer operations the recipes perform, as transformers 4.x performed them:
//! through the exact fast encoder when there is one and the text holds no added token,
//! otherwise through `tokenizers`.

use anyhow::Result;
use pricer_bpe::Bpe;
use pricer_pycompat::transformers::clean_up_tokenization;

use crate::source::LoadedTokenizer;

/// Which encoder to use. Both give the same ids; `Reference` is the `tokenizers` crate
/// alone, kept to check the fast path against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum EncoderChoice {
    /// pricer-bpe where the tokenizer file allows it (Llama 3 style), else `tokenizers`.
    #[default]
    Fast,
    /// `tokenizers` for everything.
    Reference,
}

/// `tok.encode(..., add_special_tokens=False)`, `tok.decode(...)` and friends.
pub struct Encoder<'t> {
    pub tokenizer: &'t LoadedTokenizer,
    fast: Option<&'t Bpe>,
    /// transformers' `clean_up_tokenization_spaces` after decoding (true for Llama 3.x).
    pub clean_up_spaces: bool,
}

impl<'t> Encoder<'t> {
    pub fn new(
        tokenizer: &'t LoadedTokenizer,
        choice: EncoderChoice,
        clean_up_spaces: bool,
    ) -> Self {
        let fast = match choice {
            EncoderChoice::Fast => tokenizer.fast.as_ref(),
            EncoderChoice::Reference => None,
        };
        Encoder {
            tokenizer,
            fast,
            clean_up_spaces,
        }
    }

    /// Whether the fast encoder is in use (for the log).
    pub fn is_fast(&self) -> bool {
        self.fast.is_some()
    }

    fn fast_for(&self, text: &str) -> Option<&'t Bpe> {
        self.fast.filter(|b| b.covers(text))
    }

    /// The first ids of `encode(text, add_special_tokens=False)`: at least `limit` of
    /// them when the text has that many (the fast path stops there), else all.
    pub fn encode_head(&self, text: &str, limit: usize) -> Result<Vec<u32>> {
        if let Some(bpe) = self.fast_for(text) {
            let mut ids = Vec::with_capacity(limit.min(1 << 16) + 8);
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

    /// Every id of `encode(text, add_special_tokens=False)`.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>> {
        self.encode_head(text, usize::MAX)
    }

    /// `len(encode(text, add_special_tokens=False))`.
    pub fn count(&self, text: &str) -> Result<usize> {
        match self.fast_for(text) {
            Some(bpe) => Ok(bpe.count(text)),
            None => Ok(self.encode(text)?.len()),
        }
    }

    /// `count(whole)`, where `whole[at..]` starts with [`Encoder::decode_head`]`(text,
    /// head)`: on the fast path the ids of that stretch are counted, not encoded again
    /// ([`Bpe::count_reusing`]).
    pub fn count_reusing(&self, whole: &str, at: usize, text: &str, head: &[u32]) -> Result<usize> {
        let reused = self
            .fast_for(whole)
            .and_then(|b| b.count_reusing(whole, at, text, head));
        match reused {
            Some(n) => Ok(n),
            None => self.count(whole),
        }
    }

    /// The ids of `text` with each token's byte span in it (`tokenizers`' offsets).
    pub fn encode_with_spans(&self, text: &str) -> Result<Vec<(u32, (usize, usize))>> {
        if let Some(spans) = self.fast_for(text).and_then(|b| b.ascii_spans(text)) {
            return Ok(spans);
        }
        let enc = self
            .tokenizer
            .reference()?
            .encode(text, false)
            .map_err(|e| anyhow::anyhow!("encode failed: {e}"))?;
        Ok(enc
            .get_ids()
            .iter()
            .copied()
            .zip(enc.get_offsets().iter().copied())
            .collect())
    }

    /// `decode(head)` for `head`, the first ids of [`Encoder::encode_head`]`(text, _)`:
    /// on the fast path, the head of `text` those ids spell.
    pub fn decode_head(&self, text: &str, head: &[u32]) -> Result<String> {
        let spelled = self
            .fast_for(text)
            .and_then(|b| b.head_len(head))
            .filter(|&len| len <= text.len());
        match spelled {
            Some(len) => Ok(self.clean_up(lossy_prefix(text, len))),
            None => self.decode(head),
        }
    }

    /// `decode(ids)`: plain decode (special tokens kept), then `clean_up_tokenization`
    /// when configured.
    pub fn decode(&self, ids: &[u32]) -> Result<String> {
        let fast = self.fast.and_then(|b| b.decode(ids));
        let text = match fast {
            Some(t) => t,
            None => self
                .tokenizer
                .reference()?
                .decode(ids, false)
                .map_err(|e| anyhow::anyhow!("decode failed: {e}"))?,
        };
        Ok(self.clean_up(text))
    }

    fn clean_up(&self, text: String) -> String {
        if self.clean_up_spaces {
            clean_up_tokenization(&text)
        } else {
            text
        }
    }
}

/// `String::from_utf8_lossy(&text.as_bytes()[..len])` without validating again what
/// `text` already is: a prefix of valid UTF-8 is valid up to the last character
/// boundary, and the part of a character after it is one incomplete sequence, one U+FFFD.
fn lossy_prefix(text: &str, len: usize) -> String {
    let mut valid = len;
    while !text.is_char_boundary(valid) {
        valid -= 1;
    }
    let mut out = String::with_capacity(len + 3);
    out.push_str(&text[..valid]);
    if valid < len {
        out.push(char::REPLACEMENT_CHARACTER);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::lossy_prefix;

    #[test]
    fn lossy_prefix_is_from_utf8_lossy_at_every_cut() {
        let text = "a é€😀 z\u{10FFFF}ß";
        for len in 0..=text.len() {
            let want = String::from_utf8_lossy(&text.as_bytes()[..len]).into_owned();
            assert_eq!(lossy_prefix(text, len), want, "cut at {len}");
        }
    }
}
