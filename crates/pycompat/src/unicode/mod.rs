//! CPython's `str` predicates, per Python version: `isspace`, `isdigit`, `isalnum`,
//! `isprintable` and decimal values.
//!
//! Rust's `char` methods follow another Unicode version and other definitions (Rust's
//! `is_whitespace` lacks U+001C..U+001F; Rust has no Numeric_Type), so the tables are
//! generated from CPython itself by `tools/gen_unicode_tables.py`: recipe V1 ran on
//! CPython 3.11 (Unicode 14.0, [`PY311`]), recipe V2 on 3.12 (Unicode 15.0, [`PY312`]).

mod py311;
mod py312;

/// The tables of one CPython version.
#[derive(Debug)]
pub struct Unicode {
    /// `major.minor` of the CPython the tables came from.
    pub python: &'static str,
    /// Its `unicodedata.unidata_version`.
    pub version: &'static str,
    pub(crate) space: &'static [(u32, u32)],
    pub(crate) digit: &'static [(u32, u32)],
    pub(crate) decimal: &'static [(u32, u32)],
    pub(crate) alnum: &'static [(u32, u32)],
    pub(crate) printable: &'static [(u32, u32)],
}

/// CPython 3.11 (Unicode 14.0): recipe V1.
pub static PY311: &Unicode = &py311::TABLES;
/// CPython 3.12 (Unicode 15.0): recipe V2.
pub static PY312: &Unicode = &py312::TABLES;

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

impl Unicode {
    /// `c.isspace()`, which is also what `\s` matches in a `re` str pattern.
    #[inline]
    pub fn is_space(&self, c: char) -> bool {
        if c.is_ascii() {
            matches!(c, '\t'..='\r' | '\x1c'..='\x1f' | ' ')
        } else {
            in_ranges(self.space, c)
        }
    }

    /// `c.isdigit()`: Numeric_Type Digit or Decimal, so `'２'` and `'²'` are digits but
    /// `'½'` and `'Ⅻ'` are not.
    #[inline]
    pub fn is_digit(&self, c: char) -> bool {
        if c.is_ascii() {
            c.is_ascii_digit()
        } else {
            in_ranges(self.digit, c)
        }
    }

    /// `c.isdecimal()` (also `re`'s `\d` on str).
    #[inline]
    pub fn is_decimal(&self, c: char) -> bool {
        self.decimal_value(c).is_some()
    }

    /// `c.isalnum()`; with `_` it is `re`'s `\w` on str.
    #[inline]
    pub fn is_alnum(&self, c: char) -> bool {
        if c.is_ascii() {
            c.is_ascii_alphanumeric()
        } else {
            in_ranges(self.alnum, c)
        }
    }

    /// `c.isprintable()`: what `repr` leaves unescaped.
    #[inline]
    pub fn is_printable(&self, c: char) -> bool {
        if c.is_ascii() {
            (' '..='~').contains(&c)
        } else {
            in_ranges(self.printable, c)
        }
    }

    /// `unicodedata.decimal(c)`: the value of a decimal digit in any script (what
    /// `float()` and `int()` accept), or `None`.
    pub fn decimal_value(&self, c: char) -> Option<u32> {
        if c.is_ascii() {
            return c.to_digit(10);
        }
        let cp = c as u32;
        let idx = self.decimal.partition_point(|&(_, hi)| hi < cp);
        match self.decimal.get(idx) {
            // Every decimal range starts at a zero and runs in whole decades (tested).
            Some(&(lo, hi)) if lo <= cp && cp <= hi => Some((cp - lo) % 10),
            _ => None,
        }
    }
}

/// CPython 3.11's `c.isspace()` (recipe V1).
#[inline]
pub fn is_space(c: char) -> bool {
    PY311.is_space(c)
}

/// CPython 3.11's `c.isdigit()` (recipe V1).
#[inline]
pub fn is_digit(c: char) -> bool {
    PY311.is_digit(c)
}

/// CPython 3.11's `unicodedata.decimal(c)` (recipe V1).
pub fn decimal_value(c: char) -> Option<u32> {
    PY311.decimal_value(c)
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
        for t in [PY311, PY312] {
            for table in [t.space, t.digit, t.decimal, t.alnum, t.printable] {
                for w in table.windows(2) {
                    assert!(w[0].1 < w[1].0, "ranges overlap or are unsorted: {w:?}");
                }
            }
            for &(lo, hi) in t.decimal {
                assert_eq!(
                    (hi - lo + 1) % 10,
                    0,
                    "{lo:#x}..={hi:#x} is not whole decades"
                );
            }
        }
        for &(lo, hi) in PY311.decimal {
            assert_eq!(
                (hi - lo + 1) % 10,
                0,
                "decimal range {lo:#x}..={hi:#x} is not whole decades"
            );
        }
    }

    #[test]
    fn every_decimal_is_a_digit() {
        for t in [PY311, PY312] {
            for &(lo, hi) in t.decimal {
                for cp in lo..=hi {
                    assert!(t.is_digit(char::from_u32(cp).unwrap()));
                }
            }
        }
    }

    #[test]
    fn python_3_12_knows_unicode_15() {
        // Kawi digits and U+1F6DC (a wireless symbol) are new in Unicode 15.0.
        let kawi_seven = '\u{11F57}';
        assert_eq!(PY312.decimal_value(kawi_seven), Some(7));
        assert_eq!(PY311.decimal_value(kawi_seven), None);
        assert!(PY312.is_printable('\u{1F6DC}') && !PY311.is_printable('\u{1F6DC}'));
        assert!(PY312.is_alnum(kawi_seven) && PY312.is_decimal(kawi_seven));
    }

    #[test]
    fn printable_and_alnum_match_cpython_3_12() {
        // Values CPython 3.12 prints for c.isprintable() / c.isalnum().
        for c in ['a', ' ', '~', '\u{e9}', '\u{2011}', '\u{1F600}', '\u{FFFD}'] {
            assert!(PY312.is_printable(c), "{c:?} is printable");
        }
        for c in [
            '\t', '\x7f', '\u{a0}', '\u{202f}', '\u{200b}', '\u{2028}', '\u{ad}', '\u{e000}',
            '\u{378}',
        ] {
            assert!(!PY312.is_printable(c), "{c:?} is not printable");
        }
        for c in [
            'a', 'Z', '5', '\u{bd}', '\u{b2}', '\u{216b}', '\u{663}', '\u{e9}',
        ] {
            assert!(PY312.is_alnum(c), "{c:?} is alphanumeric");
        }
        for c in ['_', ' ', '\u{301}', '-', '\u{2011}'] {
            assert!(!PY312.is_alnum(c), "{c:?} is not alphanumeric");
        }
    }
}
