//! An exact, fast encoder for the BPE tokenizers the recipes meet: Llama 3 and Qwen
//! style byte-level BPE, and SentencePiece-style BPE with byte fallback (Llama 2, Gemma).
//!
//! It gives the same ids as `tokenizers` (`encode(text, add_special_tokens=False)`),
//! added tokens included, for every text it [`Bpe::covers`] (all texts, except texts a
//! Qwen-style NFC normalizer would change), so callers send the rest to `tokenizers`.
//! It is faster because it does only what these files need: a hand-written
//! pre-tokenizer instead of a regex engine, no offsets, whole-word vocabulary hits and a
//! per-thread word cache; and it can stop after the first N tokens.

pub mod added;
pub mod bytelevel;
pub mod classes;
pub mod compiled;
pub mod error;
pub mod flat;
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

/// Slots of the per-thread table of recent whole-word tokens (2^HOT_BITS).
const HOT_BITS: u32 = 14;
const HOT_SLOTS: usize = 1 << HOT_BITS;

/// Recent short pieces that are one token, direct-mapped: a few common words make most
/// of a text, and this 320 KB table (it stays in L2) answers them without a trip to the
/// vocabulary table (megabytes, in L3 at best).
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
        (flat::Key::mix(key) >> (64 - HOT_BITS)) as usize
    }
}

struct Caches {
    model: u64,
    words: WordCache,
    hot: Hot,
}

/// Models whose caches a thread keeps at once: the audit encodes with four tokenizers
/// on the same pool, and one cache per thread would be emptied at every switch.
const CACHED_MODELS: usize = 4;

thread_local! {
    /// Per thread, the caches of the models used last (most recent last).
    static CACHE: RefCell<Vec<Caches>> = const { RefCell::new(Vec::new()) };
}

/// What a tokenizer does to a text before its BPE merges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Byte-level BPE over the pieces of a GPT-style split: Llama 3 (numbers in runs of
    /// up to 3 digits, no normalizer) and Qwen (single digits, NFC first).
    ByteLevel { max_digits: usize, nfc: bool },
    /// SentencePiece-style BPE: every " " becomes "▁" (and one "▁" is prepended, Llama
    /// 2), the whole text is one word, and a char missing from the vocabulary becomes its
    /// UTF-8 bytes as `<0xXX>` tokens.
    SentencePiece { prepend: bool },
}

pub struct Bpe {
    model: Model,
    shape: Shape,
    added: added::Added,
    /// SentencePiece: chars that some token has right before a "▁" (Gemma's `>▁</`).
    /// A merge never joins a word to the "▁" starting the next one after any other char,
    /// so the text is cut into words there and each word merged (and cached) alone.
    sticky: Vec<char>,
    id: u64,
}

impl std::fmt::Debug for Bpe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bpe")
            .field("shape", &self.shape)
            .field("vocab", &self.model.token_bytes.len())
            .field("merges", &self.model.merges.len())
            .field("added", &self.added.tokens().len())
            .finish()
    }
}

/// Whether no piece of the Llama 3 / Qwen split pattern holds byte `a` and then byte `b`:
/// an ASCII letter or digit then a space (letter and digit runs stop at the space, and
/// no other alternative takes a letter or digit), or a newline then an ASCII letter or
/// digit (letter runs take no newline before them, and the alternatives that take
/// newlines take nothing after them but whitespace).
pub fn hard_boundary(a: u8, b: u8) -> bool {
    (a.is_ascii_alphanumeric() && b == b' ') || (a == b'\n' && b.is_ascii_alphanumeric())
}

/// The metaspace SentencePiece models write for " ".
const METASPACE_CHAR: char = '\u{2581}';

impl Bpe {
    /// From a `tokenizer.json`'s bytes; an error says why this file is not supported.
    pub fn from_tokenizer_json(json: &[u8]) -> Result<Bpe> {
        let loaded = load::load(json)?;
        Ok(Bpe::new(loaded.model, loaded.shape, loaded.added))
    }

