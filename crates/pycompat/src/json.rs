//! Python's `json.loads` (the C scanner, strict mode) and `json.dumps` (default options).
//!
//! Why not serde_json: the Hub loader read rows with Python's `json`, which accepts
//! `NaN`/`Infinity`, keeps lone surrogates from `\udXXX` escapes, lets a duplicate key
//! keep its first position with its last value, and bounds integers at 4,300 digits;
//! `json.dumps` then re-serialised `details` with its own escaping and float repr. Rows
//! must be kept or rejected exactly as Python did, and `details` must come out byte-exact.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::Write as _;

use crate::float::float_repr;

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

/// Code points in generalised UTF-8 (each lead byte starts one).
pub fn count_code_points(b: &[u8]) -> usize {
    b.iter().filter(|&&x| (x & 0xC0) != 0x80).count()
}

/// True when generalised UTF-8 holds a surrogate code point (lead byte 0xED, then 0xA0..).
pub fn has_surrogate(b: &[u8]) -> bool {
    b.windows(2).any(|w| w[0] == 0xED && w[1] >= 0xA0)
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

/// Why `json.loads` raised, and at which byte offset.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} at byte {offset}")]
pub struct LoadError {
    pub what: &'static str,
    pub offset: usize,
}

/// `json.loads(s)`.
pub fn loads(s: &str) -> Result<Value<'_>, LoadError> {
    let mut p = Parser {
        s,
        b: s.as_bytes(),
        i: 0,
        depth: 0,
    };
    p.skip_ws();
    let v = p.value()?;
    p.skip_ws();
    if p.i != p.b.len() {
        return Err(p.err("Extra data"));
    }
    Ok(v)
}

struct Parser<'a> {
    s: &'a str,
    b: &'a [u8],
    i: usize,
    depth: usize,
}

impl<'a> Parser<'a> {
    fn err(&self, what: &'static str) -> LoadError {
        LoadError {
            what,
            offset: self.i,
        }
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.b.get(self.i) {
            self.i += 1;
        }
    }

    fn literal(&mut self, word: &str, v: Value<'a>) -> Result<Value<'a>, LoadError> {
        if self.b[self.i..].starts_with(word.as_bytes()) {
            self.i += word.len();
            Ok(v)
        } else {
            Err(self.err("Expecting value"))
        }
    }

    fn value(&mut self) -> Result<Value<'a>, LoadError> {
        match self.b.get(self.i) {
            Some(b'{') => self.nested(Self::object),
            Some(b'[') => self.nested(Self::array),
            Some(b'"') => Ok(Value::Str(self.string()?)),
            Some(b'n') => self.literal("null", Value::Null),
            Some(b't') => self.literal("true", Value::Bool(true)),
            Some(b'f') => self.literal("false", Value::Bool(false)),
            Some(b'N') => self.literal("NaN", Value::Float(f64::NAN)),
            Some(b'I') => self.literal("Infinity", Value::Float(f64::INFINITY)),
            Some(b'-') if self.b[self.i..].starts_with(b"-Infinity") => {
                self.i += "-Infinity".len();
                Ok(Value::Float(f64::NEG_INFINITY))
            }
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => Err(self.err("Expecting value")),
        }
    }

