//! An exact, fast encoder for Llama-3-style byte-level BPE tokenizers.
//!
//! It gives the same ids as `tokenizers` (`encode(text, add_special_tokens=False)`) for
//! every text that contains no added token, and says so ([`Bpe::covers`]) so callers can
//! send the rest to `tokenizers`. It is faster because it does only what these files
//! need: a hand-written pre-tokenizer instead of a regex engine, no offsets, no
//! normalizer pass, whole-word vocabulary hits and a per-thread word cache; and it can
//! stop after the first N tokens.

pub mod bytelevel;
pub mod classes;
pub mod load;
pub mod model;
pub mod pretok;
pub mod tables;

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{bail, Result};
use rustc_hash::FxHashMap;

use model::Model;

/// Words cached per thread before the cache is cleared (bounds memory on huge corpora).
const CACHE_WORDS: usize = 1 << 17;

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// Words that needed merging -> their tokens.
type WordCache = FxHashMap<Box<[u8]>, Box<[u32]>>;

thread_local! {
    /// (model id, cache): one cache per thread, for the model used last.
    static CACHE: RefCell<(u64, WordCache)> = RefCell::new((0, WordCache::default()));
}

pub struct Bpe {
    model: Model,
    /// Every added token starts with this; texts containing it go to `tokenizers`.
    guard: String,
    id: u64,
}

impl std::fmt::Debug for Bpe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bpe")
            .field("vocab", &self.model.token_bytes.len())
            .field("merges", &self.model.merges.len())
            .field("guard", &self.guard)
            .finish()
    }
}

impl Bpe {
    /// From a `tokenizer.json`'s bytes; an error says why this file is not supported.
    pub fn from_tokenizer_json(json: &[u8]) -> Result<Bpe> {
        let loaded = load::load(json)?;
        let mut guard: Option<&str> = None;
        for t in &loaded.added {
            guard = Some(match guard {
                None => &t.content,
                Some(g) => {
                    let common = g
                        .char_indices()
                        .zip(t.content.chars())
                        .find(|((_, a), b)| a != b)
                        .map_or(g.len().min(t.content.len()), |((i, _), _)| i);
                    &g[..common]
                }
            });
        }
        let guard = guard.unwrap_or("").to_owned();
        if guard.is_empty() && !loaded.added.is_empty() {
            bail!("its added tokens share no common prefix to screen texts by");
        }
        Ok(Bpe {
            model: loaded.model,
            guard,
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
        })
    }

    /// Whether [`Bpe::encode`] is exact for `text` (it holds no added token).
    pub fn covers(&self, text: &str) -> bool {
        self.guard.is_empty() || !text.contains(&self.guard)
    }

    /// Appends the ids of `text` to `out`, stopping after the piece that brings `out` to
    /// at least `limit` ids. Callers check [`Bpe::covers`] first.
    pub fn encode_into(&self, text: &str, limit: usize, out: &mut Vec<u32>) {
        CACHE.with(|cache| {
            let mut cache = cache.borrow_mut();
            if cache.0 != self.id || cache.1.len() > CACHE_WORDS {
                cache.0 = self.id;
                cache.1.clear();
            }
            let words = &mut cache.1;
            for piece in pretok::pieces(text) {
                if out.len() >= limit {
                    break;
                }
                let word = piece.as_bytes();
                if let Some(id) = self.model.lookup(word) {
                    if self.model.ignore_merges || word.len() == 1 {
                        out.push(id);
                        continue;
                    }
                }
                if let Some(ids) = words.get(word) {
                    out.extend_from_slice(ids);
                    continue;
                }
                let start = out.len();
                self.model.encode_word(word, out);
                words.insert(word.into(), out[start..].into());
            }
        });
    }

    /// All ids of `text`.
    pub fn encode(&self, text: &str) -> Vec<u32> {
        let mut out = Vec::with_capacity(text.len() / 3);
        self.encode_into(text, usize::MAX, &mut out);
        out
    }

    /// The number of ids of `text`.
    pub fn count(&self, text: &str) -> usize {
        let mut out = Vec::with_capacity(text.len() / 3);
        self.encode_into(text, usize::MAX, &mut out);
        out.len()
    }

    /// `tokenizers`' plain decode (byte-level decoder, lossy UTF-8); `None` if an id is
    /// not one of the model's (e.g. an added token).
    pub fn decode(&self, ids: &[u32]) -> Option<String> {
        let mut bytes = Vec::with_capacity(ids.len() * 4);
        for &id in ids {
            let t = self.model.token_bytes.get(id as usize)?;
            if t.is_empty() {
                return None;
            }
            bytes.extend_from_slice(t);
        }
        Some(String::from_utf8_lossy(&bytes).into_owned())
    }
}
