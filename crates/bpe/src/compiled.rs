//! The compiled form of a model: what `load` derives from a 9 MB `tokenizer.json` (about
//! 130 ms of parsing and hashing), as flat little-endian tables that load in a few
//! milliseconds: the vocabulary and merge tables are stored as the hash tables
//! themselves ([`FlatMap`]), so a load copies them rather than rebuilding them. Callers
//! key it by the tokenizer file's digest. The form ends with a BLAKE3 digest of
//! everything before it; a damaged, truncated or foreign file is refused whole, never
//! half-used.

use std::io::Read;

use crate::error::{BpeError, Result};
use rustc_hash::FxHashMap;

use crate::added::Added;
use crate::flat::FlatMap;
use crate::model::Model;
use crate::Shape;

/// The format's magic and version. The version also covers what loading a file checks:
/// a compiled form made before a check was added is rebuilt (and checked) on next use
/// (4: ids far beyond the vocabulary and added tokens clashing with it are refused).
const MAGIC: &[u8; 8] = b"PRBPE\x00\x00\x04";

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

/// The compiled form as it is read: from a file in pieces, hashed on the way, so that a
/// load never holds the file's bytes beside the tables made from them (for Gemma 3, 31 MB
/// more at the peak). Every count is checked against the bytes left before anything is
/// allocated for it.
pub(crate) struct Input<R> {
    r: R,
    /// Bytes of the body (everything before the trailing digest) not handed out yet.
    left: usize,
    /// Bytes of the body not read from `r` yet.
    unread: usize,
    /// Read from `r` in large pieces and hashed whole (hashing many small pieces one by
    /// one costs more than the hash itself).
    buf: Vec<u8>,
    at: usize,
    hasher: blake3::Hasher,
}

const PIECE: usize = 256 << 10;

impl<R: Read> Input<R> {
    pub(crate) fn new(r: R, len: usize) -> Result<Self> {
        ensure(len > MAGIC.len() + 32, "too short")?;
        Ok(Input {
            r,
            left: len - 32,
            unread: len - 32,
            buf: Vec::new(),
            at: 0,
            hasher: blake3::Hasher::new(),
        })
    }

    pub(crate) fn left(&self) -> usize {
        self.left
    }

    /// Fills `out` with the next bytes of the body.
    pub(crate) fn fill(&mut self, mut out: &mut [u8]) -> Result<()> {
        if out.len() > self.left {
            return Err(bad("truncated"));
        }
        self.left -= out.len();
        // Before this fill, `left` was exactly the buffered plus the unread bytes: a
        // refill here always brings some.
        while !out.is_empty() {
            if self.at == self.buf.len() {
                self.refill()?;
            }
            let n = out.len().min(self.buf.len() - self.at);
            out[..n].copy_from_slice(&self.buf[self.at..self.at + n]);
            self.at += n;
            out = &mut out[n..];
        }
        Ok(())
    }

    fn refill(&mut self) -> Result<()> {
        let n = self.unread.min(PIECE);
        self.buf.resize(n, 0);
        self.r
            .read_exact(&mut self.buf)
            .map_err(|e| bad(&format!("unreadable: {e}")))?;
        self.hasher.update(&self.buf);
        self.unread -= n;
        self.at = 0;
        Ok(())
    }

    fn u32(&mut self) -> Result<u32> {
        let mut b = [0u8; 4];
        self.fill(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    /// A length-prefixed byte string, into `buf` (cleared first).
    fn bytes_into<'a>(&mut self, buf: &'a mut Vec<u8>) -> Result<&'a [u8]> {
        let n = self.u32()? as usize;
        ensure(n <= self.left, "truncated")?;
        buf.clear();
        buf.resize(n, 0);
        self.fill(buf)?;
        Ok(buf)
    }

    /// A count of entries of at least `each` bytes, bounded by what is left (so that a
    /// crafted count cannot make us allocate beyond the file's size).
    fn count(&mut self, each: usize) -> Result<usize> {
        let n = self.u32()? as usize;
        if n.saturating_mul(each) > self.left {
            return Err(bad("a count larger than the file"));
        }
        Ok(n)
    }

    fn table<K: crate::flat::Key, V: crate::flat::Val + Default>(
        &mut self,
    ) -> Result<FlatMap<K, V>> {
        FlatMap::read(self, bad)
    }

    /// The end: every byte of the body read, and the digest after it equal to theirs.
    fn finish(mut self) -> Result<()> {
        ensure(self.left == 0 && self.unread == 0, "trailing bytes")?;
        let mut digest = [0u8; 32];
        self.r
            .read_exact(&mut digest)
            .map_err(|_| bad("truncated"))?;
        ensure(
            self.hasher.finalize().as_bytes() == &digest,
            "digest mismatch",
        )?;
        let mut extra = [0u8; 1];
        ensure(
            matches!(self.r.read(&mut extra), Ok(0)),
            "bytes after the digest",
        )
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
    decode_from(bytes, bytes.len(), source_digest)
}

/// [`decode`] of the `len` bytes `r` gives (a file, read in pieces). Nothing parsed is
/// returned unless the trailing digest matches every byte before it.
pub fn decode_from(r: impl Read, len: usize, source_digest: &str) -> Result<(Model, Shape, Added)> {
    let mut c = Input::new(r, len)?;
    let mut buf = Vec::new();
    let mut magic = [0u8; 8];
    c.fill(&mut magic)?;
    ensure(&magic == MAGIC, "not this format or version")?;
    ensure(
        c.bytes_into(&mut buf)? == source_digest.as_bytes(),
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
        let content =
            String::from_utf8(c.bytes_into(&mut buf)?.to_vec()).map_err(|_| bad("added token"))?;
        ensure(!content.is_empty(), "empty added token")?;
        added.push((content, c.u32()?));
    }
    let n = c.count(4)?;
    let mut token_bytes = crate::model::Tokens::with_capacity(n, c.left() / 4);
    for _ in 0..n {
        token_bytes.push(c.bytes_into(&mut buf)?);
    }
    let short = c.table::<u128, u32>()?;
    let n_long = c.count(8)?;
    let mut long = FxHashMap::default();
    long.reserve(n_long);
    for _ in 0..n_long {
        let word = c.bytes_into(&mut buf)?;
        ensure(word.len() > 15, "a short word in the long table")?;
        let word: Box<[u8]> = word.into();
        long.insert(word, c.u32()?);
    }
    let merges = c.table::<u64, (u32, u32)>()?;
    c.finish()?;
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
