//! CPython 3.11's `str.isspace`, `str.isdigit` and decimal values (Unicode 14.0.0).
//!
//! Rust's `char::is_whitespace` is the Unicode White_Space property, which differs from
//! Python's `isspace` (Python adds U+001C..U+001F), and Rust has no Numeric_Type, so the
//! tables are generated from CPython itself by `tools/gen_unicode_tables.py`.

use crate::unicode_tables::{DECIMAL, ISDIGIT, ISSPACE};

/// Whether `c` lies in `table`, sorted inclusive code point ranges (generated tables here
/// and in pricer-bpe).
pub fn in_ranges(table: &[(u32, u32)], c: char) -> bool {
    let cp = c as u32;
    table
        .binary_search_by(|&(lo, hi)| {
            if hi < cp {
                std::cmp::Ordering::Less
            } else if lo > cp {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

/// Python `c.isspace()`, which is also what `\s` matches in a `re` str pattern.
#[inline]
pub fn is_space(c: char) -> bool {
    if c.is_ascii() {
        matches!(c, '\t'..='\r' | '\x1c'..='\x1f' | ' ')
    } else {
        in_ranges(ISSPACE, c)
    }
}

/// Python `c.isdigit()`: Numeric_Type Digit or Decimal, so `'２'` and `'²'` are digits but
/// `'½'` and `'Ⅻ'` are not.
#[inline]
pub fn is_digit(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_digit()
    } else {
        in_ranges(ISDIGIT, c)
    }
}

/// `unicodedata.decimal(c)`: the value of a decimal digit in any script (what `float()`
/// and `int()` accept), or `None`.
pub fn decimal_value(c: char) -> Option<u32> {
    if c.is_ascii() {
        return c.to_digit(10);
    }
    let cp = c as u32;
    let idx = DECIMAL.partition_point(|&(_, hi)| hi < cp);
    match DECIMAL.get(idx) {
        // Every decimal range starts at a zero and runs in whole decades (checked in tests).
        Some(&(lo, hi)) if lo <= cp && cp <= hi => Some((cp - lo) % 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn isspace_matches_cpython() {
        for c in [
            '\t', '\n', '\x0b', '\x0c', '\r', '\x1c', '\x1d', '\x1e', '\x1f', ' ', '\u{85}',
            '\u{a0}', '\u{1680}', '\u{2000}', '\u{200a}', '\u{2028}', '\u{2029}', '\u{202f}',
            '\u{205f}', '\u{3000}',
        ] {
            assert!(is_space(c), "{:?} is space in Python", c);
        }
        for c in [
            'a', '\0', '\x1b', '\u{200b}', '\u{180e}', '\u{feff}', '_', '\u{7f}',
        ] {
            assert!(!is_space(c), "{:?} is not space in Python", c);
        }
    }

    #[test]
    fn isdigit_matches_cpython() {
        for c in ['0', '9', '２', '²', '³', '¹', '٣', '①', '⑦', '𝟎', '०'] {
            assert!(is_digit(c), "{c:?} is a digit in Python");
        }
        for c in ['½', 'Ⅻ', 'a', '.', '〇', '十', '⑩', '¼'] {
            assert!(!is_digit(c), "{c:?} is not a digit in Python");
        }
    }

    #[test]
    fn decimal_values() {
        assert_eq!(decimal_value('7'), Some(7));
        assert_eq!(decimal_value('٧'), Some(7));
        assert_eq!(decimal_value('７'), Some(7));
        assert_eq!(decimal_value('𝟗'), Some(9));
        assert_eq!(
            decimal_value('²'),
            None,
            "superscripts are digits, not decimals"
        );
        assert_eq!(decimal_value('x'), None);
    }

    #[test]
    fn tables_are_sorted_disjoint_and_decimals_are_decades() {
        for table in [ISSPACE, ISDIGIT, DECIMAL] {
            for w in table.windows(2) {
                assert!(w[0].1 < w[1].0, "ranges overlap or are unsorted: {w:?}");
            }
        }
        for &(lo, hi) in DECIMAL {
            assert_eq!(
                (hi - lo + 1) % 10,
                0,
                "decimal range {lo:#x}..={hi:#x} is not whole decades"
            );
        }
    }

    #[test]
    fn every_decimal_is_a_digit() {
        for &(lo, hi) in DECIMAL {
            for cp in lo..=hi {
                assert!(is_digit(char::from_u32(cp).unwrap()));
            }
        }
    }
}
