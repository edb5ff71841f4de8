//! Reading a `tokenizer.json` into a [`Model`], only when the file describes exactly what
//! this crate implements: no normalizer, the Llama 3 split regex then byte-level bytes,
//! a plain byte-level BPE model and decoder. Anything else is refused with the reason, and
//! callers use `tokenizers` instead.

use std::borrow::Cow;

use crate::error::{damaged, unsupported, Result};
use rustc_hash::FxHashMap;
use serde::Deserialize;
use serde_json::Value;

use crate::bytelevel;
use crate::model::Model;
use crate::pretok::LLAMA3_PATTERN;

#[derive(Deserialize)]
struct File<'a> {
    normalizer: Value,
    pre_tokenizer: Value,
    decoder: Value,
    #[serde(borrow)]
    model: ModelJson<'a>,
    #[serde(default)]
    added_tokens: Vec<AddedToken>,
}

#[derive(Deserialize)]
struct ModelJson<'a> {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    dropout: Option<f64>,
    #[serde(default)]
    continuing_subword_prefix: Option<String>,
    #[serde(default)]
    end_of_word_suffix: Option<String>,
    #[serde(default)]
    byte_fallback: bool,
    #[serde(default)]
    ignore_merges: bool,
    /// Borrowed where the JSON has no escapes: most of a 9 MB file is these two.
    #[serde(borrow)]
    vocab: Entries<'a>,
    #[serde(borrow)]
    merges: Vec<MergeJson<'a>>,
}

/// A JSON object's entries, in file order, keys borrowed where possible.
struct Entries<'a>(Vec<(Cow<'a, str>, u32)>);

impl<'de: 'a, 'a> Deserialize<'de> for Entries<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for Visit<'a> {
            type Value = Entries<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object of token -> id")
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(
                self,
                mut map: M,
            ) -> Result<Self::Value, M::Error> {
                let mut out = Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some((k, v)) = map.next_entry::<Borrowed<'a>, u32>()? {
                    out.push((k.0, v));
                }
                Ok(Entries(out))
            }
        }
        d.deserialize_map(Visit(std::marker::PhantomData))
    }
}

/// A string borrowed from the input unless it has escapes.
struct Borrowed<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Borrowed<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Inner<'a>(#[serde(borrow)] Cow<'a, str>);
        Inner::deserialize(d).map(|i| Borrowed(i.0))
    }
}

/// Merges are written as `"a b"` or as `["a", "b"]`.
#[derive(Deserialize)]
#[serde(untagged)]
enum MergeJson<'a> {
    #[serde(borrow)]
    Joined(Cow<'a, str>),
    Pair(#[serde(borrow)] Cow<'a, str>, #[serde(borrow)] Cow<'a, str>),
}

#[derive(Deserialize)]
pub struct AddedToken {
    pub id: u32,
    pub content: String,
}

fn field<'v>(v: &'v Value, key: &str) -> &'v Value {
    v.get(key).unwrap_or(&Value::Null)
}

fn check_pre_tokenizer(p: &Value) -> Result<()> {
    let parts = match field(p, "type").as_str() {
        Some("Sequence") => field(p, "pretokenizers")
            .as_array()
            .ok_or_else(|| damaged("pre_tokenizer Sequence without pretokenizers"))?,
        _ => {
            return Err(unsupported(
                "pre_tokenizer is not a Sequence (Split, ByteLevel)",
            ))
        }
    };
    let [split, bytelevel] = parts.as_slice() else {
        return Err(unsupported(
            "pre_tokenizer is not exactly (Split, ByteLevel)",
        ));
    };
    if field(split, "type") != "Split"
        || field(field(split, "pattern"), "Regex") != LLAMA3_PATTERN
        || field(split, "behavior") != "Isolated"
        || field(split, "invert") != false
    {
        return Err(unsupported(
            "pre_tokenizer's Split is not Llama 3's regex, isolated",
        ));
    }
    if field(bytelevel, "type") != "ByteLevel"
        || field(bytelevel, "add_prefix_space") != false
        || field(bytelevel, "use_regex") != false
    {
        return Err(unsupported(
            "pre_tokenizer's ByteLevel adds a prefix space or its own regex",
        ));
    }
    Ok(())
}

