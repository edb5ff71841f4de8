//! An open-addressing hash table (linear probing over a power-of-two number of slots)
//! kept as one plain array, so that the compiled form stores the table itself and a
//! load copies it instead of inserting a million merges one by one (~75 ns each through
//! a general map; the copy is ~1 ns per byte).

use std::io::Read;

use crate::compiled::Input;
use crate::error::{BpeError, Result};

/// A key type: one value is reserved to mark an empty slot.
pub trait Key: Copy + PartialEq {
    const EMPTY: Self;
    const BYTES: usize;
    /// A well-mixed 64-bit hash; the table takes its top bits.
    fn mix(self) -> u64;
    fn put(self, out: &mut Vec<u8>);
    fn take(b: &[u8]) -> Self;
}

/// A value type stored beside the keys.
pub trait Val: Copy {
    const BYTES: usize;
    fn put(self, out: &mut Vec<u8>);
    fn take(b: &[u8]) -> Self;
}

const MUL: u64 = 0x9E37_79B9_7F4A_7C15;

/// Merge pairs: `(left << 32) | right`; ids are below `u32::MAX`, so no pair is `u64::MAX`.
impl Key for u64 {
    const EMPTY: u64 = u64::MAX;
    const BYTES: usize = 8;
    #[inline]
    fn mix(self) -> u64 {
        (self ^ (self >> 29)).wrapping_mul(MUL)
    }
    fn put(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
    fn take(b: &[u8]) -> u64 {
        u64::from_le_bytes(b.try_into().expect("8 bytes"))
    }
}

/// Packed short words ([`crate::model::pack`]): the length byte of a non-empty word is
/// never 0, so 0 is free.
impl Key for u128 {
    const EMPTY: u128 = 0;
    const BYTES: usize = 16;
    #[inline]
    fn mix(self) -> u64 {
        ((self as u64) ^ ((self >> 64) as u64).rotate_left(29)).wrapping_mul(MUL)
    }
    fn put(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
    fn take(b: &[u8]) -> u128 {
        u128::from_le_bytes(b.try_into().expect("16 bytes"))
    }
}

impl Val for u32 {
    const BYTES: usize = 4;
    fn put(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
    fn take(b: &[u8]) -> u32 {
        u32::from_le_bytes(b.try_into().expect("4 bytes"))
    }
}

impl Val for (u32, u32) {
    const BYTES: usize = 8;
    fn put(self, out: &mut Vec<u8>) {
        self.0.put(out);
        self.1.put(out);
    }
    fn take(b: &[u8]) -> (u32, u32) {
        (u32::take(&b[..4]), u32::take(&b[4..]))
    }
}

/// Fewest slots; at most 5 of every 8 slots are used, so probes stay short.
const MIN_BITS: u32 = 4;

pub struct FlatMap<K, V> {
    /// Key and value side by side: a lookup that finds its key has its value in the same
    /// cache line (the vocabulary of a large model is far bigger than the caches).
    slots: Vec<(K, V)>,
    bits: u32,
    len: usize,
}

impl<K: Key, V: Val + Default> Default for FlatMap<K, V> {
    fn default() -> Self {
        FlatMap::with_capacity(0)
    }
}

fn bits_for(n: usize) -> u32 {
    (n.saturating_mul(8) / 5 + 1)
        .next_power_of_two()
        .trailing_zeros()
        .max(MIN_BITS)
}

impl<K: Key, V: Val + Default> FlatMap<K, V> {
    /// A table for `n` entries without growing.
    pub fn with_capacity(n: usize) -> Self {
        let bits = bits_for(n);
        FlatMap {
            slots: vec![(K::EMPTY, V::default()); 1 << bits],
            bits,
            len: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    #[inline]
    fn home(&self, k: K) -> usize {
        (k.mix() >> (64 - self.bits)) as usize
    }

    /// Sets `k` to `v` (a later insert of the same key wins). `k` must not be `K::EMPTY`.
    pub fn insert(&mut self, k: K, v: V) {
        debug_assert!(k != K::EMPTY, "the empty-slot key is not a key");
        if (self.len + 1) * 8 > self.slots.len() * 5 {
            self.grow();
        }
        let mask = self.slots.len() - 1;
        let mut i = self.home(k);
        loop {
            let slot = &mut self.slots[i];
            if slot.0 == k {
                slot.1 = v;
                return;
            }
            if slot.0 == K::EMPTY {
                *slot = (k, v);
                self.len += 1;
                return;
            }
            i = (i + 1) & mask;
        }
    }

    fn grow(&mut self) {
        let old = std::mem::replace(self, FlatMap::with_capacity(self.len * 2 + 1));
        for (k, v) in old.iter() {
            self.insert(k, v);
        }
    }

    #[inline]
    pub fn get(&self, k: K) -> Option<V> {
        let mask = self.slots.len() - 1;
        let mut i = self.home(k);
        loop {
            let (at, v) = self.slots[i];
            if at == k {
                return Some(v);
            }
            if at == K::EMPTY {
                return None;
            }
            i = (i + 1) & mask;
        }
    }

    /// The entries, in slot order.
    pub fn iter(&self) -> impl Iterator<Item = (K, V)> + '_ {
        self.slots.iter().copied().filter(|(k, _)| k != &K::EMPTY)
    }

    /// The table as bytes: slot bits, then every key, then every value.
    pub fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.bits.to_le_bytes());
        out.reserve(self.slots.len() * (K::BYTES + V::BYTES));
        for &(k, _) in &self.slots {
            k.put(out);
        }
        for &(_, v) in &self.slots {
            v.put(out);
        }
    }

