//! The recipe's `scrub` (rule 4), with Python's `re` and `str` semantics.

use pricer_core::recipe::SCRUB_LONG_WORD;
use pricer_pycompat::unicode::{is_digit, is_space};

/// Characters of the class `[:\[\]"{}【】\s]` (Python 3 str regex: `\s` is `str.isspace`).
#[inline]
fn is_scrubbed(c: char) -> bool {
    if c.is_ascii() {
        // Python's ASCII whitespace is \t \n \v \f \r, \x1c..\x1f and space.
        return matches!(c, ':' | '[' | ']' | '"' | '{' | '}' | ' ' | '\t'..='\r' | '\x1c'..='\x1f');
    }
    matches!(c, ':' | '[' | ']' | '"' | '{' | '}' | '【' | '】') || is_space(c)
}

/// `scrub(stuff)`: runs of the class become one space, strip, tidy commas, and drop
/// words of 7+ code points that contain a `str.isdigit()` character.
pub fn scrub(stuff: &str) -> String {
    let mut spaced = String::with_capacity(stuff.len());
    let mut in_run = false;
    for c in stuff.chars() {
        if is_scrubbed(c) {
            if !in_run {
                spaced.push(' ');
                in_run = true;
            }
        } else {
            spaced.push(c);
            in_run = false;
        }
    }
    // After the substitution the only whitespace left is ' ', so strip() trims spaces.
    let stripped = spaced.trim_matches(' ');
    let mut tidy = stripped.to_owned();
    for (from, to) in [(" ,", ","), (",,,", ","), (",,", ",")] {
        if tidy.contains(from) {
            tidy = tidy.replace(from, to);
        }
    }
    let mut out = String::with_capacity(tidy.len());
    for (n, word) in tidy.split(' ').filter(|w| keep_word(w)).enumerate() {
        if n > 0 {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

fn keep_word(word: &str) -> bool {
    // len(w) < 7 in code points; only then is the digit scan needed.
    word.chars().nth(SCRUB_LONG_WORD - 1).is_none() || !word.chars().any(is_digit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrub_matches_the_python_reference() {
        // Each expectation printed by the reference scrub in CPython 3.11.
        let cases = [
            (
                "Brackets 【Premium】 [Set] {Pack} \"Quoted\": colon",
                "Brackets Premium Set Pack Quoted colon",
            ),
            (
                "Tab\tand nbsp\u{a0}ideographic\u{3000}x\u{1c}y\u{200b}z",
                "Tab and nbsp ideographic x y\u{200b}z",
            ),
            ("a , b ,,, c ,, d", "a, b, c, d"),
            ("  lead and trail  ", "lead and trail"),
            (
                "ＡＣＭＥ ２０２３ＥＤＩＴＩＯＮ Pump x² Rated½ 1234567 AB12CDE abc123 WE1M333, kit",
                "ＡＣＭＥ Pump x² Rated½ abc123 kit",
            ),
            ("Power²²² Level³ ١٢٣٤٥٦٧ Model٣abcdef", "Level³"),
            ("ⅫⅫⅫⅫⅫⅫⅫ ①②③④⑤⑥⑦", "ⅫⅫⅫⅫⅫⅫⅫ"),
            ("", ""),
            (":::", ""),
            ("a  b", "a b"),
        ];
        for (input, want) in cases {
            assert_eq!(scrub(input), want, "scrub({input:?})");
        }
    }
}