pub struct Loaded {
    pub model: Model,
    pub added: Vec<AddedToken>,
}

/// The model in `json`, or why this crate cannot encode with it exactly.
pub fn load(json: &[u8]) -> Result<Loaded> {
    let f: File =
        serde_json::from_slice(json).map_err(|e| damaged(format!("not a tokenizer.json: {e}")))?;
    if !f.normalizer.is_null() {
        return Err(unsupported("it has a normalizer"));
    }
    check_pre_tokenizer(&f.pre_tokenizer)?;
    if field(&f.decoder, "type") != "ByteLevel" {
        return Err(unsupported("its decoder is not ByteLevel"));
    }
    let m = f.model;
    if m.kind != "BPE"
        || m.dropout.is_some()
        || m.byte_fallback
        || m.continuing_subword_prefix.is_some()
        || m.end_of_word_suffix.is_some()
    {
        return Err(unsupported(
            "its model is not a plain BPE (type, dropout, byte_fallback or affixes)",
        ));
    }
    let alphabet = bytelevel::byte_chars();
    let size = m
        .vocab
        .0
        .iter()
        .map(|&(_, id)| id as usize + 1)
        .max()
        .unwrap_or(0);
    // Ids index a dense table: a sparse vocabulary (valid, but no real file has one) is
    // left to tokenizers rather than allocating for ids that do not exist.
    if size > 2 * m.vocab.0.len() + 1024 {
        return Err(unsupported(format!(
            "its ids are sparse (largest {}, {} tokens)",
            size - 1,
            m.vocab.0.len()
        )));
    }
    let mut model = Model {
        token_bytes: vec![Box::default(); size],
        short: FxHashMap::default(),
        long: FxHashMap::default(),
        byte_ids: [0; 256],
        merges: FxHashMap::default(),
        ignore_merges: m.ignore_merges,
    };
    model.short.reserve(m.vocab.0.len());
    // Merges name tokens by their vocab strings: look them up as written.
    let mut by_str: FxHashMap<&str, u32> = FxHashMap::default();
    by_str.reserve(m.vocab.0.len());
    for (s, id) in &m.vocab.0 {
        let bytes = bytelevel::to_bytes(s, &alphabet).ok_or_else(|| {
            unsupported(format!(
                "vocab entry {s:?} is not in the byte-level alphabet"
            ))
        })?;
        model.insert(&bytes, *id);
        model.token_bytes[*id as usize] = bytes.into();
        by_str.insert(s.as_ref(), *id);
    }
    for b in 0..=255u8 {
        model.byte_ids[b as usize] = model
            .lookup(&[b])
            .ok_or_else(|| unsupported(format!("byte {b:#04x} has no token")))?;
    }
    model.merges.reserve(m.merges.len());
    let mut joined = String::new();
    for (rank, merge) in m.merges.iter().enumerate() {
        let (a, b) = match merge {
            MergeJson::Joined(s) => s
                .split_once(' ')
                .ok_or_else(|| damaged(format!("merge {s:?} is not two tokens")))?,
            MergeJson::Pair(a, b) => (a.as_ref(), b.as_ref()),
        };
        joined.clear();
        joined.push_str(a);
        joined.push_str(b);
        let id = |s: &str| {
            by_str
                .get(s)
                .copied()
                .ok_or_else(|| damaged(format!("merge {a:?} {b:?} names a token not in the vocab")))
        };
        // Later duplicates win, as in tokenizers' HashMap built from the list.
        model.merges.insert(
            (u64::from(id(a)?) << 32) | u64::from(id(b)?),
            (rank as u32, id(&joined)?),
        );
    }
    Ok(Loaded {
        model,
        added: f.added_tokens,
    })
}
