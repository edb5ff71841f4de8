//! Reading a `tokenizer.json` into a [`Model`], only when the file describes exactly one
//! of the shapes this crate implements ([`Shape`]): Llama 3 and Qwen style byte-level
//! BPE, or SentencePiece-style BPE with byte fallback (Llama 2, Gemma). Anything else is
//! refused with the reason, and callers use `tokenizers` instead.

use std::borrow::Cow;

use crate::error::{damaged, unsupported, Result};
use rustc_hash::FxHashMap;
use serde::Deserialize;
use serde_json::Value;

use crate::added::{Added, AddedToken};
use crate::bytelevel;
use crate::flat::FlatMap;
use crate::model::Model;
use crate::pretok::{LLAMA3_PATTERN, QWEN_PATTERN};
use crate::Shape;

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

fn field<'v>(v: &'v Value, key: &str) -> &'v Value {
    v.get(key).unwrap_or(&Value::Null)
}

/// The pre-tokenizer of a byte-level file: the longest digit run its Split keeps
/// together (3 for Llama 3, 1 for Qwen).
fn byte_level_pre_tokenizer(p: &Value) -> Result<usize> {
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
    let regex = field(field(split, "pattern"), "Regex");
    let digits = if regex == LLAMA3_PATTERN {
        3
    } else if regex == QWEN_PATTERN {
        1
    } else {
        return Err(unsupported(
            "pre_tokenizer's Split is neither Llama 3's nor Qwen's regex",
        ));
    };
    if field(split, "type") != "Split"
        || field(split, "behavior") != "Isolated"
        || field(split, "invert") != false
    {
        return Err(unsupported("pre_tokenizer's Split is not isolated"));
    }
    if field(bytelevel, "type") != "ByteLevel"
        || field(bytelevel, "add_prefix_space") != false
        || field(bytelevel, "use_regex") != false
    {
        return Err(unsupported(
            "pre_tokenizer's ByteLevel adds a prefix space or its own regex",
        ));
    }
    Ok(digits)
}

/// `Replace " " -> "▁"`.
fn is_space_to_metaspace(n: &Value) -> bool {
    field(n, "type") == "Replace"
        && field(field(n, "pattern"), "String") == " "
        && field(n, "content") == "\u{2581}"
}

/// The SentencePiece normalizers: Llama 2's (Prepend "▁", Replace " " -> "▁") and
/// Gemma's (the Replace alone). Whether a "▁" is prepended.
fn sentencepiece_normalizer(n: &Value) -> Option<bool> {
    if is_space_to_metaspace(n) {
        return Some(false);
    }
    let parts = field(n, "normalizers").as_array()?;
    match (field(n, "type").as_str(), parts.as_slice()) {
        (Some("Sequence"), [prepend, replace])
            if field(prepend, "type") == "Prepend"
                && field(prepend, "prepend") == "\u{2581}"
                && is_space_to_metaspace(replace) =>
        {
            Some(true)
        }
        _ => None,
    }
}

/// The shape of the file's text pipeline, or why it is not one of ours.
fn shape(f: &File) -> Result<Shape> {
    if f.model.byte_fallback {
        let prepend = sentencepiece_normalizer(&f.normalizer).ok_or_else(|| {
            unsupported("a byte-fallback model without a SentencePiece normalizer")
        })?;
        // Gemma splits on " " after the normalizer made every " " a "▁": nothing to split.
        let p = &f.pre_tokenizer;
        let noop_split = field(p, "type") == "Split"
            && field(field(p, "pattern"), "String") == " "
            && field(p, "invert") == false;
        if !p.is_null() && !noop_split {
            return Err(unsupported(
                "a byte-fallback model with a pre-tokenizer that splits",
            ));
        }
        return Ok(Shape::SentencePiece { prepend });
    }
    let nfc = match field(&f.normalizer, "type").as_str() {
        _ if f.normalizer.is_null() => false,
        Some("NFC") => true,
        _ => return Err(unsupported("its normalizer is neither none nor NFC")),
    };
    let max_digits = byte_level_pre_tokenizer(&f.pre_tokenizer)?;
    if field(&f.decoder, "type") != "ByteLevel" {
        return Err(unsupported("its decoder is not ByteLevel"));
    }
    Ok(Shape::ByteLevel { max_digits, nfc })
}

pub struct Loaded {
    pub model: Model,
    pub shape: Shape,
    pub added: Added,
}

