//! `json.loads`: the C scanner in strict mode, as Python builds the values.

use std::borrow::Cow;
use std::collections::HashMap;

use super::scan::string_run;
use super::{push_code_point, PyStr, Value, MAX_DEPTH, MAX_INT_DIGITS};

/// Why `json.loads` raised, and at which byte offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
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
    let v = p.value::<true>()?;
    p.skip_ws();
    if p.i != p.b.len() {
        return Err(p.err("Extra data"));
    }
    Ok(v)
}

/// What [`scan_fields`] found: where the line's top-level object holds each wanted key's
/// value (its last occurrence, as the dict keeps it), or that the line is another kind
/// of value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scanned<const N: usize> {
    Object([Option<std::ops::Range<usize>>; N]),
    /// Valid JSON, but not an object: Python's type name for the reject's detail.
    NotObject(&'static str),
}

/// `json.loads(s)` for a caller that needs a few keys of a top-level object: the same
/// verdict (`Err` with the same message and offset for every line `loads` refuses), but
/// nothing is built; each wanted key's value is left as a byte range of `s`, which
/// [`loads`] then builds on its own (it is valid JSON by then). A row whose first
/// wanted field decides a reject costs no allocation at all.
pub fn scan_fields<const N: usize>(s: &str, wanted: [&str; N]) -> Result<Scanned<N>, LoadError> {
    let mut p = Parser {
        s,
        b: s.as_bytes(),
        i: 0,
        depth: 0,
    };
    p.skip_ws();
    let kind = match p.b.get(p.i) {
        Some(b'{') => None,
        Some(b'[') => Some("array"),
        Some(b'"') => Some("string"),
        Some(b'n') => Some("null"),
        Some(b't' | b'f') => Some("boolean"),
        _ => Some("number"),
    };
    let found = match kind {
        None => {
            // The object's members are one level down, as in `nested`.
            p.depth += 1;
            let found = p.top_object(wanted)?;
            p.depth -= 1;
            found
        }
        Some(kind) => {
            p.value::<false>()?;
            Scanned::NotObject(kind)
        }
    };
    p.skip_ws();
    if p.i != p.b.len() {
        return Err(p.err("Extra data"));
    }
    Ok(found)
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

    /// One value. `BUILD = false` checks it exactly as building would (the same errors at
    /// the same offsets) but builds nothing and returns `Null`.
    fn value<const BUILD: bool>(&mut self) -> Result<Value<'a>, LoadError> {
        match self.b.get(self.i) {
            Some(b'{') => self.nested(Self::object::<BUILD>),
            Some(b'[') => self.nested(Self::array::<BUILD>),
            Some(b'"') => Ok(Value::Str(self.string::<BUILD>()?)),
            Some(b'n') => self.literal("null", Value::Null),
            Some(b't') => self.literal("true", Value::Bool(true)),
            Some(b'f') => self.literal("false", Value::Bool(false)),
            Some(b'N') => self.literal("NaN", Value::Float(f64::NAN)),
            Some(b'I') => self.literal("Infinity", Value::Float(f64::INFINITY)),
            Some(b'-') if self.b[self.i..].starts_with(b"-Infinity") => {
                self.i += "-Infinity".len();
                Ok(Value::Float(f64::NEG_INFINITY))
            }
            Some(b'-' | b'0'..=b'9') => self.number::<BUILD>(),
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

    fn number<const BUILD: bool>(&mut self) -> Result<Value<'a>, LoadError> {
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
        if is_float && !BUILD {
            // Rust parses every literal of this grammar (overflow gives inf).
            return Ok(Value::Null);
        }
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
        if !BUILD {
            return Ok(Value::Null);
        }
        if text == "-0" {
            return Ok(Value::Int(Cow::Borrowed("0")));
        }
        Ok(Value::Int(Cow::Borrowed(text)))
    }

    fn array<const BUILD: bool>(&mut self) -> Result<Value<'a>, LoadError> {
        self.i += 1;
        let mut items = Vec::new();
        self.skip_ws();
        if self.b.get(self.i) == Some(&b']') {
            self.i += 1;
            return Ok(Value::Array(items));
        }
        loop {
            self.skip_ws();
            let item = self.value::<BUILD>()?;
            if BUILD {
                items.push(item);
            }
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

    fn object<const BUILD: bool>(&mut self) -> Result<Value<'a>, LoadError> {
        let mut entries: Vec<(PyStr<'a>, Value<'a>)> = Vec::new();
        // Large objects index their keys so duplicate detection stays linear.
        let mut index: Option<HashMap<Vec<u8>, usize>> = None;
        self.members::<BUILD>(|p, key| {
            let value = p.value::<BUILD>()?;
            if !BUILD {
                return Ok(());
            }
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
            Ok(())
        })?;
        Ok(if BUILD {
            Value::Object(entries)
        } else {
            Value::Null
        })
    }

    /// [`Self::object`] unbuilt, noting where each wanted key's value lies.
    fn top_object<const N: usize>(&mut self, wanted: [&str; N]) -> Result<Scanned<N>, LoadError> {
        let mut found: [Option<std::ops::Range<usize>>; N] = std::array::from_fn(|_| None);
        self.members::<true>(|p, key| {
            let start = p.i;
            p.value::<false>()?;
            if let Some(k) = wanted.iter().position(|w| w.as_bytes() == key.as_bytes()) {
                found[k] = Some(start..p.i);
            }
            Ok(())
        })?;
        Ok(Scanned::Object(found))
    }

    /// An object's `{"key": value, ...}` syntax, the one place its errors are raised;
    /// `member` parses each value (the parser is at its first byte) and keeps what it
    /// wants. `KEYS`: build the keys (else they are only checked).
    fn members<const KEYS: bool>(
        &mut self,
        mut member: impl FnMut(&mut Self, PyStr<'a>) -> Result<(), LoadError>,
    ) -> Result<(), LoadError> {
        self.i += 1;
        self.skip_ws();
        if self.b.get(self.i) == Some(&b'}') {
            self.i += 1;
            return Ok(());
        }
        loop {
            self.skip_ws();
            if self.b.get(self.i) != Some(&b'"') {
                return Err(self.err("Expecting property name enclosed in double quotes"));
            }
            let key = self.string::<KEYS>()?;
            self.skip_ws();
            if self.b.get(self.i) != Some(&b':') {
                return Err(self.err("Expecting ':' delimiter"));
            }
            self.i += 1;
            self.skip_ws();
            member(self, key)?;
            self.skip_ws();
            match self.b.get(self.i) {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    return Ok(());
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

    /// A string; `BUILD = false` checks its escapes and returns it empty.
    fn string<const BUILD: bool>(&mut self) -> Result<PyStr<'a>, LoadError> {
        self.i += 1;
        let start = self.i;
        let b = self.b;
        // Fast path: no escapes, borrow the input.
        let i = start + string_run(&b[start..]);
        match b.get(i) {
            Some(b'"') => {
                self.i = i + 1;
                Ok(PyStr::Utf8(Cow::Borrowed(&self.s[start..i])))
            }
            Some(0x00..=0x1F) => Err(LoadError {
                what: "Invalid control character",
                offset: i,
            }),
            // An escape, or the end of the input: the slow path says which.
            _ => self.escaped_string::<BUILD>(start, i),
        }
    }

    /// The rest of a string that starts at `start` and has an escape (or ends) at `i`.
    fn escaped_string<const BUILD: bool>(
        &mut self,
        start: usize,
        mut i: usize,
    ) -> Result<PyStr<'a>, LoadError> {
        let b = self.b;
        let mut out: Vec<u8> = if BUILD {
            b[start..i].to_vec()
        } else {
            Vec::new()
        };
        let mut surrogates = false;
        let unterminated = LoadError {
            what: "Unterminated string",
            offset: start - 1,
        };
        loop {
            match *b.get(i).ok_or(unterminated)? {
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
                    let esc = *b.get(i + 1).ok_or(unterminated)?;
                    i += 2;
                    if let Some(cp) = self.escape::<BUILD>(esc, &mut i, &mut out)? {
                        surrogates |= (0xD800..=0xDFFF).contains(&cp);
                    }
                }
                _ => {
                    // Copy the run up to the next special byte in one go.
                    let run_end = i + string_run(&b[i..]);
                    if BUILD {
                        out.extend_from_slice(&b[i..run_end]);
                    }
                    i = run_end;
                }
            }
        }
        if !BUILD {
            return Ok(PyStr::Utf8(Cow::Borrowed("")));
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

    /// The escape `\\<esc>` whose next byte is at `*i`: its bytes onto `out` (with
    /// `BUILD`), `*i` past it. Returns the code point of a `\\u` escape (a surrogate pair
    /// joined), None for the one-letter ones.
    fn escape<const BUILD: bool>(
        &self,
        esc: u8,
        i: &mut usize,
        out: &mut Vec<u8>,
    ) -> Result<Option<u32>, LoadError> {
        let simple = match esc {
            b'"' => b'"',
            b'\\' => b'\\',
            b'/' => b'/',
            b'b' => 0x08,
            b'f' => 0x0C,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'u' => {
                let b = self.b;
                let mut cp = self.hex4(*i)?;
                *i += 4;
                if (0xD800..=0xDBFF).contains(&cp)
                    && b.get(*i) == Some(&b'\\')
                    && b.get(*i + 1) == Some(&b'u')
                {
                    let low = self.hex4(*i + 2)?;
                    if (0xDC00..=0xDFFF).contains(&low) {
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                        *i += 6;
                    }
                }
                if BUILD {
                    push_code_point(out, cp);
                }
                return Ok(Some(cp));
            }
            _ => {
                return Err(LoadError {
                    what: "Invalid \\escape",
                    offset: *i - 2,
                })
            }
        };
        if BUILD {
            out.push(simple);
        }
        Ok(None)
    }
}