    fn nested(
        &mut self,
        f: fn(&mut Self) -> Result<Value<'a>, LoadError>,
    ) -> Result<Value<'a>, LoadError> {
        if self.depth >= MAX_DEPTH {
            return Err(self.err("Nesting too deep (Python raises RecursionError)"));
        }
        self.depth += 1;
        let v = f(self);
        self.depth -= 1;
        v
    }

    fn number(&mut self) -> Result<Value<'a>, LoadError> {
        let start = self.i;
        let b = self.b;
        let mut i = self.i;
        if b[i] == b'-' {
            i += 1;
        }
        let int_start = i;
        match b.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => {
                while b.get(i).is_some_and(u8::is_ascii_digit) {
                    i += 1;
                }
            }
            _ => return Err(self.err("Expecting value")),
        }
        let int_end = i;
        let mut is_float = false;
        if b.get(i) == Some(&b'.') && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
            is_float = true;
            i += 1;
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
        }
        if matches!(b.get(i), Some(b'e' | b'E')) {
            let mut j = i + 1;
            if matches!(b.get(j), Some(b'+' | b'-')) {
                j += 1;
            }
            if b.get(j).is_some_and(u8::is_ascii_digit) {
                is_float = true;
                while b.get(j).is_some_and(u8::is_ascii_digit) {
                    j += 1;
                }
                i = j;
            }
        }
        self.i = i;
        let text = &self.s[start..i];
        if is_float {
            // Python's float() of the literal: correctly rounded, overflow gives inf.
            return text
                .parse::<f64>()
                .map(Value::Float)
                .map_err(|_| self.err("Invalid number"));
        }
        if int_end - int_start > MAX_INT_DIGITS {
            return Err(LoadError {
                what: "Integer has more than 4300 digits (Python raises ValueError)",
                offset: start,
            });
        }
        if text == "-0" {
            return Ok(Value::Int(Cow::Borrowed("0")));
        }
        Ok(Value::Int(Cow::Borrowed(text)))
    }

    fn array(&mut self) -> Result<Value<'a>, LoadError> {
        self.i += 1;
        let mut items = Vec::new();
        self.skip_ws();
        if self.b.get(self.i) == Some(&b']') {
            self.i += 1;
            return Ok(Value::Array(items));
        }
        loop {
            self.skip_ws();
            items.push(self.value()?);
            self.skip_ws();
            match self.b.get(self.i) {
                Some(b',') => self.i += 1,
                Some(b']') => {
                    self.i += 1;
                    return Ok(Value::Array(items));
                }
                _ => return Err(self.err("Expecting ',' delimiter")),
            }
        }
    }

    fn object(&mut self) -> Result<Value<'a>, LoadError> {
        self.i += 1;
        let mut entries: Vec<(PyStr<'a>, Value<'a>)> = Vec::new();
        // Large objects index their keys so duplicate detection stays linear.
        let mut index: Option<HashMap<Vec<u8>, usize>> = None;
        self.skip_ws();
        if self.b.get(self.i) == Some(&b'}') {
            self.i += 1;
            return Ok(Value::Object(entries));
        }
        loop {
            self.skip_ws();
            if self.b.get(self.i) != Some(&b'"') {
                return Err(self.err("Expecting property name enclosed in double quotes"));
            }
            let key = self.string()?;
            self.skip_ws();
            if self.b.get(self.i) != Some(&b':') {
                return Err(self.err("Expecting ':' delimiter"));
            }
            self.i += 1;
            self.skip_ws();
            let value = self.value()?;
            let existing = match &index {
                Some(ix) => ix.get(key.as_bytes()).copied(),
                None => entries.iter().position(|(k, _)| k == &key),
            };
            match existing {
                Some(pos) => entries[pos].1 = value,
                None => {
                    if let Some(ix) = &mut index {
                        ix.insert(key.as_bytes().to_vec(), entries.len());
                    }
                    entries.push((key, value));
                    if index.is_none() && entries.len() > 16 {
                        index = Some(
                            entries
                                .iter()
                                .enumerate()
                                .map(|(i, (k, _))| (k.as_bytes().to_vec(), i))
                                .collect(),
                        );
                    }
                }
            }
            self.skip_ws();
            match self.b.get(self.i) {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    return Ok(Value::Object(entries));
                }
                _ => return Err(self.err("Expecting ',' delimiter")),
            }
        }
    }

    fn hex4(&self, at: usize) -> Result<u32, LoadError> {
        let digits = self.b.get(at..at + 4).ok_or(LoadError {
            what: "Invalid \\uXXXX escape",
            offset: at,
        })?;
        digits.iter().try_fold(0u32, |acc, &d| {
            let v = (d as char).to_digit(16).ok_or(LoadError {
                what: "Invalid \\uXXXX escape",
                offset: at,
            })?;
            Ok(acc * 16 + v)
        })
    }

    fn string(&mut self) -> Result<PyStr<'a>, LoadError> {
        self.i += 1;
        let start = self.i;
        let b = self.b;
        let mut i = start;
        // Fast path: no escapes, borrow the input.
        while let Some(&c) = b.get(i) {
            match c {
                b'"' => {
                    self.i = i + 1;
                    return Ok(PyStr::Utf8(Cow::Borrowed(&self.s[start..i])));
                }
                b'\\' => break,
                0x00..=0x1F => {
                    return Err(LoadError {
                        what: "Invalid control character",
                        offset: i,
                    })
                }
                _ => i += 1,
            }
        }
        let mut out: Vec<u8> = b[start..i].to_vec();
        let mut surrogates = false;
        loop {
            let Some(&c) = b.get(i) else {
                return Err(LoadError {
                    what: "Unterminated string",
                    offset: start - 1,
                });
            };
            match c {
                b'"' => {
                    self.i = i + 1;
                    break;
                }
                0x00..=0x1F => {
                    return Err(LoadError {
                        what: "Invalid control character",
                        offset: i,
                    })
                }
                b'\\' => {
                    let esc = *b.get(i + 1).ok_or(LoadError {
                        what: "Unterminated string",
                        offset: start - 1,
                    })?;
                    i += 2;
                    let simple = match esc {
                        b'"' => Some(b'"'),
                        b'\\' => Some(b'\\'),
                        b'/' => Some(b'/'),
                        b'b' => Some(0x08),
                        b'f' => Some(0x0C),
                        b'n' => Some(b'\n'),
                        b'r' => Some(b'\r'),
                        b't' => Some(b'\t'),
                        b'u' => None,
                        _ => {
                            return Err(LoadError {
                                what: "Invalid \\escape",
                                offset: i - 2,
                            })
                        }
                    };
                    if let Some(byte) = simple {
                        out.push(byte);
                        continue;
                    }
                    let mut cp = self.hex4(i)?;
                    i += 4;
                    if (0xD800..=0xDBFF).contains(&cp)
                        && b.get(i) == Some(&b'\\')
                        && b.get(i + 1) == Some(&b'u')
                    {
                        let low = self.hex4(i + 2)?;
                        if (0xDC00..=0xDFFF).contains(&low) {
                            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                            i += 6;
                        }
                    }
                    push_code_point(&mut out, cp);
                    surrogates |= (0xD800..=0xDFFF).contains(&cp);
                }
                _ => {
                    // Copy the run up to the next special byte in one go.
                    let run_end = b[i..]
                        .iter()
                        .position(|&x| x == b'"' || x == b'\\' || x < 0x20)
                        .map_or(b.len(), |p| i + p);
                    out.extend_from_slice(&b[i..run_end]);
                    i = run_end;
                }
            }
        }
        if surrogates {
            Ok(PyStr::Surrogates(out))
        } else {
            String::from_utf8(out)
                .map(|s| PyStr::Utf8(Cow::Owned(s)))
                .map_err(|_| LoadError {
                    what: "Invalid UTF-8 in string",
                    offset: start,
                })
        }
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

