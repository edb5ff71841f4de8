//! `json.dumps`: Python's default options (`ensure_ascii`), and the `ensure_ascii=False`
//! string form the golden files are written with.

use std::fmt::Write as _;

use super::scan::ascii_run;
use super::{PyStr, Value};
use crate::float::float_repr;

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
        Value::Object(entries) => dump_entries(entries.iter(), out),
    }
}

/// `json.dumps` of a dict with these entries, in order (e.g. one with some keys left out).
pub fn dump_entries<'v, 'a: 'v>(
    entries: impl Iterator<Item = &'v (PyStr<'a>, Value<'a>)>,
    out: &mut String,
) {
    out.push('{');
    for (n, (k, item)) in entries.enumerate() {
        if n > 0 {
            out.push_str(", ");
        }
        write_str_ascii(k, out);
        out.push_str(": ");
        dump_into(item, out);
    }
    out.push('}');
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
    if let PyStr::Utf8(s) = s {
        // Runs of printable ASCII go through whole; each other char is escaped.
        let b = s.as_bytes();
        let mut i = 0;
        while i < b.len() {
            let n = ascii_run(&b[i..]);
            out.push_str(&s[i..i + n]);
            i += n;
            if let Some(c) = s[i..].chars().next() {
                escape_ascii(c as u32, out);
                i += c.len_utf8();
            }
        }
        out.push('"');
        return;
    }
    for cp in s.code_points() {
        escape_ascii(cp, out);
    }
    out.push('"');
}

/// One code point as `json.dumps` (ensure_ascii) writes it.
fn escape_ascii(cp: u32, out: &mut String) {
    if push_short_escape(cp, out) {
        return;
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