    fn new(model: Model, shape: Shape, added: added::Added) -> Bpe {
        let mut sticky = Vec::new();
        if matches!(shape, Shape::SentencePiece { .. }) {
            for token in model
                .token_bytes
                .iter()
                .filter_map(|t| std::str::from_utf8(t).ok())
            {
                let mut prev = None;
                for c in token.chars() {
                    if c == METASPACE_CHAR {
                        if let Some(p) = prev.filter(|&p| p != METASPACE_CHAR) {
                            if !sticky.contains(&p) {
                                sticky.push(p);
                            }
                        }
                    }
                    prev = Some(c);
                }
            }
        }
        Bpe {
            model,
            shape,
            added,
            sticky,
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
        }
    }

    /// The compiled form of this encoder (see [`compiled`]), labelled with the digest of
    /// the tokenizer file it came from.
    pub fn to_compiled(&self, source_digest: &str) -> Vec<u8> {
        compiled::encode(&self.model, self.shape, &self.added, source_digest)
    }

    /// An encoder from its compiled form; an error if the bytes are damaged, of another
    /// format version, or compiled from another file than `source_digest` names.
    pub fn from_compiled(bytes: &[u8], source_digest: &str) -> Result<Bpe> {
        let (model, shape, added) = compiled::decode(bytes, source_digest)?;
        Ok(Bpe::new(model, shape, added))
    }

    /// [`Bpe::from_compiled`] of the `len` bytes `r` gives, read in pieces (a cached
    /// file: its bytes are never held whole beside the tables made from them).
    pub fn from_compiled_reader(
        r: impl std::io::Read,
        len: usize,
        source_digest: &str,
    ) -> Result<Bpe> {
        let (model, shape, added) = compiled::decode_from(r, len, source_digest)?;
        Ok(Bpe::new(model, shape, added))
    }

    pub fn shape(&self) -> Shape {
        self.shape
    }

    /// The merge model (for tests that compare its two merge loops).
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// Whether [`Bpe::encode`] is exact for `text`: always, except for a text that a
    /// Qwen-style NFC normalizer would change (rare; `tokenizers` takes those).
    pub fn covers(&self, text: &str) -> bool {
        match self.shape {
            Shape::ByteLevel { nfc: true, .. } => {
                text.is_ascii()
                    || unicode_normalization::is_nfc_quick(text.chars())
                        == unicode_normalization::IsNormalized::Yes
            }
            _ => true,
        }
    }

    /// Appends the ids of `text` to `out`, stopping after the piece that brings `out` to
    /// at least `limit` ids (a SentencePiece text between added tokens is one piece).
    /// Callers check [`Bpe::covers`] first.
    pub fn encode_into(&self, text: &str, limit: usize, out: &mut Vec<u32>) {
        self.added.each(text, |segment| {
            match segment {
                added::Segment::Token(id) => out.push(id),
                added::Segment::Text(t) => match self.shape {
                    Shape::ByteLevel { max_digits, .. } => {
                        self.encode_byte_level(t, max_digits, limit, out)
                    }
                    Shape::SentencePiece { prepend } => {
                        self.encode_sentencepiece(t, prepend, limit, out)
                    }
                },
            }
            out.len() < limit
        });
    }

    /// A SentencePiece text: normalized (" " -> "▁", one "▁" prepended for Llama 2),
    /// cut into words where no merge can cross, each word merged on its own.
    fn encode_sentencepiece(&self, text: &str, prepend: bool, limit: usize, out: &mut Vec<u32>) {
        let mut norm = String::with_capacity(text.len() + 2 * text.len() / 5 + 3);
        if prepend {
            norm.push(METASPACE_CHAR);
        }
        norm.extend(
            text.chars()
                .map(|c| if c == ' ' { METASPACE_CHAR } else { c }),
        );
        self.with_cache(|words, _| {
            let mut start = 0;
            let mut prev = None;
            for (i, c) in norm.char_indices() {
                if c == METASPACE_CHAR
                    && prev.is_some_and(|p| p != METASPACE_CHAR && !self.sticky.contains(&p))
                {
                    self.sentencepiece_word(&norm[start..i], words, out);
                    start = i;
                    if out.len() >= limit {
                        return;
                    }
                }
                prev = Some(c);
            }
            self.sentencepiece_word(&norm[start..], words, out);
        });
    }

