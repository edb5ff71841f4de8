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

/// ASCII bytes of the class, looked up instead of matched (scrub is ingest's hot loop).
static ASCII_SCRUBBED: [bool; 128] = {
    let mut t = [false; 128];
    let mut b = 0;
    while b < 128 {
        t[b] = matches!(b as u8, b':' | b'[' | b']' | b'"' | b'{' | b'}' | b' ' | b'\t'..=b'\r' | 0x1c..=0x1f);
        b += 1;
    }
    t
};

/// `scrub(stuff)`: runs of the class become one space, strip, tidy commas, and drop
/// words of 7+ code points that contain a `str.isdigit()` character.
pub fn scrub(stuff: &str) -> String {
    let bytes = stuff.as_bytes();
    let mut spaced = String::with_capacity(stuff.len());
    let mut in_run = false;
    let mut i = 0;
    while i < bytes.len() {
        // Kept ASCII is most of the text: copy each run of it at once.
        let start = i;
        while i < bytes.len() && bytes[i] < 128 && !ASCII_SCRUBBED[bytes[i] as usize] {
            i += 1;
        }
        if i > start {
            spaced.push_str(&stuff[start..i]);
            in_run = false;
        }
        let Some(&b) = bytes.get(i) else { break };
        let (scrubbed, len) = if b < 128 {
            (true, 1)
        } else {
            let c = stuff[i..].chars().next().expect("char boundary");
            (is_scrubbed(c), c.len_utf8())
        };
        if scrubbed {
            if !in_run {
                spaced.push(' ');
                in_run = true;
            }
        } else {
            spaced.push_str(&stuff[i..i + len]);
            in_run = false;
        }
        i += len;
    }
    // After the substitution the only whitespace left is ' ', so strip() trims spaces.
    let stripped = spaced.trim_matches(' ');
    let mut tidy = std::borrow::Cow::Borrowed(stripped);
    for (from, to) in [(" ,", ","), (",,,", ","), (",,", ",")] {
        if tidy.contains(from) {
            tidy = std::borrow::Cow::Owned(tidy.replace(from, to));
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
    // Fewer than 7 bytes is fewer than 7 code points: no digit scan needed.
    if word.len() < SCRUB_LONG_WORD {
        return true;
    }
    if word.is_ascii() {
        return !word.bytes().any(|b| b.is_ascii_digit());
    }
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
