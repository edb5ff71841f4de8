//! Python's `json.loads` (the C scanner, strict mode) and `json.dumps` (default options).
//!
//! Why not serde_json: the Hub loader read rows with Python's `json`, which accepts
//! `NaN`/`Infinity`, keeps lone surrogates from `\udXXX` escapes, lets a duplicate key
//! keep its first position with its last value, and bounds integers at 4,300 digits;
//! `json.dumps` then re-serialised `details` with its own escaping and float repr. Rows
//! must be kept or rejected exactly as Python did, and `details` must come out byte-exact.

use std::borrow::Cow;

mod dumps;
mod loads;
mod scan;

pub use dumps::*;
pub use loads::*;

/// Deepest nesting accepted. CPython raises `RecursionError` somewhat below its recursion
/// limit of 1,000 (the exact depth depends on the caller's stack); rows nested this deep
/// do not occur in real metadata, and a fixed bound keeps the parser's stack bounded.
pub const MAX_DEPTH: usize = 900;

/// CPython 3.11 refuses to convert integers with more than this many digits.
pub const MAX_INT_DIGITS: usize = 4300;

/// A decoded JSON value as Python's `json.loads` would build it.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    Null,
    Bool(bool),
    /// The integer's decimal digits as Python's `repr(int)` prints them (`-0` is `0`).
    Int(Cow<'a, str>),
    Float(f64),
    Str(PyStr<'a>),
    Array(Vec<Value<'a>>),
    /// A dict: keys unique, in first-seen order, each with its last value.
    Object(Vec<(PyStr<'a>, Value<'a>)>),
}

/// A Python `str`, which unlike a Rust `str` can hold lone surrogates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PyStr<'a> {
    Utf8(Cow<'a, str>),
    /// Generalised UTF-8: valid UTF-8 except that lone surrogates (U+D800..U+DFFF) appear
    /// in their 3-byte form, one code point each (Python's `surrogatepass`).
    Surrogates(Vec<u8>),
}

impl<'a> PyStr<'a> {
    /// The string, unless it holds a lone surrogate (which no UTF-8 consumer accepts).
    pub fn as_str(&self) -> Option<&str> {
        match self {
            PyStr::Utf8(s) => Some(s),
            PyStr::Surrogates(_) => None,
        }
    }

    /// The generalised UTF-8 bytes.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            PyStr::Utf8(s) => s.as_bytes(),
            PyStr::Surrogates(b) => b,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.as_bytes().is_empty()
    }

    /// `len(s)` in Python: code points, lone surrogates counted one each.
    pub fn char_len(&self) -> usize {
        count_code_points(self.as_bytes())
    }

    /// Code points, lone surrogates included.
    pub fn code_points(&self) -> impl Iterator<Item = u32> + '_ {
        CodePoints { b: self.as_bytes() }
    }
}

/// Code points in generalised UTF-8 (each lead byte starts one): the length less the
/// continuation bytes (`10xxxxxx`), counted eight bytes at a time. Every kept row's text
/// is counted (rule 3), and a byte at a time this was ~2% of a pipeline's instructions.
pub fn count_code_points(b: &[u8]) -> usize {
    let mut continuations = 0usize;
    // Per-byte lane counters take at most 255 words before one could overflow.
    for block in b.chunks(8 * 255) {
        let (words, tail) = block.as_chunks::<8>();
        let lanes: u64 = words
            .iter()
            .map(|w| continuation_bits(u64::from_le_bytes(*w)) >> 7)
            .sum();
        continuations += lanes
            .to_le_bytes()
            .iter()
            .map(|&n| n as usize)
            .sum::<usize>();
        continuations += tail.iter().filter(|&&x| (x & 0xC0) == 0x80).count();
    }
    b.len() - continuations
}

