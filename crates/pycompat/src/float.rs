//! Python's `float(str)` and `repr(float)`.
//!
//! `float()` accepts more than Rust's `f64::from_str` (Unicode whitespace around the
//! number, decimal digits of any script, `_` between digits) and less (no `+inf` spelled
//! `infinit`, no hex). Both parse decimal text correctly rounded, so once the text is
//! brought to Rust's grammar the bits agree.

use crate::unicode::{Unicode, PY311};

/// CPython 3.11's `float(s)` for a `str` (recipe V1): `None` where Python raises.
pub fn parse_float(s: &str) -> Option<f64> {
    parse_float_in(s, PY311)
}

/// `float(s)` for a `str` with the Unicode tables of a given CPython: `None` where
/// Python raises `ValueError`.
pub fn parse_float_in(s: &str, py: &Unicode) -> Option<f64> {
    // CPython first maps Unicode whitespace to ' ' and decimal digits to ASCII, and fails
    // on any other non-ASCII character; then it strips ASCII whitespace.
    let ascii: std::borrow::Cow<'_, str> = if s.is_ascii() {
        s.into()
    } else {
        let mut out = String::with_capacity(s.len());
        for c in s.chars() {
            if c.is_ascii() {
                out.push(c);
            } else if py.is_space(c) {
                out.push(' ');
            } else if let Some(d) = py.decimal_value(c) {
                out.push(char::from(b'0' + d as u8));
            } else {
                return None;
            }
        }
        out.into()
    };
    // The strip that follows is C's isspace: U+001C..U+001F are not stripped, though
    // `str.isspace()` calls them spaces (`float("12\x1c")` raises).
    let t = ascii.trim_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r']);
    let (negative, body) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let magnitude = if body.eq_ignore_ascii_case("inf") || body.eq_ignore_ascii_case("infinity") {
        f64::INFINITY
    } else if body.eq_ignore_ascii_case("nan") {
        f64::NAN
    } else {
        parse_decimal(body)?
    };
    Some(if negative { -magnitude } else { magnitude })
}

/// A decimal literal in Python's grammar (`digitpart` allows single `_` between digits),
/// without sign; correctly rounded.
fn parse_decimal(body: &str) -> Option<f64> {
    let b = body.as_bytes();
    let mut i = 0;
    let int_digits = digit_part(b, &mut i);
    let mut frac_digits = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        frac_digits = digit_part(b, &mut i);
    }
    if int_digits == 0 && frac_digits == 0 {
        return None;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digit_part(b, &mut i) == 0 {
            return None;
        }
    }
    if i != b.len() {
        return None;
    }
    let cleaned: std::borrow::Cow<'_, str> = if body.contains('_') {
        body.replace('_', "").into()
    } else {
        body.into()
    };
    cleaned.parse::<f64>().ok()
}

/// Consumes `digit (["_"] digit)*` at `*i`; returns the number of digits (0: nothing
/// consumed). A `_` not followed by a digit is left unconsumed, so the caller fails.
fn digit_part(b: &[u8], i: &mut usize) -> usize {
    let mut n = 0;
    while *i < b.len() {
        if b[*i].is_ascii_digit() {
            *i += 1;
            n += 1;
        } else if b[*i] == b'_' && n > 0 && b.get(*i + 1).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        } else {
            break;
        }
    }
    n
}

