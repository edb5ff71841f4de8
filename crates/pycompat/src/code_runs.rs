//! `re.sub(r"\b(?=[A-Z0-9]{7,}\b)(?=.*[A-Z])(?=.*\d)[A-Z0-9]+\b", "", text)` with Python
//! `re` semantics on a `str`, without lookarounds (Rust's `regex` has none, and its `\b`
//! counts combining marks as word characters where Python's does not).
//!
//! A maximal run of ASCII `[A-Z0-9]` is deleted when (a) it is at least 7 long, (b) the
//! characters before and after it are not word characters (`str.isalnum()` or `_`), and
//! (c) the text from the run's first character to the next `\n` holds an ASCII capital
//! and a Unicode decimal digit (`str.isdecimal()`): the `.*` lookaheads stop only at
//! `\n`, so they see the whole rest of the LINE, not of the word. Any other run is a
//! partial match no position of the regex can make, so nothing else is deleted.

use crate::json::{decode_at, decode_before};
use crate::unicode::Unicode;

fn is_run_char(b: u8) -> bool {
    b.is_ascii_uppercase() || b.is_ascii_digit()
}

fn is_word(cp: u32, py: &Unicode) -> bool {
    cp == u32::from(b'_') || char::from_u32(cp).is_some_and(|c| py.is_alnum(c))
}

/// For each line (by its start), the byte offsets of its last ASCII capital and last
/// decimal digit, so the lookaheads are answered in constant time per run.
struct LineFacts {
    last_upper: Option<usize>,
    last_decimal: Option<usize>,
    end: usize,
}

fn line_facts(text: &[u8], start: usize, py: &Unicode) -> LineFacts {
    let end = memchr::memchr(b'\n', &text[start..]).map_or(text.len(), |i| start + i);
    let (mut last_upper, mut last_decimal) = (None, None);
    let mut i = start;
    while i < end {
        let (cp, len) = decode_at(text, i);
        if (0x41..=0x5A).contains(&cp) {
            last_upper = Some(i);
        }
        if char::from_u32(cp).is_some_and(|c| py.is_decimal(c)) {
            last_decimal = Some(i);
        }
        i += len;
    }
    LineFacts {
        last_upper,
        last_decimal,
        end,
    }
}

/// The text (generalised UTF-8) with every product-code run deleted.
pub fn delete_code_runs(text: &[u8], py: &Unicode) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut line: Option<LineFacts> = None;
    let mut i = 0;
    while i < text.len() {
        if !is_run_char(text[i]) {
            let next = memchr_run_start(&text[i..]).map_or(text.len(), |k| i + k);
            out.extend_from_slice(&text[i..next]);
            i = next;
            continue;
        }
        let j = i + text[i..].iter().take_while(|&&b| is_run_char(b)).count();
        let before_ok = i == 0 || !is_word(decode_before(text, i), py);
        let after_ok = j == text.len() || !is_word(decode_at(text, j).0, py);
        if j - i >= 7 && before_ok && after_ok {
            if line.as_ref().is_none_or(|l| l.end < i) {
                let start = memchr::memrchr(b'\n', &text[..i]).map_or(0, |k| k + 1);
                line = Some(line_facts(text, start, py));
            }
            let l = line.as_ref().expect("set above");
            if l.last_upper.is_some_and(|p| p >= i) && l.last_decimal.is_some_and(|p| p >= i) {
                i = j;
                continue;
            }
        }
        out.extend_from_slice(&text[i..j]);
        i = j;
    }
    out
}

/// Offset of the first ASCII capital or digit.
fn memchr_run_start(b: &[u8]) -> Option<usize> {
    b.iter().position(|&c| is_run_char(c))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::unicode::PY312;

    fn del(s: &str) -> String {
        String::from_utf8(delete_code_runs(s.as_bytes(), PY312)).unwrap()
    }

    #[test]
    fn the_lookaheads_see_the_rest_of_the_line() {
        // Expected values: Python 3.12's re.sub with the recipe's pattern.
        assert_eq!(del("ABCDEFGH and 5"), " and 5");
        assert_eq!(del("1234567 then A"), " then A");
        assert_eq!(del("ABCDEFGH\n5"), "ABCDEFGH\n5");
        assert_eq!(del("5 ABCDEFGH"), "5 ABCDEFGH");
        assert_eq!(del("B07XYZ1234 x"), " x");
        assert_eq!(del("ABC123"), "ABC123");
        assert_eq!(del("xB07XYZ1234 1"), "xB07XYZ1234 1");
        assert_eq!(del("B07XYZ1234_ 1"), "B07XYZ1234_ 1");
        assert_eq!(del("B07XYZ1234\u{301} 1"), "\u{301} 1");
        assert_eq!(del("\u{e9}ABCDEFGH1"), "\u{e9}ABCDEFGH1");
        assert_eq!(del("ABCDEFGH \u{663}"), " \u{663}");
        assert_eq!(del("ABCDEFGH \u{b2}"), "ABCDEFGH \u{b2}");
        assert_eq!(del("ABCDEFGH\r5"), "\r5");
        assert_eq!(del("A1 BCDEFGH2 CDEFGHI3\nDEFGHIJ4"), "A1  \n");
    }
}
