//! The Llama 3 pre-tokenizer, by hand: the pieces the tokenizer's `Split` regex
//! `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
//! cuts a text into, leftmost alternative first, exactly as Oniguruma matches it. Every
//! char belongs to some alternative, so the pieces cover the text with no gaps. A piece
//! depends only on the text from its start, so pieces can be taken lazily.

use crate::classes::{class, folds_to, Class};

/// The exact pattern this module implements; a tokenizer with another one is refused.
pub const LLAMA3_PATTERN: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

/// Qwen 2/2.5/3's pattern: Llama 3's with single digits.
pub const QWEN_PATTERN: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

/// Pieces of a text, as byte ranges, in order.
#[derive(Debug, Clone)]
pub struct Pieces<'t> {
    text: &'t str,
    pos: usize,
    max_digits: usize,
}

/// Llama 3's pieces (numbers in runs of up to three digits).
pub fn pieces(text: &str) -> Pieces<'_> {
    pieces_with(text, 3)
}

/// The pieces of the same pattern with `\p{N}{1,max_digits}` for numbers: Qwen's
/// pattern has `\p{N}`, one digit per piece ([`QWEN_PATTERN`]).
pub fn pieces_with(text: &str, max_digits: usize) -> Pieces<'_> {
    Pieces {
        text,
        pos: 0,
        max_digits: max_digits.max(1),
    }
}

#[inline]
fn char_at(text: &str, i: usize) -> Option<char> {
    text[i..].chars().next()
}

/// End of the run of chars of class `want` starting at `i` (`i` if none).
#[inline]
fn run_end(text: &str, mut i: usize, want: impl Fn(Class) -> bool) -> usize {
    let bytes = text.as_bytes();
    while i < bytes.len() {
        let b = bytes[i];
        if b < 128 {
            if !want(class(b as char)) {
                break;
            }
            i += 1;
        } else {
            let c = char_at(text, i).expect("char boundary");
            if !want(class(c)) {
                break;
            }
            i += c.len_utf8();
        }
    }
    i
}

fn is_space(c: Class) -> bool {
    matches!(c, Class::Space | Class::Newline)
}

/// The end of the piece starting at `i` (`i < text.len()`).
fn piece_end(text: &str, i: usize, max_digits: usize) -> usize {
    // Most pieces are an ASCII word, alone or after one space: alternative 2 taken
    // byte by byte (an ASCII letter is `\p{L}`, a space is none of `\r\n\p{L}\p{N}`).
    let b = text.as_bytes();
    let word_from = if b[i].is_ascii_alphabetic() {
        Some(i + 1)
    } else if b[i] == b' ' && b.get(i + 1).is_some_and(u8::is_ascii_alphabetic) {
        Some(i + 2)
    } else {
        None
    };
    if let Some(mut j) = word_from {
        while b.get(j).is_some_and(u8::is_ascii_alphabetic) {
            j += 1;
        }
        return if b.get(j).is_some_and(|&x| x >= 128) {
            run_end(text, j, |k| k == Class::Letter)
        } else {
            j
        };
    }
    let c0 = char_at(text, i).expect("in bounds");
    let k0 = class(c0);
    let i1 = i + c0.len_utf8();
    let c1 = char_at(text, i1);
    // 1. (?i:'s|'t|'re|'ve|'m|'ll|'d)
    if c0 == '\'' {
        if let Some(end) = contraction_end(text, i1) {
            return end;
        }
    }
    let k1 = c1.map(class);
    // 2. [^\r\n\p{L}\p{N}]?\p{L}+
    if !matches!(k0, Class::Letter | Class::Number | Class::Newline) && k1 == Some(Class::Letter) {
        return run_end(text, i1, |k| k == Class::Letter);
    }
    if k0 == Class::Letter {
        return run_end(text, i1, |k| k == Class::Letter);
    }
    // 3. \p{N}{1,3} (Qwen: \p{N})
    if k0 == Class::Number {
        let mut end = i1;
        for _ in 1..max_digits {
            match char_at(text, end) {
                Some(c) if class(c) == Class::Number => end += c.len_utf8(),
                _ => break,
            }
        }
        return end;
    }
    // 4.  ?[^\s\p{L}\p{N}]+[\r\n]*
    let others_from = if k0 == Class::Other {
        Some(i)
    } else if c0 == ' ' && k1 == Some(Class::Other) {
        Some(i1)
    } else {
        None
    };
    if let Some(from) = others_from {
        let end = run_end(text, from, |k| k == Class::Other);
        return run_end(text, end, |k| k == Class::Newline);
    }
    whitespace_end(text, i)
}

/// Alternative 1 after an apostrophe whose next char is at `i1`:
/// `(?i:'s|'t|'re|'ve|'m|'ll|'d)`; the end of the match, if it matches.
fn contraction_end(text: &str, i1: usize) -> Option<usize> {
    let c1 = char_at(text, i1)?;
    let i2 = i1 + c1.len_utf8();
    if [b's', b't', b'm', b'd'].iter().any(|&l| folds_to(c1, l)) {
        return Some(i2);
    }
    let c2 = char_at(text, i2)?;
    let second = if folds_to(c1, b'r') || folds_to(c1, b'v') {
        b'e'
    } else if folds_to(c1, b'l') {
        b'l'
    } else {
        return None;
    };
    folds_to(c2, second).then(|| i2 + c2.len_utf8())
}

/// Alternatives 5-7 for a piece that starts with whitespace at `i`.
fn whitespace_end(text: &str, i: usize) -> usize {
    // W is the whitespace run from i.
    let w_end = run_end(text, i, is_space);
    // 5. \s*[\r\n]+ : up to the last \r or \n in W.
    if let Some(last_nl) = text[i..w_end].rfind(['\r', '\n']) {
        return i + last_nl + 1;
    }
    // 6. \s+(?!\S) : all of W at the end of the text, else W less its last char.
    if w_end == text.len() {
        return w_end;
    }
    let last = text[i..w_end].chars().next_back().expect("non-empty run");
    if w_end - last.len_utf8() > i {
        return w_end - last.len_utf8();
    }
    // 7. \s+ : a single whitespace char before a non-space.
    w_end
}

impl<'t> Iterator for Pieces<'t> {
    type Item = &'t str;

    fn next(&mut self) -> Option<&'t str> {
        if self.pos >= self.text.len() {
            return None;
        }
        let start = self.pos;
        self.pos = piece_end(self.text, start, self.max_digits);
        Some(&self.text[start..self.pos])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(s: &str) -> Vec<&str> {
        pieces(s).collect()
    }

    #[test]
    fn pieces_of_known_texts() {
        assert_eq!(
            split("Hello world's 12345 items!!\n\n  ok"),
            ["Hello", " world", "'s", " ", "123", "45", " items", "!!\n\n", " ", " ok"]
        );
        assert_eq!(split("a  \n b"), ["a", "  \n", " b"]);
        assert_eq!(split("x   "), ["x", "   "]);
        assert_eq!(split("I'LL it'ſ"), ["I", "'LL", " it", "'ſ"]);
        assert_eq!(split(" ,x"), [" ,", "x"]);
        assert_eq!(split(""), Vec::<&str>::new());
        let qwen: Vec<&str> = pieces_with("ab 123.5", 1).collect();
        assert_eq!(qwen, ["ab", " ", "1", "2", "3", ".", "5"]);
    }
}
