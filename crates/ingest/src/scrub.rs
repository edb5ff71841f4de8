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

/// What a byte is to scrub, for ASCII bytes: in the class, an ASCII digit, a comma.
const CLASS: u8 = 1;
const DIGIT: u8 = 2;
const COMMA: u8 = 4;
/// Looked up instead of matched: scrub is ingest's hot loop.
static ASCII_KIND: [u8; 128] = {
    let mut t = [0u8; 128];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        t[b] = if matches!(c, b':' | b'[' | b']' | b'"' | b'{' | b'}' | b' ' | b'\t'..=b'\r' | 0x1c..=0x1f)
        {
            CLASS
        } else if c.is_ascii_digit() {
            DIGIT
        } else if c == b',' {
            COMMA
        } else {
            0
        };
        b += 1;
    }
    t
};

/// A maximal run outside the class, and what the rules ask of it, seen while it was
/// found (so most words are not scanned again).
#[derive(Clone, Copy)]
struct Word<'a> {
    text: &'a str,
    /// Holds a character outside ASCII.
    wide: bool,
    /// Holds an ASCII digit.
    digit: bool,
    /// Holds two commas in a row.
    commas: bool,
}

/// `scrub(stuff)`: runs of the class become one space, strip, tidy commas, and drop
/// words of 7+ code points that contain a `str.isdigit()` character.
///
/// One pass over the words (maximal runs outside the class) instead of Python's five:
/// after the substitution and strip the words are joined by single spaces, so
/// `replace(" ,", ",")` glues every word that starts with a comma to the one before it,
/// and the two comma replacements only shorten runs of commas (a run of n becomes
/// `tidy_run(n)`). What is left is the split on spaces and the digit rule.
pub fn scrub(stuff: &str) -> String {
    let mut out = String::with_capacity(stuff.len());
    // The current word; copied into `glued` only when a comma-led word joins it.
    let mut current: Option<Word<'_>> = None;
    let mut glued = String::new();
    for word in words(stuff) {
        if word.text.starts_with(',') && (current.is_some() || !glued.is_empty()) {
            if let Some(w) = current.take() {
                glued.push_str(w.text);
            }
            glued.push_str(word.text);
            continue;
        }
        flush(&mut current, &mut glued, &mut out);
        current = Some(word);
    }
    flush(&mut current, &mut glued, &mut out);
    out
}

fn flush(current: &mut Option<Word<'_>>, glued: &mut String, out: &mut String) {
    if !glued.is_empty() {
        emit(glued, out);
        glued.clear();
    } else if let Some(w) = current.take() {
        let keep = if w.commas {
            // Tidied first: the general path.
            emit(w.text, out);
            return;
        } else if w.text.len() < SCRUB_LONG_WORD {
            true
        } else if !w.wide {
            !w.digit
        } else {
            keep_word(w.text)
        };
        if keep {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(w.text);
        }
    }
}

/// The maximal runs of `stuff` outside the class, in order.
fn words(stuff: &str) -> impl Iterator<Item = Word<'_>> {
    let bytes = stuff.as_bytes();
    let mut i = 0;
    // Two tight loops (skip the class, then take a word) rather than one with a state:
    // the word loop is where ingest spends its time, a byte at a time.
    std::iter::from_fn(move || {
        loop {
            let &b = bytes.get(i)?;
            if b < 128 {
                if ASCII_KIND[b as usize] & CLASS == 0 {
                    break;
                }
                i += 1;
            } else {
                let c = stuff[i..].chars().next().expect("char boundary");
                if !is_scrubbed(c) {
                    break;
                }
                i += c.len_utf8();
            }
        }
        let start = i;
        // `pairs`: kinds shared by two bytes in a row (two commas set its COMMA bit).
        let (mut wide, mut kinds, mut pairs, mut prev) = (false, 0u8, 0u8, 0u8);
        while let Some(&b) = bytes.get(i) {
            if b < 128 {
                let kind = ASCII_KIND[b as usize];
                if kind & CLASS != 0 {
                    break;
                }
                kinds |= kind;
                pairs |= prev & kind;
                prev = kind;
                i += 1;
            } else {
                let c = stuff[i..].chars().next().expect("char boundary");
                if is_scrubbed(c) {
                    break;
                }
                wide = true;
                prev = 0;
                i += c.len_utf8();
            }
        }
        Some(Word {
            text: &stuff[start..i],
            wide,
            digit: kinds & DIGIT != 0,
            commas: pairs & COMMA != 0,
        })
    })
}

/// How many commas `replace(",,,", ",")` then `replace(",,", ",")` leave of a run of `n`:
/// both replace left to right without overlap, inside each run alone.
fn tidy_run(n: usize) -> usize {
    let m = n / 3 + n % 3;
    m / 2 + m % 2
}

/// Appends a glued word (its comma runs tidied) unless the digit rule drops it.
fn emit(glued: &str, out: &mut String) {
    // Most words are a few letters: a byte loop beats a substring search here.
    let double_comma = glued.as_bytes().windows(2).any(|w| w == b",,");
    let tidied: std::borrow::Cow<'_, str> = if double_comma {
        let mut t = String::with_capacity(glued.len());
        let mut run = 0;
        for c in glued.chars() {
            if c == ',' {
                run += 1;
                continue;
            }
            t.extend(std::iter::repeat_n(',', tidy_run(run)));
            run = 0;
            t.push(c);
        }
        t.extend(std::iter::repeat_n(',', tidy_run(run)));
        std::borrow::Cow::Owned(t)
    } else {
        std::borrow::Cow::Borrowed(glued)
    };
    if keep_word(&tidied) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&tidied);
    }
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

    /// The recipe's scrub step by step as Python runs it: the oracle for the one-pass
    /// version.
    fn scrub_by_steps(stuff: &str) -> String {
        let mut spaced = String::new();
        let mut in_run = false;
        for c in stuff.chars() {
            if is_scrubbed(c) {
                if !in_run {
                    spaced.push(' ');
                }
                in_run = true;
            } else {
                spaced.push(c);
                in_run = false;
            }
        }
        let tidy = spaced
            .trim_matches(' ')
            .replace(" ,", ",")
            .replace(",,,", ",")
            .replace(",,", ",");
        tidy.split(' ')
            .filter(|w| keep_word(w))
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn comma_runs_shrink_as_python_replaces_them() {
        // ",,,,," -> ",,," -> ",,": Python's two replaces on runs of 1 to 9 commas.
        let python = [1, 1, 1, 1, 2, 1, 2, 2, 2];
        for (n, want) in (1..).zip(python) {
            assert_eq!(tidy_run(n), want, "{n} commas");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4000))]
        #[test]
        fn one_pass_equals_the_steps(chars in proptest::collection::vec(proptest::sample::select(vec![
            ' ', ' ', ',', ',', ',', ':', '[', ']', '"', '{', '}', '\t', '\n', '\u{a0}', '\u{3000}',
            '\u{1c}', '\u{85}', '【', '】', '\u{200b}', 'a', 'b', 'Z', '1', '7', '２', '²', '½',
            '٣', 'é', '中', '-', '.',
        ]), 0..60)) {
            let text: String = chars.into_iter().collect();
            proptest::prop_assert_eq!(scrub(&text), scrub_by_steps(&text), "{:?}", text);
        }
    }
}
