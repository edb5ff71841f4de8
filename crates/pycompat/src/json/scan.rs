//! The runs of bytes that the JSON reader and writer pass through untouched, found
//! eight bytes at a time (string bodies are most of a metadata row).

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Some byte of `x` is below `n` (exact as a yes/no for `n <= 128`).
#[inline]
fn has_less(x: u64, n: u8) -> bool {
    x.wrapping_sub(ONES * u64::from(n)) & !x & HIGHS != 0
}

/// Some byte of `x` is `b`.
#[inline]
fn has_byte(x: u64, b: u8) -> bool {
    let v = x ^ (ONES * u64::from(b));
    v.wrapping_sub(ONES) & !v & HIGHS != 0
}

#[inline]
fn run(b: &[u8], chunk_plain: impl Fn(u64) -> bool, byte_plain: impl Fn(u8) -> bool) -> usize {
    let mut i = 0;
    while let Some(chunk) = b.get(i..i + 8) {
        if !chunk_plain(u64::from_le_bytes(chunk.try_into().expect("8 bytes"))) {
            break;
        }
        i += 8;
    }
    while b.get(i).is_some_and(|&c| byte_plain(c)) {
        i += 1;
    }
    i
}

/// The length of the prefix of `b` without `"`, `\` or a control byte (below 0x20): what
/// a JSON string's body holds as it is.
pub fn string_run(b: &[u8]) -> usize {
    run(
        b,
        |x| !(has_less(x, 0x20) || has_byte(x, b'"') || has_byte(x, b'\\')),
        |c| c >= 0x20 && c != b'"' && c != b'\\',
    )
}

/// The length of the prefix of `b` of printable ASCII other than `"` and `\`
/// (0x20..=0x7E): what `json.dumps` (ensure_ascii) writes as it is.
pub fn ascii_run(b: &[u8]) -> usize {
    run(
        b,
        |x| {
            x & HIGHS == 0
                && !(has_less(x, 0x20)
                    || has_byte(x, 0x7F)
                    || has_byte(x, b'"')
                    || has_byte(x, b'\\'))
        },
        |c| (0x20..0x7F).contains(&c) && c != b'"' && c != b'\\',
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn string_plain(c: u8) -> bool {
        c >= 0x20 && c != b'"' && c != b'\\'
    }

    fn ascii_plain(c: u8) -> bool {
        (0x20..0x7F).contains(&c) && c != b'"' && c != b'\\'
    }

    #[test]
    fn every_byte_at_every_position_of_a_chunk() {
        for filler in [b'a', b' ', b'~', 0xC3] {
            for len in 0..20 {
                for at in 0..len {
                    for byte in 0..=255u8 {
                        let mut b = vec![filler; len];
                        b[at] = byte;
                        let want =
                            |plain: fn(u8) -> bool| b.iter().take_while(|&&c| plain(c)).count();
                        assert_eq!(string_run(&b), want(string_plain), "{b:?}");
                        assert_eq!(ascii_run(&b), want(ascii_plain), "{b:?}");
                    }
                }
            }
        }
    }
}