/// Python `repr(x)` (also `str(x)`) for a float: the shortest digits that round-trip,
/// fixed notation for exponents -4..16, scientific (`1e-05`, `1e+16`) outside, and a
/// trailing `.0` on integral values.
pub fn float_repr(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if x == 0.0 {
        return if x.is_sign_negative() {
            "-0.0".into()
        } else {
            "0.0".into()
        };
    }
    // Shortest round-trip digits, with exact ties broken to even as CPython's dtoa does
    // (Rust's own formatter breaks them upward: 887029774400192.25 -> ...192.3).
    let (digits, decpt) = shortest_digits(x.abs());
    let sign = if x < 0.0 { "-" } else { "" };
    let n = digits.len() as i32;
    if -4 < decpt && decpt <= 16 {
        if decpt <= 0 {
            format!("{sign}0.{}{digits}", "0".repeat((-decpt) as usize))
        } else if decpt >= n {
            format!("{sign}{digits}{}.0", "0".repeat((decpt - n) as usize))
        } else {
            let (a, b) = digits.split_at(decpt as usize);
            format!("{sign}{a}.{b}")
        }
    } else {
        let (first, rest) = digits.split_at(1);
        let dot = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        let exp = decpt - 1;
        let esign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{first}{dot}e{esign}{:02}", exp.abs())
    }
}

/// The shortest digits of a finite positive `x` and Python's `decpt` (the value is
/// `0.DIGITS * 10^decpt`), read off ryu's output.
fn shortest_digits(x: f64) -> (String, i32) {
    let mut buf = ryu::Buffer::new();
    let text = buf.format_finite(x);
    let (mantissa, exp) = match text.split_once(['e', 'E']) {
        Some((m, e)) => (m, e.parse::<i32>().expect("ryu exponent is an integer")),
        None => (text, 0),
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let all: String = format!("{int_part}{frac_part}");
    let leading = all.len() - all.trim_start_matches('0').len();
    let digits = all.trim_start_matches('0').trim_end_matches('0').to_owned();
    let decpt = int_part.len() as i32 - leading as i32 + exp;
    (digits, decpt)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_accepts_what_python_accepts() {
        assert_eq!(parse_float("12.99"), Some(12.99));
        assert_eq!(parse_float(" \t12.99\n"), Some(12.99));
        assert_eq!(parse_float("\u{a0}12.99\u{3000}"), Some(12.99));
        assert_eq!(parse_float("1_000.5"), Some(1000.5));
        assert_eq!(parse_float("١٢.٥"), Some(12.5));
        assert_eq!(parse_float("+.5"), Some(0.5));
        assert_eq!(parse_float("5."), Some(5.0));
        assert_eq!(parse_float("1e1_0"), Some(1e10));
        assert_eq!(parse_float("-INF"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_float("Infinity"), Some(f64::INFINITY));
        assert!(parse_float("nAn").unwrap().is_nan());
        assert_eq!(parse_float("1e400"), Some(f64::INFINITY));
        assert_eq!(parse_float("-0"), Some(-0.0));
    }

    #[test]
    fn parse_rejects_what_python_rejects() {
        for s in [
            "",
            " ",
            "None",
            "$12.99",
            "from 9.99",
            "12,99",
            "1__0",
            "_1",
            "1_",
            "1._5",
            "1_.5",
            "0x10",
            "1e",
            ".",
            "e5",
            ".e5",
            "1.5f",
            "²",
            "1 2",
            "infinit",
            "nan(1)",
            "--1",
            "+-1",
            "1_e5",
            "12\u{200b}",
        ] {
            assert_eq!(parse_float(s), None, "float({s:?}) raises in Python");
        }
    }

    #[test]
    fn repr_formats_like_python() {
        let cases = [
            (12.99, "12.99"),
            (100.0, "100.0"),
            (0.5, "0.5"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (1e-4, "0.0001"),
            (1e-5, "1e-05"),
            (1e-7, "1e-07"),
            (1.5e300, "1.5e+300"),
            (-0.0, "-0.0"),
            (123456789012345678.0, "1.2345678901234568e+17"),
            (5e-324, "5e-324"),
            (0.1 + 0.2, "0.30000000000000004"),
            (f64::from_bits(0x430935fdb4ddd602), "887029774400192.2"),
            (1e22, "1e+22"),
            (1e-320, "1e-320"),
        ];
        for (x, want) in cases {
            assert_eq!(float_repr(x), want);
        }
    }
}
