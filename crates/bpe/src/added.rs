//! Added tokens (`<|eot_id|>`, Gemma's `\n\n`, Qwen's `<think>`): `tokenizers` cuts them
//! out of the raw text first, leftmost-longest, and encodes only the text between them.
//! This does the same for the files where that is the whole story: every added token
//! matched on the raw text (`normalized: false`, or no normalizer), none stripping
//! spaces or limited to whole words.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use serde::Deserialize;

use crate::error::{unsupported, Result};

/// An entry of `added_tokens` in tokenizer.json. The flags are optional so that a file
/// without them is refused as unsupported rather than guessed at.
#[derive(Debug, Clone, Deserialize)]
pub struct AddedToken {
    pub id: u32,
    pub content: String,
    #[serde(default)]
    pub single_word: Option<bool>,
    #[serde(default)]
    pub lstrip: Option<bool>,
    #[serde(default)]
    pub rstrip: Option<bool>,
    #[serde(default)]
    pub normalized: Option<bool>,
}

/// The added tokens of one tokenizer and an automaton that finds them.
pub struct Added {
    tokens: Vec<(String, u32)>,
    finder: Option<AhoCorasick>,
}

/// A stretch of the input: text for the model, or one added token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Segment<'t> {
    Text(&'t str),
    Token(u32),
}

impl Added {
    /// From tokenizer.json's entries; `has_normalizer` because a token matched on the
    /// normalized text is found in a second pass this does not implement.
    pub fn from_entries(entries: &[AddedToken], has_normalizer: bool) -> Result<Added> {
        let mut normalized = None;
        for t in entries {
            let flags = [t.single_word, t.lstrip, t.rstrip];
            if flags.iter().any(|f| *f != Some(false)) {
                return Err(unsupported(format!(
                    "added token {:?} strips spaces, matches whole words only, or does not say",
                    t.content
                )));
            }
            let n = t.normalized.ok_or_else(|| {
                unsupported(format!(
                    "added token {:?} has no normalized flag",
                    t.content
                ))
            })?;
            if *normalized.get_or_insert(n) != n || (n && has_normalizer) {
                return Err(unsupported(
                    "some added tokens are matched on the normalized text",
                ));
            }
            if t.content.is_empty() {
                return Err(unsupported("an added token is empty"));
            }
        }
        Ok(Added::new(
            entries.iter().map(|t| (t.content.clone(), t.id)).collect(),
        ))
    }

    /// From (content, id) pairs, in the file's order.
    pub fn new(tokens: Vec<(String, u32)>) -> Added {
        let finder = (!tokens.is_empty()).then(|| {
            AhoCorasickBuilder::new()
                .match_kind(MatchKind::LeftmostLongest)
                .build(tokens.iter().map(|(c, _)| c.as_str()))
                .expect("added tokens are few and short")
        });
        Added { tokens, finder }
    }

    pub fn tokens(&self) -> &[(String, u32)] {
        &self.tokens
    }

    /// Calls `f` on the text's segments in order (no empty text segments) until it
    /// returns false.
    pub fn each<'t>(&self, text: &'t str, mut f: impl FnMut(Segment<'t>) -> bool) {
        let Some(finder) = &self.finder else {
            if !text.is_empty() {
                f(Segment::Text(text));
            }
            return;
        };
        let mut at = 0;
        for m in finder.find_iter(text) {
            if m.start() > at && !f(Segment::Text(&text[at..m.start()])) {
                return;
            }
            if !f(Segment::Token(self.tokens[m.pattern().as_usize()].1)) {
                return;
            }
            at = m.end();
        }
        if at < text.len() {
            f(Segment::Text(&text[at..]));
        }
    }

    /// Whether any added token occurs in `text`.
    pub fn any_in(&self, text: &str) -> bool {
        self.finder.as_ref().is_some_and(|f| f.is_match(text))
    }

    /// The text's segments, collected.
    pub fn segments<'t>(&self, text: &'t str) -> Vec<Segment<'t>> {
        let mut out = Vec::new();
        self.each(text, |s| {
            out.push(s);
            true
        });
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leftmost_longest_with_text_between() {
        let a = Added::new(vec![
            ("\n".into(), 1),
            ("\n\n".into(), 2),
            ("<b>".into(), 3),
        ]);
        assert_eq!(
            a.segments("x\n\n\ny<b>"),
            [
                Segment::Text("x"),
                Segment::Token(2),
                Segment::Token(1),
                Segment::Text("y"),
                Segment::Token(3)
            ]
        );
        assert_eq!(a.segments(""), []);
        assert_eq!(Added::new(vec![]).segments("ab"), [Segment::Text("ab")]);
    }
}
