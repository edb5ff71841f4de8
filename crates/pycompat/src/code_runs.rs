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
    // `copied`: text before it is in `out`; `i`: where to look for the next run.
    let (mut copied, mut i) = (0, 0);
    while let Some(k) = text[i..].iter().position(|&b| is_run_char(b)) {
        let start = i + k;
        let end = start
            + text[start..]
                .iter()
                .take_while(|&&b| is_run_char(b))
                .count();
        i = end;
        // Most runs are short (a capital, a number): only long ones can match.
        if end - start < 7
            || (start > 0 && is_word(decode_before(text, start), py))
            || (end < text.len() && is_word(decode_at(text, end).0, py))
        {
            continue;
        }
        if line.as_ref().is_none_or(|l| l.end < start) {
            let from = memchr::memrchr(b'\n', &text[..start]).map_or(0, |k| k + 1);
            line = Some(line_facts(text, from, py));
        }
        let l = line.as_ref().expect("set above");
        if l.last_upper.is_some_and(|p| p >= start) && l.last_decimal.is_some_and(|p| p >= start) {
            out.extend_from_slice(&text[copied..start]);
            copied = end;
        }
    }
    out.extend_from_slice(&text[copied..]);
    out
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