/// `s[:n]`: the first `n` code points of generalised UTF-8. Whole words are skipped while
/// the code points they start stay within `n`; the word holding the cut goes a byte at a
/// time.
pub fn cut_code_points(b: &[u8], n: usize) -> &[u8] {
    let (words, _) = b.as_chunks::<8>();
    let mut seen = 0usize;
    let mut at = 0usize;
    for w in words {
        let starts = 8 - continuations_in(u64::from_le_bytes(*w));
        if seen + starts > n {
            break;
        }
        seen += starts;
        at += 8;
    }
    for (i, &x) in b[at..].iter().enumerate() {
        if (x & 0xC0) != 0x80 {
            if seen == n {
                return &b[..at + i];
            }
            seen += 1;
        }
    }
    b
}

/// Bit 7 of each byte of `w` set where that byte is a continuation byte (bit 7 set, bit 6
/// clear): shifting left by one moves each byte's bit 6 to its bit 7.
fn continuation_bits(w: u64) -> u64 {
    w & !(w << 1) & 0x8080_8080_8080_8080
}

/// How many of the eight bytes of `w` are continuation bytes (a lane sum of at most 8).
fn continuations_in(w: u64) -> usize {
    ((continuation_bits(w) >> 7).wrapping_mul(0x0101_0101_0101_0101) >> 56) as usize
}

/// True when generalised UTF-8 holds a surrogate code point (lead byte 0xED, then 0xA0..).
pub fn has_surrogate(b: &[u8]) -> bool {
    memchr::memchr_iter(0xED, b).any(|i| b.get(i + 1).is_some_and(|&x| x >= 0xA0))
}

struct CodePoints<'b> {
    b: &'b [u8],
}

impl Iterator for CodePoints<'_> {
    type Item = u32;
    fn next(&mut self) -> Option<u32> {
        let (&lead, rest) = self.b.split_first()?;
        let (len, init) = match lead {
            0x00..=0x7F => (1, u32::from(lead)),
            0xC0..=0xDF => (2, u32::from(lead & 0x1F)),
            0xE0..=0xEF => (3, u32::from(lead & 0x0F)),
            _ => (4, u32::from(lead & 0x07)),
        };
        let tail = rest.get(..len - 1).unwrap_or(rest);
        let cp = tail
            .iter()
            .fold(init, |acc, &c| (acc << 6) | u32::from(c & 0x3F));
        self.b = &self.b[(1 + tail.len()).min(self.b.len())..];
        Some(cp)
    }
}

/// Appends a code point (surrogates included) in generalised UTF-8.
pub fn push_code_point(out: &mut Vec<u8>, cp: u32) {
    match cp {
        0..=0x7F => out.push(cp as u8),
        0x80..=0x7FF => out.extend_from_slice(&[0xC0 | (cp >> 6) as u8, 0x80 | (cp & 0x3F) as u8]),
        0x800..=0xFFFF => out.extend_from_slice(&[
            0xE0 | (cp >> 12) as u8,
            0x80 | ((cp >> 6) & 0x3F) as u8,
            0x80 | (cp & 0x3F) as u8,
        ]),
        _ => out.extend_from_slice(&[
            0xF0 | (cp >> 18) as u8,
            0x80 | ((cp >> 12) & 0x3F) as u8,
            0x80 | ((cp >> 6) & 0x3F) as u8,
            0x80 | (cp & 0x3F) as u8,
        ]),
    }
}

/// The code point starting at byte `i` of generalised UTF-8, and its length in bytes.
pub fn decode_at(b: &[u8], i: usize) -> (u32, usize) {
    let mut it = CodePoints { b: &b[i..] };
    let before = it.b.len();
    let cp = it.next().unwrap_or(0);
    (cp, before - it.b.len())
}

