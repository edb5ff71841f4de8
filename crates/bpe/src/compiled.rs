//! The compiled form of a model: what `load` derives from a 9 MB `tokenizer.json` (about
//! 130 ms of parsing and hashing), as flat little-endian tables that load in a few
//! milliseconds: the vocabulary and merge tables are stored as the hash tables
//! themselves ([`FlatMap`]), so a load copies them rather than rebuilding them. Callers
//! key it by the tokenizer file's digest. The form ends with a BLAKE3 digest of
//! everything before it; a damaged, truncated or foreign file is refused whole, never
//! half-used.

use crate::error::{BpeError, Result};
use rustc_hash::FxHashMap;

use crate::added::Added;
use crate::flat::FlatMap;
use crate::model::Model;
use crate::Shape;

const MAGIC: &[u8; 8] = b"PRBPE\x00\x00\x03";

fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_u32(out, b.len() as u32);
    out.extend_from_slice(b);
}

/// `model`, its shape and added tokens as bytes, labelled with the source file's digest.
pub fn encode(model: &Model, shape: Shape, added: &Added, source_digest: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 << 20);
    out.extend_from_slice(MAGIC);
    put_bytes(&mut out, source_digest.as_bytes());
    put_u32(&mut out, u32::from(model.ignore_merges));
    let (kind, param, nfc) = match shape {
        Shape::ByteLevel { max_digits, nfc } => (0, max_digits as u32, nfc),
        Shape::SentencePiece { prepend } => (1, u32::from(prepend), false),
    };
    put_u32(&mut out, kind);
    put_u32(&mut out, param);
    put_u32(&mut out, u32::from(nfc));
    put_u32(&mut out, added.tokens().len() as u32);
    for (content, id) in added.tokens() {
        put_bytes(&mut out, content.as_bytes());
        put_u32(&mut out, *id);
    }
    put_u32(&mut out, model.token_bytes.len() as u32);
    for t in model.token_bytes.iter() {
        put_bytes(&mut out, t);
    }
    model.short.write(&mut out);
    // Words over 15 bytes, as the model maps them (where two ids share bytes, the one the
    // model kept).
    let mut long: Vec<(&[u8], u32)> = model.long.iter().map(|(k, v)| (&k[..], *v)).collect();
    long.sort_unstable();
    put_u32(&mut out, long.len() as u32);
    for (word, id) in long {
        put_bytes(&mut out, word);
        put_u32(&mut out, id);
    }
    model.merges.write(&mut out);
    let digest = blake3::hash(&out);
    out.extend_from_slice(digest.as_bytes());
    out
}

struct Cursor<'b> {
    b: &'b [u8],
    at: usize,
}

impl<'b> Cursor<'b> {
    fn take(&mut self, n: usize) -> Result<&'b [u8]> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.b.len());
        let end = end.ok_or_else(|| bad("truncated"))?;
        let s = &self.b[self.at..end];
        self.at = end;
        Ok(s)
    }

    fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }

    fn table<K: crate::flat::Key, V: crate::flat::Val + Default>(
        &mut self,
    ) -> Result<FlatMap<K, V>> {
        let (table, used) = FlatMap::read(&self.b[self.at..], bad)?;
        self.at += used;
        Ok(table)
    }

    fn bytes(&mut self) -> Result<&'b [u8]> {
        let n = self.u32()? as usize;
        self.take(n)
    }

    /// A count of entries of at least `each` bytes, bounded by what is left (so that a
    /// crafted count cannot make us allocate beyond the file's size).
    fn count(&mut self, each: usize) -> Result<usize> {
        let n = self.u32()? as usize;
        if n.saturating_mul(each) > self.b.len() - self.at {
            return Err(bad("a count larger than the file"));
        }
        Ok(n)
    }
}

fn bad(what: &str) -> BpeError {
    BpeError::Compiled(what.to_owned())
}

fn ensure(ok: bool, what: &str) -> Result<()> {
    if ok {
        Ok(())
    } else {
        Err(bad(what))
    }
}

/// The model, shape and added tokens in `bytes`, if they are intact and were compiled
/// from the file with `source_digest`.
pub fn decode(bytes: &[u8], source_digest: &str) -> Result<(Model, Shape, Added)> {
    ensure(bytes.len() > MAGIC.len() + 32, "too short")?;
    let (body, digest) = bytes.split_at(bytes.len() - 32);
    ensure(blake3::hash(body).as_bytes() == digest, "digest mismatch")?;
    ensure(&body[..8] == MAGIC, "not this format or version")?;
    let mut c = Cursor { b: body, at: 8 };
    ensure(
        c.bytes()? == source_digest.as_bytes(),
        "made from another tokenizer file",
    )?;
    let ignore_merges = c.u32()? == 1;
    let (kind, param, nfc) = (c.u32()?, c.u32()?, c.u32()? == 1);
    let shape = match kind {
        0 => Shape::ByteLevel {
            max_digits: param as usize,
            nfc,
        },
        1 => Shape::SentencePiece {
            prepend: param == 1,
        },
        _ => return Err(bad("unknown shape")),
    };
    let n_added = c.count(8)?;
    let mut added = Vec::with_capacity(n_added);
    for _ in 0..n_added {
        let content = String::from_utf8(c.bytes()?.to_vec()).map_err(|_| bad("added token"))?;
        ensure(!content.is_empty(), "empty added token")?;
        added.push((content, c.u32()?));
    }
    let n = c.count(4)?;
    let mut token_bytes = crate::model::Tokens::with_capacity(n, body.len() / 4);
    for _ in 0..n {
        token_bytes.push(c.bytes()?);
    }
    let short = c.table::<u128, u32>()?;
    let n_long = c.count(8)?;
    let mut long = FxHashMap::default();
    long.reserve(n_long);
    for _ in 0..n_long {
        let word = c.bytes()?;
        ensure(word.len() > 15, "a short word in the long table")?;
        long.insert(word.into(), c.u32()?);
    }
    let merges = c.table::<u64, (u32, u32)>()?;
    ensure(c.at == body.len(), "trailing bytes")?;
    // Every id the tables give must be a token: encoding indexes by them.
    let known = |id: u32| (id as usize) < n;
    ensure(
        short.iter().all(|(_, id)| known(id))
            && long.values().all(|&id| known(id))
            && merges.iter().all(|(pair, (_, id))| {
                known(id) && known((pair >> 32) as u32) && known(pair as u32)
            }),
        "an id beyond the vocabulary",
    )?;
    let mut model = Model {
        token_bytes,
        short,
        long,
        byte_ids: [0; 256],
        merges,
        ignore_merges,
    };
    model.byte_ids =
        crate::load::byte_ids(&model, shape).map_err(|_| bad("a byte has no token"))?;
    Ok((model, shape, Added::new(added)))
}
