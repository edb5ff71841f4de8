//! Character classes of the Llama 3 pre-tokenizer regex, as Oniguruma defines them
//! (`\p{L}`, `\p{N}`, `\s`, and case folds for the contractions). Python's `str.isspace`
//! differs (it includes U+001C..U+001F), so these tables are Oniguruma's own.

use pricer_pycompat::unicode::in_ranges;

use crate::tables;

/// What the regex can tell apart about one char.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    Letter,
    Number,
    /// `\s`, except `\r` and `\n`, which the regex names separately.
    Space,
    /// `\r` or `\n`.
    Newline,
    /// None of the above (punctuation, symbols, marks, controls, unassigned).
    Other,
}

const fn ascii_classes() -> [Class; 128] {
    let mut t = [Class::Other; 128];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        t[b] = if c.is_ascii_alphabetic() {
            Class::Letter
        } else if c.is_ascii_digit() {
            Class::Number
        } else if c == b'\r' || c == b'\n' {
            Class::Newline
        } else if c == b' ' || (c >= 0x09 && c <= 0x0D) {
            Class::Space
        } else {
            Class::Other
        };
        b += 1;
    }
    t
}

static ASCII: [Class; 128] = ascii_classes();

#[inline]
pub fn class(c: char) -> Class {
    let cp = c as u32;
    if cp < 128 {
        return ASCII[cp as usize];
    }
    if in_ranges(tables::LETTER, c) {
        Class::Letter
    } else if in_ranges(tables::NUMBER, c) {
        Class::Number
    } else if in_ranges(tables::SPACE, c) {
        Class::Space
    } else {
        Class::Other
    }
}

/// Whether `c` matches the ASCII letter `letter` under `(?i:...)`.
#[inline]
pub fn folds_to(c: char, letter: u8) -> bool {
    let table = match letter {
        b's' => tables::FOLD_S,
        b't' => tables::FOLD_T,
        b'r' => tables::FOLD_R,
        b'e' => tables::FOLD_E,
        b'v' => tables::FOLD_V,
        b'm' => tables::FOLD_M,
        b'l' => tables::FOLD_L,
        b'd' => tables::FOLD_D,
        _ => return c.eq_ignore_ascii_case(&(letter as char)),
    };
    in_ranges(table, c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_classes() {
        assert_eq!(class('a'), Class::Letter);
        assert_eq!(class('é'), Class::Letter);
        assert_eq!(class('中'), Class::Letter);
        assert_eq!(class('7'), Class::Number);
        assert_eq!(class('½'), Class::Number);
        assert_eq!(class('²'), Class::Number);
        assert_eq!(class('\u{3000}'), Class::Space);
        assert_eq!(class('\u{a0}'), Class::Space);
        assert_eq!(class('\n'), Class::Newline);
        assert_eq!(
            class('\u{1c}'),
            Class::Other,
            "Oniguruma's \\s, unlike Python, excludes it"
        );
        assert_eq!(class('\u{200b}'), Class::Other);
        assert_eq!(
            class('\u{301}'),
            Class::Other,
            "combining marks are not letters"
        );
        assert!(folds_to('ſ', b's'));
        assert!(folds_to('S', b's'));
        assert!(!folds_to('K', b'l'));
    }
}