    /// The table [`FlatMap::write`] wrote, next in `input`. A table without an empty slot
    /// (a lookup would never end) is refused.
    pub(crate) fn read(
        input: &mut Input<impl Read>,
        bad: impl Fn(&str) -> BpeError,
    ) -> Result<Self> {
        let mut word = [0u8; 4];
        input.fill(&mut word)?;
        let bits = u32::from_le_bytes(word);
        if !(MIN_BITS..=31).contains(&bits) {
            return Err(bad("table size out of range"));
        }
        let slots = 1usize << bits;
        if slots * (K::BYTES + V::BYTES) > input.left() {
            return Err(bad("truncated table"));
        }
        let mut table = vec![(K::EMPTY, V::default()); slots];
        // Keys, then values, through a small buffer (the file is never held whole).
        let mut buf = vec![0u8; 64 << 10];
        for (each, is_key) in [(K::BYTES, true), (V::BYTES, false)] {
            let per_chunk = buf.len() / each;
            for part in table.chunks_mut(per_chunk) {
                let chunk = &mut buf[..part.len() * each];
                input.fill(chunk)?;
                for (slot, b) in part.iter_mut().zip(chunk.chunks_exact(each)) {
                    if is_key {
                        slot.0 = K::take(b);
                    } else {
                        slot.1 = V::take(b);
                    }
                }
            }
        }
        let len = table.iter().filter(|(k, _)| k != &K::EMPTY).count();
        if len == slots {
            return Err(bad("a table without an empty slot"));
        }
        Ok(FlatMap {
            slots: table,
            bits,
            len,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn bad(what: &str) -> BpeError {
        BpeError::Compiled(what.to_owned())
    }

    /// `bytes` as the body of a compiled form (its trailing digest is never reached).
    fn read<K: Key, V: Val + Default>(bytes: &[u8]) -> Result<(FlatMap<K, V>, usize)> {
        let mut input = Input::new(bytes, bytes.len() + 32)?;
        let table = FlatMap::read(&mut input, bad)?;
        Ok((table, bytes.len() - input.left()))
    }

    #[test]
    fn agrees_with_a_hash_map_through_growth_and_a_round_trip() {
        let mut flat: FlatMap<u64, (u32, u32)> = FlatMap::default();
        let mut std = HashMap::new();
        // Keys that share low bits and high bits, replaced values, and key 0.
        for i in 0..20_000u64 {
            let k = (i % 7_001) << 32 | (i * 31 % 977);
            flat.insert(k, (i as u32, !i as u32));
            std.insert(k, (i as u32, !i as u32));
        }
        assert_eq!(flat.len(), std.len());
        let mut bytes = Vec::new();
        flat.write(&mut bytes);
        bytes.extend_from_slice(b"tail");
        let (read, used) = read::<u64, (u32, u32)>(&bytes).unwrap();
        assert_eq!(&bytes[used..], b"tail");
        for m in [&flat, &read] {
            for (k, v) in &std {
                assert_eq!(m.get(*k), Some(*v));
            }
            for miss in [u64::MAX - 1, 1 << 40, 12_345 << 32] {
                assert_eq!(m.get(miss), std.get(&miss).copied());
            }
            assert_eq!(m.iter().count(), std.len());
        }
    }

    #[test]
    fn damaged_tables_are_refused() {
        let mut flat: FlatMap<u128, u32> = FlatMap::with_capacity(3);
        flat.insert(5, 1);
        let mut bytes = Vec::new();
        flat.write(&mut bytes);
        assert!(read::<u128, u32>(&bytes[..bytes.len() - 1]).is_err());
        let mut huge = bytes.clone();
        huge[..4].copy_from_slice(&40u32.to_le_bytes());
        assert!(read::<u128, u32>(&huge).is_err());
        // Every slot full: a missing key would be probed for ever.
        let slots = 1 << MIN_BITS;
        let mut full = MIN_BITS.to_le_bytes().to_vec();
        for k in 1..=slots as u128 {
            full.extend_from_slice(&k.to_le_bytes());
        }
        full.extend(std::iter::repeat_n(0u8, slots * 4));
        assert!(read::<u128, u32>(&full).is_err());
    }
}