/// The model in `json`, or why this crate cannot encode with it exactly.
pub fn load(json: &[u8]) -> Result<Loaded> {
    let f: File =
        serde_json::from_slice(json).map_err(|e| damaged(format!("not a tokenizer.json: {e}")))?;
    let shape = shape(&f)?;
    let added = Added::from_entries(&f.added_tokens, !f.normalizer.is_null())?;
    let m = f.model;
    let no_affix = |a: &Option<String>| a.as_deref().is_none_or(str::is_empty);
    if m.kind != "BPE"
        || m.dropout.is_some()
        || !no_affix(&m.continuing_subword_prefix)
        || !no_affix(&m.end_of_word_suffix)
    {
        return Err(unsupported(
            "its model is not a plain BPE (type, dropout or affixes)",
        ));
    }
    let byte_level = matches!(shape, Shape::ByteLevel { .. });
    let alphabet = bytelevel::byte_chars();
    let size = check_ids(&m.vocab.0, &f.added_tokens, byte_level)?;
    let mut model = Model {
        token_bytes: crate::model::Tokens::default(),
        short: FlatMap::with_capacity(m.vocab.0.len()),
        long: FxHashMap::default(),
        byte_ids: [0; 256],
        merges: FlatMap::with_capacity(m.merges.len()),
        ignore_merges: m.ignore_merges,
    };
    // Merges name tokens by their vocab strings: look them up as written.
    let mut by_id: Vec<Vec<u8>> = vec![Vec::new(); size];
    let mut by_str: FxHashMap<&str, u32> = FxHashMap::default();
    by_str.reserve(m.vocab.0.len());
    for (s, id) in &m.vocab.0 {
        let bytes = if byte_level {
            bytelevel::to_bytes(s, &alphabet).ok_or_else(|| {
                unsupported(format!(
                    "vocab entry {s:?} is not in the byte-level alphabet"
                ))
            })?
        } else {
            s.as_bytes().to_vec()
        };
        model.insert(&bytes, *id);
        by_id[*id as usize] = bytes;
        by_str.insert(s.as_ref(), *id);
    }
    for t in &by_id {
        model.token_bytes.push(t);
    }
    model.byte_ids = byte_ids(&model, shape).map_err(unsupported)?;
    read_merges(&mut model, &m.merges, &by_str)?;
    Ok(Loaded {
        model,
        shape,
        added,
    })
}

/// The dense id table's size, after refusing ids no tokenizer library could mean: a
/// vocabulary id far beyond the vocabulary's size (a table that large would be for ids
/// that do not exist), and an added token whose id the vocabulary gives to another token.
fn check_ids(
    vocab: &[(Cow<'_, str>, u32)],
    added: &[AddedToken],
    byte_level: bool,
) -> Result<usize> {
    let size = vocab
        .iter()
        .map(|&(_, id)| id as usize + 1)
        .max()
        .unwrap_or(0);
    if size > 2 * vocab.len() + 1024 {
        let (s, id) = vocab
            .iter()
            .max_by_key(|(_, id)| *id)
            .expect("a largest id");
        return Err(damaged(format!(
            "vocabulary token {s:?} has id {id}, far beyond the {} tokens of the vocabulary",
            vocab.len()
        )));
    }
    let alphabet = bytelevel::byte_chars();
    let by_id: FxHashMap<u32, &str> = vocab.iter().map(|(s, id)| (*id, s.as_ref())).collect();
    for a in added {
        let Some(&s) = by_id.get(&a.id) else { continue };
        let same = s == a.content
            || (byte_level
                && bytelevel::to_bytes(s, &alphabet).as_deref() == Some(a.content.as_bytes()));
        if !same {
            return Err(damaged(format!(
                "added token {:?} has id {}, which the vocabulary gives to {s:?}",
                a.content, a.id
            )));
        }
    }
    Ok(size)
}

/// The merges, by the ids of the tokens they join, with their ranks.
fn read_merges(
    model: &mut Model,
    merges: &[MergeJson<'_>],
    by_str: &FxHashMap<&str, u32>,
) -> Result<()> {
    let mut joined = String::new();
    for (rank, merge) in merges.iter().enumerate() {
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
    Ok(())
}

/// The token of each byte: the byte itself (byte-level), or `<0xXX>` (byte fallback).
pub fn byte_ids(model: &Model, shape: Shape) -> Result<[u32; 256], String> {
    let mut ids = [0; 256];
    for b in 0..=255u8 {
        let token = match shape {
            Shape::ByteLevel { .. } => vec![b],
            Shape::SentencePiece { .. } => format!("<0x{b:02X}>").into_bytes(),
        };
        ids[b as usize] = model
            .lookup(&token)
            .ok_or_else(|| format!("byte {b:#04x} has no token"))?;
    }
    Ok(ids)
}