    /// One normalized word: chars to their tokens (or byte tokens), then merges.
    fn sentencepiece_word(&self, word: &str, words: &mut WordCache, out: &mut Vec<u32>) {
        if let Some(ids) = words.get(word.as_bytes()) {
            out.extend_from_slice(ids);
            return;
        }
        let mut syms = Vec::with_capacity(word.len());
        let mut buf = [0u8; 4];
        for c in word.chars() {
            let c = c.encode_utf8(&mut buf);
            match self.model.lookup(c.as_bytes()) {
                Some(id) => syms.push(id),
                None => syms.extend(c.bytes().map(|b| self.model.byte_ids[b as usize])),
            }
        }
        let start = out.len();
        self.model.merge_ids(syms, out);
        if word.len() <= CACHE_WORD_BYTES {
            words.insert(word.as_bytes().into(), out[start..].into());
        }
    }

    /// This thread's word caches for this model (the least recently used model's are
    /// dropped to make room).
    fn with_cache<R>(&self, f: impl FnOnce(&mut WordCache, &mut Hot) -> R) -> R {
        CACHE.with(|caches| {
            let mut caches = caches.borrow_mut();
            match caches.iter().position(|c| c.model == self.id) {
                Some(i) if i + 1 == caches.len() => {}
                Some(i) => {
                    let c = caches.remove(i);
                    caches.push(c);
                }
                None => {
                    if caches.len() == CACHED_MODELS {
                        caches.remove(0);
                    }
                    caches.push(Caches {
                        model: self.id,
                        words: WordCache::default(),
                        hot: Hot::new(),
                    });
                }
            }
            let cache = caches.last_mut().expect("pushed above");
            if cache.words.len() > CACHE_WORDS {
                cache.words.clear();
            }
            let Caches { words, hot, .. } = cache;
            f(words, hot)
        })
    }