/// The code point that ends just before byte `i` of generalised UTF-8.
pub fn decode_before(b: &[u8], i: usize) -> u32 {
    let mut start = i.saturating_sub(1);
    while start > 0 && (b[start] & 0xC0) == 0x80 && i - start < 4 {
        start -= 1;
    }
    decode_at(b, start).0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(input: &str) -> String {
        dumps(&loads(input).unwrap())
    }

    #[test]
    fn dumps_like_python() {
        // Each expectation printed by CPython 3.11: json.dumps(json.loads(input)).
        let cases = [
            (
                r#"{"a":[1,2.0,1e-7,NaN,Infinity,-Infinity]}"#,
                r#"{"a": [1, 2.0, 1e-07, NaN, Infinity, -Infinity]}"#,
            ),
            (
                r#"{"é":"😀\u0001\u007f\u2028"}"#,
                r#"{"\u00e9": "\ud83d\ude00\u0001\u007f\u2028"}"#,
            ),
            (r#"{"a":1,"b":2,"a":3}"#, r#"{"a": 3, "b": 2}"#),
            (
                r#"{"x":"\ud800 lone","y":"\udc00\ud800"}"#,
                r#"{"x": "\ud800 lone", "y": "\udc00\ud800"}"#,
            ),
            (r#"{"p":"\ud83d\ude00"}"#, r#"{"p": "\ud83d\ude00"}"#),
            (
                r#"[-0, -0.0, 0, 1E400, 100, 1e2, 12.50]"#,
                "[0, -0.0, 0, Infinity, 100, 100.0, 12.5]",
            ),
            (
                r#""tab\there \"q\" back\\slash /\/ \b\f\n\r""#,
                r#""tab\there \"q\" back\\slash // \b\f\n\r""#,
            ),
            ("{}", "{}"),
            ("[]", "[]"),
            (" null ", "null"),
            (
                r#"{"Brand": "Acme", "Item Weight": "1.2 Pounds"}"#,
                r#"{"Brand": "Acme", "Item Weight": "1.2 Pounds"}"#,
            ),
        ];
        for (input, want) in cases {
            assert_eq!(roundtrip(input), want, "input {input}");
        }
    }

    #[test]
    fn rejects_what_python_rejects() {
        for bad in [
            "",
            "{",
            "[1,]",
            r#"{"a":1,}"#,
            "01",
            "1.",
            ".5",
            "+1",
            "tru",
            "nan",
            "infinity",
            r#""\x""#,
            "\"a\tb\"",
            r#""\u12""#,
            r#""\ud800\u12""#,
            "[1] [2]",
            "{'a': 1}",
            r#"{"a" 1}"#,
            "-",
            "--1",
            "\u{feff}{}",
        ] {
            assert!(loads(bad).is_err(), "Python rejects {bad:?}");
        }
    }

    #[test]
    fn integers_are_bounded_like_cpython() {
        let ok = "9".repeat(MAX_INT_DIGITS);
        assert!(loads(&ok).is_ok());
        let too_long = "9".repeat(MAX_INT_DIGITS + 1);
        assert!(loads(&too_long).is_err());
        assert!(
            loads(&format!("{too_long}.0")).is_ok(),
            "floats have no digit limit"
        );
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
        assert!(loads(&deep).is_err());
        let ok = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        assert!(loads(&ok).is_ok());
    }

    #[test]
    fn long_runs_of_continuation_bytes_do_not_overflow_a_lane() {
        // Every byte a continuation byte: each lane counter reaches its batch's limit.
        for len in [0, 7, 8, 2040, 2041, 4087, 20_000] {
            assert_eq!(count_code_points(&vec![0x80; len]), 0, "{len}");
        }
        let s = "é".repeat(5000) + "x";
        assert_eq!(count_code_points(s.as_bytes()), 5001);
        for n in [0, 1, 4, 8, 2039, 4999, 5000, 5001, 9000] {
            let want: String = s.chars().take(n).collect();
            assert_eq!(cut_code_points(s.as_bytes(), n), want.as_bytes(), "{n}");
        }
    }

    #[test]
    fn lone_surrogates_count_as_one_code_point() {
        let v = loads(r#""a\ud800b""#).unwrap();
        let Value::Str(s) = v else { panic!() };
        assert_eq!(s.char_len(), 3);
        assert!(s.as_str().is_none());
        assert!(has_surrogate(s.as_bytes()));
    }

    #[test]
    fn unicode_writer_escapes_only_controls_quotes_backslashes() {
        let mut out = String::new();
        write_str_unicode("Café \"x\" \\ \n\t\u{1}\u{7f} 😀", &mut out);
        assert_eq!(
            out,
            r#""Café \"x\" \\ \n\t\u0001\u007f 😀""#.replace("\\u007f", "\u{7f}")
        );
    }
}
