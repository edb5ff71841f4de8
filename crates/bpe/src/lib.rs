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
pub mod compiled;
pub mod error;
pub mod load;
pub mod model;
pub mod pretok;
pub mod tables;

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};

pub use error::BpeError;
use error::Result;
use rustc_hash::FxHashMap;

use model::Model;

/// Words cached per thread before the cache is cleared (bounds memory on huge corpora).
const CACHE_WORDS: usize = 1 << 17;
/// Longest piece the word cache keeps.
const CACHE_WORD_BYTES: usize = 256;

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// Words that needed merging -> their tokens.
type WordCache = FxHashMap<Box<[u8]>, Box<[u32]>>;

/// Slots of the per-thread table of recent whole-word tokens.
const HOT_SLOTS: usize = 1 << 12;

/// Recent short pieces that are one token, direct-mapped: a few common words make most
/// of a text, and this 80 KB table answers them without touching the 3 MB vocabulary.
struct Hot {
    keys: Vec<u128>,
    ids: Vec<u32>,
}

impl Hot {
    fn new() -> Hot {
        // Key 0 (an empty word) is never looked up, so it marks an empty slot.
        Hot {
            keys: vec![0; HOT_SLOTS],
            ids: vec![0; HOT_SLOTS],
        }
    }

    #[inline]
    fn slot(key: u128) -> usize {
        let h = ((key as u64) ^ ((key >> 64) as u64).rotate_left(29))
            .wrapping_mul(0x9E37_79B9_7F4A_7C15);
        (h >> 52) as usize
    }
}

struct Caches {
    model: u64,
    words: WordCache,
    hot: Hot,
}

thread_local! {
    /// One set of caches per thread, for the model used last.
    static CACHE: RefCell<Caches> = RefCell::new(Caches { model: 0, words: WordCache::default(), hot: Hot::new() });
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
            return Err(error::unsupported(
                "its added tokens share no common prefix to screen texts by",
            ));
        }
        Ok(Bpe {
            model: loaded.model,
            guard,
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
        })
    }

    /// The compiled form of this encoder (see [`compiled`]), labelled with the digest of
    /// the tokenizer file it came from.
    pub fn to_compiled(&self, source_digest: &str) -> Vec<u8> {
        compiled::encode(&self.model, &self.guard, source_digest)
    }

    /// An encoder from its compiled form; an error if the bytes are damaged, of another
    /// format version, or compiled from another file than `source_digest` names.
    pub fn from_compiled(bytes: &[u8], source_digest: &str) -> Result<Bpe> {
        let (model, guard) = compiled::decode(bytes, source_digest)?;
        Ok(Bpe {
            model,
            guard,
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
        })
    }

    /// The merge model (for tests that compare its two merge loops).
    pub fn model(&self) -> &Model {
        &self.model
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
            if cache.model != self.id {
                cache.model = self.id;
                cache.words.clear();
                cache.hot = Hot::new();
            }
            if cache.words.len() > CACHE_WORDS {
                cache.words.clear();
            }
            let Caches { words, hot, .. } = &mut *cache;
            for piece in pretok::pieces(text) {
                if out.len() >= limit {
                    break;
                }
                let word = piece.as_bytes();
                let key = model::pack(word);
                if let Some(key) = key.filter(|_| self.model.ignore_merges) {
                    let slot = Hot::slot(key);
                    if hot.keys[slot] == key {
                        out.push(hot.ids[slot]);
                        continue;
                    }
                    if let Some(&id) = self.model.short.get(&key) {
                        hot.keys[slot] = key;
                        hot.ids[slot] = id;
                        out.push(id);
                        continue;
                    }
                } else if let Some(id) = self.model.lookup(word) {
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
                // Long pieces are rare and would only fill the cache (a hostile row's
                // million-letter title must not stay in memory).
                if word.len() <= CACHE_WORD_BYTES {
                    words.insert(word.into(), out[start..].into());
                }
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