    fn encode_byte_level(&self, text: &str, max_digits: usize, limit: usize, out: &mut Vec<u32>) {
        self.with_cache(|words, hot| {
            for piece in pretok::pieces_with(text, max_digits) {
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
                    if let Some(id) = self.model.short.get(key) {
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

    /// The ids of an ASCII `text` with each token's byte span in it, as `tokenizers`
    /// reports offsets; `None` for other texts (non-ASCII, or holding an added token),
    /// which callers send to `tokenizers`.
    pub fn ascii_spans(&self, text: &str) -> Option<Vec<(u32, (usize, usize))>> {
        let plain = matches!(
            self.added.segments(text).as_slice(),
            [] | [added::Segment::Text(_)]
        );
        if !text.is_ascii() || !plain {
            return None;
        }
        let ids = self.encode(text);
        let mut spans = Vec::with_capacity(ids.len());
        let mut at = 0;
        for (i, &id) in ids.iter().enumerate() {
            let token = self.model.token_bytes.get(id as usize)?;
            let len = match self.shape {
                Shape::ByteLevel { .. } => token.len(),
                // A byte token stands for one byte; otherwise each char of the token is
                // one char of the text ("▁" for a space), less the prepended "▁".
                Shape::SentencePiece { prepend } => {
                    let chars = if self.model.byte_ids.contains(&id) {
                        1
                    } else {
                        std::str::from_utf8(token).ok()?.chars().count()
                    };
                    chars - usize::from(prepend && i == 0)
                }
            };
            // The prepended "▁" stands where the text's first char does.
            let end = if i == 0 { (at + len).max(1) } else { at + len };
            spans.push((id, (at, end)));
            at += len;
        }
        (at == text.len()).then_some(spans)
    }

    /// For `ids`, a head of [`Bpe::encode`]`(text)`: how many bytes of `text` they spell,
    /// so that their [`Bpe::decode`] is `text[..n]` read as lossy UTF-8, with no copy
    /// of token bytes. Byte-level tokens spell their pieces exactly; `None` where
    /// [`Bpe::decode`] would be `None` (an added token, an unknown id, not byte-level).
    pub fn head_len(&self, ids: &[u32]) -> Option<usize> {
        if !matches!(self.shape, Shape::ByteLevel { .. }) {
            return None;
        }
        let mut n = 0;
        for &id in ids {
            let len = self.model.token_bytes.len_of(id as usize)?;
            if len == 0 {
                return None;
            }
            n += len;
        }
        Some(n)
    }

    /// `count(whole)`, for a `whole` (a prompt) that holds at `at` the head of `text`
    /// that `head`, the first ids of `encode(text)`, spell: those ids are counted, not
    /// encoded again, up to the last place in that head where a letter or digit meets
    /// a space, and only what is around them is encoded. `None` where this does not
    /// apply.
    ///
    /// Why it is exact: no piece of the split pattern holds a letter or digit and then
    /// a space, or a newline and then a letter or digit ([`hard_boundary`]); the pieces
    /// after such a place do not depend on the text before it (the pattern looks only
    /// ahead), nor do the pieces before it on the text after it (they end there whatever
    /// follows). So the pieces, and the ids, of `whole` are those of its three parts.
    pub fn count_reusing(&self, whole: &str, at: usize, text: &str, head: &[u32]) -> Option<usize> {
        if !matches!(self.shape, Shape::ByteLevel { nfc: false, .. }) || self.added.any_in(whole) {
            return None;
        }
        let spelled = self.head_len(head)?;
        let w = whole.as_bytes();
        let region = w.get(at..at.checked_add(spelled)?)?;
        if region != text.as_bytes().get(..spelled)? {
            // The clean-up changed it, or the head ends inside a character.
            return None;
        }
        if at > 0 && !hard_boundary(w[at - 1], *w.get(at)?) {
            return None;
        }
        // The last hard boundary inside the region (not at its end, whose next byte is
        // not the text's).
        let cut = (1..spelled)
            .rev()
            .find(|&i| hard_boundary(region[i - 1], region[i]))?;
        // The ids before `cut`: the ids from the end of the head back to it.
        let (mut len, mut kept) = (spelled, head.len());
        while len > cut {
            kept -= 1;
            len -= self.model.token_bytes.len_of(head[kept] as usize)?;
        }
        if len != cut {
            return None;
        }
        Some(self.count(&whole[..at]) + kept + self.count(&whole[at + cut..]))
    }

    /// `tokenizers`' plain decode (byte-level decoder, lossy UTF-8); `None` if an id is
    /// not one of the model's (e.g. an added token) or the model is not byte-level.
    pub fn decode(&self, ids: &[u32]) -> Option<String> {
        if !matches!(self.shape, Shape::ByteLevel { .. }) {
            return None;
        }
        let mut bytes = Vec::with_capacity(ids.len() * 8);
        for &id in ids {
            let t = self.model.token_bytes.get(id as usize)?;
            if t.is_empty() {
                return None;
            }
            // Tokens are a few bytes: a byte loop beats a call to memcpy for each.
            if t.len() <= 8 {
                for &b in t {
                    bytes.push(b);
                }
            } else {
                bytes.extend_from_slice(t);
            }
        }
        // Valid UTF-8 (the usual case) becomes the string without a copy.
        Some(
            String::from_utf8(bytes)
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
        )
    }
}
