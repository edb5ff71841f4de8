//! Python's `repr()` and `str()` of the values `json.loads` builds: strings (quote
//! choice, escapes of what `str.isprintable` calls unprintable), ints, floats, `None`,
//! booleans, lists and dicts. Output is generalised UTF-8 (a lone surrogate is escaped,
//! so it never appears in a repr, but `str()` of a string keeps it).

use std::io::Write as _;

use crate::float::float_repr;
use crate::json::{decode_at, PyStr, Value};
use crate::unicode::Unicode;

/// `repr(s)` for a `str`, appended to `out`.
pub fn repr_str(s: &PyStr<'_>, py: &Unicode, out: &mut Vec<u8>) {
    let b = s.as_bytes();
    let squote = memchr::memchr(b'\'', b).is_some();
    let dquote = memchr::memchr(b'"', b).is_some();
    // '...' unless the string has a ' and no ": then "..." and ' needs no escape.
    let quote = if squote && !dquote { b'"' } else { b'\'' };
    out.push(quote);
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c < 0x80 {
            match c {
                b'\\' => out.extend_from_slice(b"\\\\"),
                b'\t' => out.extend_from_slice(b"\\t"),
                b'\n' => out.extend_from_slice(b"\\n"),
                b'\r' => out.extend_from_slice(b"\\r"),
                c if c == quote => out.extend_from_slice(&[b'\\', quote]),
                c if c < 0x20 || c == 0x7F => {
                    let _ = write!(out, "\\x{c:02x}");
                }
                c => out.push(c),
            }
            i += 1;
            continue;
        }
        let (cp, len) = decode_at(b, i);
        match char::from_u32(cp).filter(|&ch| py.is_printable(ch)) {
            Some(_) => out.extend_from_slice(&b[i..i + len]),
            None if cp < 0x100 => {
                let _ = write!(out, "\\x{cp:02x}");
            }
            None if cp < 0x10000 => {
                let _ = write!(out, "\\u{cp:04x}");
            }
            None => {
                let _ = write!(out, "\\U{cp:08x}");
            }
        }
        i += len;
    }
    out.push(quote);
}

/// `repr(v)` appended to `out`.
pub fn repr_value(v: &Value<'_>, py: &Unicode, out: &mut Vec<u8>) {
    match v {
        Value::Null => out.extend_from_slice(b"None"),
        Value::Bool(true) => out.extend_from_slice(b"True"),
        Value::Bool(false) => out.extend_from_slice(b"False"),
        Value::Int(digits) => out.extend_from_slice(digits.as_bytes()),
        Value::Float(x) => out.extend_from_slice(float_repr(*x).as_bytes()),
        Value::Str(s) => repr_str(s, py, out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.extend_from_slice(b", ");
                }
                repr_value(item, py, out);
            }
            out.push(b']');
        }
        Value::Object(entries) => {
            out.push(b'{');
            for (i, (k, item)) in entries.iter().enumerate() {
                if i > 0 {
                    out.extend_from_slice(b", ");
                }
                repr_str(k, py, out);
                out.extend_from_slice(b": ");
                repr_value(item, py, out);
            }
            out.push(b'}');
        }
    }
}

/// `str(v)` appended to `out`: a string is itself, anything else its repr.
pub fn str_value(v: &Value<'_>, py: &Unicode, out: &mut Vec<u8>) {
    match v {
        Value::Str(s) => out.extend_from_slice(s.as_bytes()),
        other => repr_value(other, py, out),
    }
}

/// Python truthiness of a JSON value (`if v:`).
pub fn truthy(v: &Value<'_>) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Int(digits) => digits.as_ref() != "0",
        Value::Float(x) => *x != 0.0,
        Value::Str(s) => !s.is_empty(),
        Value::Array(items) => !items.is_empty(),
        Value::Object(entries) => !entries.is_empty(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::loads;
    use crate::unicode::PY312;

    fn repr(json: &str) -> String {
        let mut out = Vec::new();
        repr_value(&loads(json).unwrap(), PY312, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn strings_choose_quotes_and_escape_like_python_3_12() {
        // Each expected value is what CPython 3.12 prints for repr(json.loads(...)).
        for (json, want) in [
            (r#""plain""#, "'plain'"),
            (r#""it's""#, r#""it's""#),
            (r#""say \"hi\"""#, r#"'say "hi"'"#),
            (r#""both ' and \"""#, r#"'both \' and "'"#),
            (r#""tab\there\nnl\rcr\\bs""#, r"'tab\there\nnl\rcr\\bs'"),
            (r#""\u0000\u001f\u007f""#, r"'\x00\x1f\x7f'"),
            (r#""\u00a0nbsp\u202f\u200b""#, r"'\xa0nbsp\u202f\u200b'"),
            (
                r#""caf\u00e9 \u2011 \ud83d\ude00""#,
                "'café \u{2011} \u{1F600}'",
            ),
            (r#""\ud83d\udedc""#, "'\u{1F6DC}'"),
            (r#""\udbff\udfff \ud800""#, r"'\U0010ffff \ud800'"),
            (r#""\u0085\u2028\ue000""#, r"'\x85\u2028\ue000'"),
        ] {
            assert_eq!(repr(json), want, "{json}");
        }
    }

    #[test]
    fn containers_and_scalars() {
        assert_eq!(
            repr(r#"["a", 1, -0, 1.5, 1e-7, 1e16, null, true, false, [], {"k": "v", "n": [2]}]"#),
            "['a', 1, 0, 1.5, 1e-07, 1e+16, None, True, False, [], {'k': 'v', 'n': [2]}]"
        );
        assert_eq!(repr("12345678901234567890123"), "12345678901234567890123");
        let mut out = Vec::new();
        str_value(&loads(r#""bare 'str'""#).unwrap(), PY312, &mut out);
        assert_eq!(out, b"bare 'str'");
    }

    #[test]
    fn truthiness() {
        for falsy in [
            "null", "false", "0", "-0", "0.0", "-0.0", "\"\"", "[]", "{}",
        ] {
            assert!(!truthy(&loads(falsy).unwrap()), "{falsy}");
        }
        for t in ["true", "1", "0.5", "\" \"", "[0]", "{\"a\": null}"] {
            assert!(truthy(&loads(t).unwrap()), "{t}");
        }
    }
}
