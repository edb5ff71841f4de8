//! Compiled tokenizer forms (the cache files in `~/.cache/pricer`): any damage, and any
//! crafted file whose trailing digest was recomputed to match (the digest detects damage,
//! it does not authenticate), gives an error or an encoder that encodes without panicking;
//! never a panic, an abort or an allocation beyond the file's size.
//!
//! Each input is a list of edits to a valid compiled form of a small tokenizer (the
//! bundled Llama 3.1 or Llama 2 file cut to its first 2,000 tokens by `seeds.py`), so that
//! mutations start deep in the format instead of at its magic number.
#![no_main]

use std::io::Read;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use pricer_bpe::Bpe;

const DIGEST: &str = "fuzz";

/// Compiled forms of the two shapes: byte-level (Llama 3.1) and SentencePiece (Llama 2),
/// from the small tokenizers `seeds.py` writes.
fn bases() -> &'static [Vec<u8>; 2] {
    static BASES: OnceLock<[Vec<u8>; 2]> = OnceLock::new();
    BASES.get_or_init(|| {
        ["llama-3.1", "llama-2"].map(|name| {
            let path = format!(
                "{}/corpus/tokenizer_json/{name}.json",
                env!("CARGO_MANIFEST_DIR")
            );
            let json = std::fs::read(&path).expect("run seeds.py first");
            let bpe = Bpe::from_tokenizer_json(&json).expect("a supported shape");
            bpe.to_compiled(DIGEST)
        })
    })
}

/// Hands out the bytes a few at a time, as a file read in pieces may.
struct Pieces<'a>(&'a [u8], usize);

impl Read for Pieces<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.1 = self.1 % 7 + 1;
        let n = buf.len().min(self.1).min(self.0.len());
        buf[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, edits)) = data.split_first() else {
        return;
    };
    let mut bytes = bases()[usize::from(mode & 1)].clone();
    for e in edits.chunks_exact(4) {
        if bytes.is_empty() {
            break;
        }
        // The offset spans the whole form whatever its size.
        let at = (usize::from(u16::from_le_bytes([e[0], e[1]])) * bytes.len()) >> 16;
        match e[2] % 4 {
            0 => bytes[at] = e[3],
            1 => bytes.insert(at, e[3]),
            2 => drop(bytes.remove(at)),
            _ => bytes.truncate(at),
        }
    }
    if mode & 2 != 0 && bytes.len() >= 32 {
        let body = bytes.len() - 32;
        let digest = blake3::hash(&bytes[..body]);
        bytes[body..].copy_from_slice(digest.as_bytes());
    }
    let whole = Bpe::from_compiled(&bytes, DIGEST);
    let pieces = Bpe::from_compiled_reader(Pieces(&bytes, 0), bytes.len(), DIGEST);
    assert_eq!(
        whole.is_ok(),
        pieces.is_ok(),
        "read whole and in pieces disagree"
    );
    if let Ok(bpe) = whole {
        for text in ["Price is $123.00", " hello  world\n\n", "日本語 ÿ \u{0}"] {
            if bpe.covers(text) {
                let ids = bpe.encode(text);
                let _ = bpe.decode(&ids);
            }
        }
    }
});
