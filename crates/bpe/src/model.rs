//! Byte-level BPE over merge ranks: the vocabulary and merges of a `tokenizer.json`
//! turned into byte strings and integer pairs, and the merge loop `tokenizers` runs
//! (lowest rank first, leftmost among equals), with its `ignore_merges` shortcut.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use rustc_hash::FxHashMap;

use crate::flat::FlatMap;

/// Token bytes by id in one buffer (a vocabulary of 262,144 tokens is one allocation,
/// not 262,144).
#[derive(Debug, Default, Clone)]
pub struct Tokens {
    data: Vec<u8>,
    /// `ends[id]`: where token `id`'s bytes end in `data` (they start at `ends[id - 1]`).
    ends: Vec<u32>,
}

impl Tokens {
    pub fn with_capacity(tokens: usize, bytes: usize) -> Tokens {
        Tokens {
            data: Vec::with_capacity(bytes),
            ends: Vec::with_capacity(tokens),
        }
    }

    /// Appends the next id's bytes (empty for an id the model does not define).
    pub fn push(&mut self, token: &[u8]) {
        self.data.extend_from_slice(token);
        self.ends.push(self.data.len() as u32);
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The length of `id`'s bytes, if the model has that id (no read of the bytes).
    #[inline]
    pub fn len_of(&self, id: usize) -> Option<usize> {
        let end = *self.ends.get(id)?;
        let start = if id == 0 { 0 } else { self.ends[id - 1] };
        Some((end - start) as usize)
    }

    /// The bytes of `id`, if the model has that id.
    #[inline]
    pub fn get(&self, id: usize) -> Option<&[u8]> {
        let end = *self.ends.get(id)? as usize;
        let start = if id == 0 {
            0
        } else {
            self.ends[id - 1] as usize
        };
        Some(&self.data[start..end])
    }

    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        (0..self.len()).filter_map(|i| self.get(i))
    }
}

pub struct Model {
    /// Token bytes by id (empty for ids the model does not define).
    pub token_bytes: Tokens,
    /// Byte string -> id: strings of up to 15 bytes packed into the key itself (one
    /// memory access per lookup, no compare through a pointer), longer ones boxed.
    pub short: FlatMap<u128, u32>,
    pub long: FxHashMap<Box<[u8]>, u32>,
    /// The id of each single byte (a SentencePiece model's `<0xXX>` byte-fallback tokens).
    pub byte_ids: [u32; 256],
    /// (left id, right id) -> (rank, merged id).
    pub merges: FlatMap<u64, (u32, u32)>,
    /// A word that is itself a token is that token, merges or not (Llama 3 sets this).
    pub ignore_merges: bool,
}

/// `word` as a map key, if it has at most 15 bytes (the length goes in the top byte).
///
/// Built from (overlapping) loads of the word rather than through a byte buffer: a
/// buffer filled by a variable-length copy and read back whole stalls the CPU's store
/// forwarding, on every piece of every text.
#[inline]
pub fn pack(word: &[u8]) -> Option<u128> {
    let n = word.len();
    if n > 15 {
        return None;
    }
    let u64_at = |at: usize| u64::from_le_bytes(word[at..at + 8].try_into().expect("8 bytes"));
    let u32_at = |at: usize| {
        u64::from(u32::from_le_bytes(
            word[at..at + 4].try_into().expect("4 bytes"),
        ))
    };
    let (lo, hi) = match n {
        // Bytes 8..n are the top of the last eight bytes.
        8..=15 => (u64_at(0), (u64_at(n - 8) >> (8 * (16 - n) - 1)) >> 1),
        // Bytes 4..n are the top of the last four bytes.
        4..=7 => (u32_at(0) | ((u32_at(n - 4) >> (8 * (8 - n))) << 32), 0),
        _ => (
            word.iter()
                .enumerate()
                .fold(0, |acc, (i, &b)| acc | (u64::from(b) << (8 * i))),
            0,
        ),
    };
    Some(u128::from(lo) | (u128::from(hi) << 64) | ((n as u128) << 120))
}

#[inline]
fn pair_key(a: u32, b: u32) -> u64 {
    (u64::from(a) << 32) | u64::from(b)
}

impl Model {
    #[inline]
    pub fn lookup(&self, word: &[u8]) -> Option<u32> {
        match pack(word) {
            Some(key) => self.short.get(key),
            None => self.long.get(word).copied(),
        }
    }

    pub fn insert(&mut self, word: &[u8], id: u32) {
        match pack(word) {
            Some(key) => self.short.insert(key, id),
            None => {
                self.long.insert(word.into(), id);
            }
        }
    }

    pub fn merge_of(&self, a: u32, b: u32) -> Option<(u32, u32)> {
        self.merges.get(pair_key(a, b))
    }

    /// The tokens of one pre-tokenized piece (its raw bytes), appended to `out`.
    pub fn encode_word(&self, word: &[u8], out: &mut Vec<u32>) {
        if self.ignore_merges {
            if let Some(id) = self.lookup(word) {
                out.push(id);
                return;
            }
        }
        if word.len() > SCAN_MAX {
            self.merge_with_heap(word, out);
        } else {
            self.merge_by_scan(word, out);
        }
    }