/// `json.dumps(v)` with default options: `ensure_ascii=True`, separators `", "` and
/// `": "`, keys in dict order, `NaN`/`Infinity` allowed.
pub fn dumps(v: &Value<'_>) -> String {
    let mut out = String::new();
    dump_into(v, &mut out);
    out
}

/// [`dumps`] appending to `out`.
pub fn dump_into(v: &Value<'_>, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Int(digits) => out.push_str(digits),
        Value::Float(x) => out.push_str(&float_json(*x)),
        Value::Str(s) => write_str_ascii(s, out),
        Value::Array(items) => {
            out.push('[');
            for (n, item) in items.iter().enumerate() {
                if n > 0 {
                    out.push_str(", ");
                }
                dump_into(item, out);
            }
            out.push(']');
        }
        Value::Object(entries) => {
            out.push('{');
            for (n, (k, item)) in entries.iter().enumerate() {
                if n > 0 {
                    out.push_str(", ");
                }
                write_str_ascii(k, out);
                out.push_str(": ");
                dump_into(item, out);
            }
            out.push('}');
        }
    }
}

/// `json.dumps(x)` for a float: `float.__repr__`, or `NaN`, `Infinity`, `-Infinity`.
pub fn float_json(x: f64) -> String {
    if x.is_nan() {
        "NaN".into()
    } else if x.is_infinite() {
        if x > 0.0 { "Infinity" } else { "-Infinity" }.into()
    } else {
        float_repr(x)
    }
}

fn push_short_escape(c: u32, out: &mut String) -> bool {
    let esc = match c {
        0x22 => "\\\"",
        0x5C => "\\\\",
        0x0A => "\\n",
        0x0D => "\\r",
        0x09 => "\\t",
        0x08 => "\\b",
        0x0C => "\\f",
        _ => return false,
    };
    out.push_str(esc);
    true
}

/// A string as `json.dumps(s)` (ensure_ascii) writes it: every code point outside
/// printable ASCII as `\uXXXX` (lowercase hex), astral ones as surrogate pairs.
pub fn write_str_ascii(s: &PyStr<'_>, out: &mut String) {
    out.push('"');
    for cp in s.code_points() {
        if push_short_escape(cp, out) {
            continue;
        }
        if (0x20..0x7F).contains(&cp) {
            out.push(cp as u8 as char);
        } else if cp < 0x10000 {
            let _ = write!(out, "\\u{cp:04x}");
        } else {
            let v = cp - 0x10000;
            let _ = write!(
                out,
                "\\u{:04x}\\u{:04x}",
                0xD800 + (v >> 10),
                0xDC00 + (v & 0x3FF)
            );
        }
    }
    out.push('"');
}

/// A string as `json.dumps(s, ensure_ascii=False)` writes it: only `"`, `\` and control
/// characters below U+0020 are escaped.
pub fn write_str_unicode(s: &str, out: &mut String) {
    out.push('"');
    let mut run_start = 0;
    for (i, c) in s.char_indices() {
        let cp = c as u32;
        if cp >= 0x20 && c != '"' && c != '\\' {
            continue;
        }
        out.push_str(&s[run_start..i]);
        if !push_short_escape(cp, out) {
            let _ = write!(out, "\\u{cp:04x}");
        }
        run_start = i + c.len_utf8();
    }
    out.push_str(&s[run_start..]);
    out.push('"');
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