    /// The merge loop as a scan for the lowest rank: quadratic, and the fastest for the
    /// short pieces text is made of.
    pub fn merge_by_scan(&self, word: &[u8], out: &mut Vec<u32>) {
        self.scan_ids(
            word.iter().map(|&b| self.byte_ids[b as usize]).collect(),
            out,
        );
    }

    /// The merges of a word given as its first symbols (byte tokens, or a SentencePiece
    /// model's chars), by scan or by heap as its length suits.
    pub fn merge_ids(&self, syms: Vec<u32>, out: &mut Vec<u32>) {
        if syms.len() > SCAN_MAX {
            self.heap_ids(syms, out);
        } else {
            self.scan_ids(syms, out);
        }
    }

    fn scan_ids(&self, mut syms: Vec<u32>, out: &mut Vec<u32>) {
        // ranks[i]: the rank of merging syms[i] with syms[i + 1].
        let mut ranks: Vec<(u32, u32)> = syms
            .windows(2)
            .map(|w| self.merge_of(w[0], w[1]).unwrap_or((u32::MAX, 0)))
            .collect();
        loop {
            let mut best = u32::MAX;
            let mut at = 0;
            for (i, &(rank, _)) in ranks.iter().enumerate() {
                if rank < best {
                    best = rank;
                    at = i;
                }
            }
            if best == u32::MAX {
                break;
            }
            let merged = ranks[at].1;
            syms[at] = merged;
            syms.remove(at + 1);
            ranks.remove(at);
            if at > 0 {
                ranks[at - 1] = self.merge_of(syms[at - 1], merged).unwrap_or((u32::MAX, 0));
            }
            if at < ranks.len() {
                ranks[at] = self.merge_of(merged, syms[at + 1]).unwrap_or((u32::MAX, 0));
            }
        }
        out.extend_from_slice(&syms);
    }

    /// The same merges in the same order (lowest rank first, leftmost among equals) with
    /// a heap of candidate pairs over a linked list of symbols: O(n log n), so a hostile
    /// piece of a million letters takes a fraction of a second, not minutes. Candidates
    /// made stale by an earlier merge are recognised and skipped when popped.
    pub fn merge_with_heap(&self, word: &[u8], out: &mut Vec<u32>) {
        self.heap_ids(
            word.iter().map(|&b| self.byte_ids[b as usize]).collect(),
            out,
        );
    }

    fn heap_ids(&self, mut sym: Vec<u32>, out: &mut Vec<u32>) {
        const END: u32 = u32::MAX;
        let n = sym.len();
        let mut next: Vec<u32> = (1..=n as u32)
            .map(|i| if i as usize == n { END } else { i })
            .collect();
        let mut prev: Vec<u32> = (0..n as u32)
            .map(|i| if i == 0 { END } else { i - 1 })
            .collect();
        let mut alive = vec![true; n];
        // Min-heap of (rank, left position, right position, merged id).
        let mut heap: BinaryHeap<Reverse<(u32, u32, u32, u32)>> = BinaryHeap::with_capacity(n);
        for i in 0..n.saturating_sub(1) {
            if let Some((rank, id)) = self.merge_of(sym[i], sym[i + 1]) {
                heap.push(Reverse((rank, i as u32, i as u32 + 1, id)));
            }
        }
        while let Some(Reverse((rank, left, right, id))) = heap.pop() {
            let (l, r) = (left as usize, right as usize);
            if !alive[l] || next[l] != right || self.merge_of(sym[l], sym[r]) != Some((rank, id)) {
                continue; // stale: one side was merged since this candidate was pushed
            }
            sym[l] = id;
            alive[r] = false;
            next[l] = next[r];
            if next[r] != END {
                prev[next[r] as usize] = left;
            }
            if prev[l] != END {
                let p = prev[l];
                if let Some((rk, nid)) = self.merge_of(sym[p as usize], id) {
                    heap.push(Reverse((rk, p, left, nid)));
                }
            }
            if next[l] != END {
                let q = next[l];
                if let Some((rk, nid)) = self.merge_of(id, sym[q as usize]) {
                    heap.push(Reverse((rk, left, q, nid)));
                }
            }
        }
        let mut i = 0u32;
        while i != END {
            out.push(sym[i as usize]);
            i = next[i as usize];
        }
    }
}

/// Pieces up to this many bytes merge by scan (faster when short); longer ones by heap.
pub const SCAN_MAX: usize = 48;

#[cfg(test)]
mod tests {
    use super::*;

    /// The key as its definition says: the bytes, then the length in the top byte.
    fn pack_by_buffer(word: &[u8]) -> Option<u128> {
        (word.len() <= 15).then(|| {
            let mut buf = [0u8; 16];
            buf[..word.len()].copy_from_slice(word);
            buf[15] = word.len() as u8;
            u128::from_le_bytes(buf)
        })
    }

    #[test]
    fn pack_is_the_bytes_and_the_length() {
        let bytes: Vec<u8> = (0..40u32).map(|i| (i * 97 + 13) as u8 | 0x80).collect();
        for start in 0..8 {
            for n in 0..=17 {
                let word = &bytes[start..start + n];
                assert_eq!(pack(word), pack_by_buffer(word), "{word:?}");
            }
        }
        assert_eq!(
            pack(b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"),
            pack_by_buffer(&[0xff; 15])
        );
    }
}
