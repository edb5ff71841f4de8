//! One raw line to a candidate: the Hub loader's view of the row, then rules 1-4.
//!
//! The recipe saw rows through the Hub's loading script, which did
//! `dp["details"] = json.dumps(dp["details"])` and `dp["price"] = str(dp["price"])`;
//! `make_item` then used Python truthiness and `"\n".join(...)`. Each step below names the
//! Python it reproduces, because rows are kept or rejected exactly as Python did.

use std::borrow::Cow;

use std::sync::OnceLock;

use memchr::memmem::Finder;
use pricer_core::recipe::{CEILING_CHARS, DETAIL_REMOVALS, MAX_PRICE, MIN_CHARS, MIN_PRICE};
use pricer_pycompat::float::{float_repr, parse_float};
use pricer_pycompat::json::{
    self, count_code_points, cut_code_points, push_code_point, PyStr, Value,
};

use crate::reject::{Reason, Reject};
use crate::scrub::scrub;

/// What rules 1-4 keep of a row.
#[derive(Debug, Clone, PartialEq)]
pub struct Kept {
    pub title: String,
    pub price: f64,
    pub text: String,
    /// The loader's string of the details, before the removals.
    pub details: Option<String>,
}

/// Applies the Hub loader emulation and rules 1-4 to one line (without its terminator).
///
/// The line is checked as `json.loads` would (same verdict, same message), but only the
/// five fields the rules read are built, each when its rule needs it: about half of all
/// rows have no price, and they are rejected without building anything.
pub fn process_line(line: &[u8]) -> Result<Kept, Reject> {
    let text = std::str::from_utf8(line).map_err(|e| {
        Reject::new(
            Reason::InvalidUtf8,
            format!("invalid UTF-8 at byte {}", e.valid_up_to()),
        )
    })?;
    let scanned = json::scan_fields(text, FIELDS)
        .map_err(|e| Reject::new(Reason::InvalidJson, e.to_string()))?;
    let found = match scanned {
        json::Scanned::Object(found) => found,
        json::Scanned::NotObject(kind) => {
            return Err(Reject::new(
                Reason::NotObject,
                format!("a JSON {kind}, not an object"),
            ))
        }
    };
    process_fields(|name| {
        let at = FIELDS.iter().position(|f| *f == name)?;
        let range = found[at].clone()?;
        // Checked by the scan already; a failure here would be a bug, kept as a reject.
        Some(json::loads(&text[range]).map_err(|e| {
            Reject::new(
                Reason::InvalidJson,
                format!("internal: rescanning a field: {e}"),
            )
        }))
    })
}

/// The keys rules 1-4 read.
const FIELDS: [&str; 5] = ["price", "description", "features", "details", "title"];

fn kind(v: &Value<'_>) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Int(_) | Value::Float(_) => "number",
        Value::Str(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Rules 1-4 with each field built when asked for (`get(name)`: absent, the value, or
/// why it could not be built).
fn process_fields<'a>(
    get: impl Fn(&str) -> Option<Result<Value<'a>, Reject>>,
) -> Result<Kept, Reject> {
    let field = |name: &str| get(name).transpose();
    let price = price(field("price")?.as_ref())?;

    // Rule 2: contents, in generalised UTF-8 since Python strings may hold lone surrogates.
    let mut contents: Vec<u8> = Vec::with_capacity(2048);
    join_lines(field("description")?.as_ref(), "description", &mut contents)?;
    join_lines(field("features")?.as_ref(), "features", &mut contents)?;
    let mut raw_details = None;
    if let Some(details) = field("details")? {
        // json.dumps never returns an empty string, so `if details:` always holds.
        let mut d = String::with_capacity(1024);
        json::dump_into(&details, &mut d);
        let mut d = raw_details.insert(d).clone().into_bytes();
        for finder in removal_finders() {
            delete_all(&mut d, finder);
        }
        contents.extend_from_slice(&d);
        contents.push(b'\n');
    }

    // Rule 3: length in code points, then the cut.
    let chars = count_code_points(&contents);
    if chars <= MIN_CHARS {
        return Err(Reject::new(
            Reason::TooShort,
            format!("contents has {chars} characters (needs more than {MIN_CHARS})"),
        ));
    }
    let cut = cut_code_points(&contents, CEILING_CHARS);

    // Rule 4: the title must be a string.
    let title = field("title")?;
    let title = match &title {
        None => return Err(Reject::new(Reason::TitleMissing, "no title")),
        Some(Value::Str(s)) => s,
        Some(other) => {
            return Err(Reject::new(
                Reason::TitleNotString,
                format!("title is a {}", kind(other)),
            ))
        }
    };
    // The tokenizer (rule 5) cannot take lone surrogates: Python raised there.
    let (Some(title), Ok(contents)) = (title.as_str(), std::str::from_utf8(cut)) else {
        return Err(Reject::new(
            Reason::Unencodable,
            "lone surrogate in title or contents",
        ));
    };
    let mut text = scrub(title);
    text.push('\n');
    text.push_str(&scrub(contents));
    Ok(Kept {
        title: title.to_owned(),
        price,
        text,
        details: raw_details,
    })
}

/// Rule 1 on the loader's `str(price)`.
fn price(v: Option<&Value<'_>>) -> Result<f64, Reject> {
    let text: Cow<'_, str> = match v {
        None => return Err(Reject::new(Reason::PriceMissing, "no price")),
        Some(Value::Null) => return Err(Reject::new(Reason::PriceMissing, "price is null")),
        Some(Value::Str(s)) if s.is_empty() => {
            return Err(Reject::new(Reason::PriceEmpty, "price is \"\""))
        }
        Some(Value::Str(PyStr::Utf8(s))) => Cow::Borrowed(s),
        Some(Value::Int(digits)) => Cow::Borrowed(digits),
        // str(float) then float() gives the same bits back.
        Some(Value::Float(x)) => Cow::Owned(float_repr(*x)),
        Some(other) => {
            return Err(Reject::new(
                Reason::PriceNotNumber,
                format!("price is a {}", kind(other)),
            ));
        }
    };
    let Some(price) = parse_float(&text) else {
        return Err(Reject::new(
            Reason::PriceNotNumber,
            format!("float({}) fails", short(&text)),
        ));
    };
    if !(MIN_PRICE..=MAX_PRICE).contains(&price) {
        return Err(Reject::new(
            Reason::PriceOutOfRange,
            format!(
                "price {} outside {MIN_PRICE}..={MAX_PRICE}",
                float_repr(price)
            ),
        ));
    }
    Ok(price)
}

fn short(s: &str) -> String {
    let mut out: String = s.chars().take(40).collect();
    if out.len() < s.len() {
        out.push('…');
    }
    format!("{out:?}")
}

/// `x = "\n".join(v or []); if x: contents += x + "\n"`, with Python's truthiness and
/// iteration: a string joins its characters, a dict its keys, a number raises.
fn join_lines(v: Option<&Value<'_>>, name: &str, out: &mut Vec<u8>) -> Result<(), Reject> {
    let start = out.len();
    let push = |n: usize, s: &PyStr<'_>, out: &mut Vec<u8>| {
        if n > 0 {
            out.push(b'\n');
        }
        out.extend_from_slice(s.as_bytes());
    };
    match v {
        None | Some(Value::Null) | Some(Value::Bool(false)) => {}
        Some(Value::Int(d)) if d == "0" => {}
        Some(Value::Float(x)) if *x == 0.0 => {}
        Some(Value::Str(s)) => {
            for (n, cp) in s.code_points().enumerate() {
                if n > 0 {
                    out.push(b'\n');
                }
                push_code_point(out, cp);
            }
        }
        Some(Value::Array(items)) => {
            for (n, item) in items.iter().enumerate() {
                match item {
                    Value::Str(s) => push(n, s, out),
                    other => {
                        return Err(Reject::new(
                            Reason::BadFieldType,
                            format!("{name}[{n}] is a {}, not a string", kind(other)),
                        ));
                    }
                }
            }
        }
        Some(Value::Object(entries)) => {
            for (n, (k, _)) in entries.iter().enumerate() {
                push(n, k, out);
            }
        }
        Some(other) => {
            return Err(Reject::new(
                Reason::BadFieldType,
                format!(
                    "{name} is a {}, which \"\\n\".join cannot take",
                    kind(other)
                ),
            ));
        }
    }
    if out.len() > start {
        out.push(b'\n');
    }
    Ok(())
}

/// One searcher per removal, built once (details are searched 13 times per row).
fn removal_finders() -> &'static [Finder<'static>] {
    static FINDERS: OnceLock<Vec<Finder<'static>>> = OnceLock::new();
    FINDERS.get_or_init(|| {
        DETAIL_REMOVALS
            .iter()
            .map(|r| Finder::new(r.as_bytes()))
            .collect()
    })
}

/// Python's `s.replace(needle, "")`: every non-overlapping occurrence, left to right.
fn delete_all(s: &mut Vec<u8>, finder: &Finder<'_>) {
    let Some(first) = finder.find(s) else {
        return;
    };
    let n = finder.needle().len();
    let mut out = Vec::with_capacity(s.len());
    out.extend_from_slice(&s[..first]);
    let mut at = first + n;
    while let Some(i) = finder.find(&s[at..]) {
        out.extend_from_slice(&s[at..at + i]);
        at += i + n;
    }
    out.extend_from_slice(&s[at..]);
    *s = out;
}

#[cfg(test)]
mod tests {
    #[test]
    fn delete_all_is_python_replace_with_nothing() {
        for (text, needle) in [
            ("NumberNumber of Number", "Number"),
            ("aaaa", "aa"),
            ("aaa", "aa"),
            ("IteItemm", "Item"),
            ("", ":"),
            ("::x:", ":"),
            ("no match", "Package"),
        ] {
            let finder = Finder::new(needle.as_bytes());
            let mut got = text.as_bytes().to_vec();
            delete_all(&mut got, &finder);
            assert_eq!(
                String::from_utf8(got).unwrap(),
                text.replace(needle, ""),
                "{text:?} - {needle:?}"
            );
        }
    }

    use super::*;

    fn long_desc() -> String {
        "word ".repeat(80)
    }

    fn row(extra: &str) -> String {
        format!(
            r#"{{"title": "A title", "description": ["{}"]{extra}}}"#,
            long_desc()
        )
    }

    fn reason(line: &str) -> Reason {
        process_line(line.as_bytes()).unwrap_err().reason
    }

    #[test]
    fn prices_follow_python_float() {
        assert_eq!(
            process_line(row(r#", "price": 12.99"#).as_bytes())
                .unwrap()
                .price,
            12.99
        );
        assert_eq!(
            process_line(row(r#", "price": " 12.99 ""#).as_bytes())
                .unwrap()
                .price,
            12.99
        );
        assert_eq!(
            process_line(row(r#", "price": "1_2.5""#).as_bytes())
                .unwrap()
                .price,
            12.5
        );
        assert_eq!(
            process_line(row(r#", "price": 12"#).as_bytes())
                .unwrap()
                .price,
            12.0
        );
        assert_eq!(reason(&row("")), Reason::PriceMissing);
        assert_eq!(reason(&row(r#", "price": null"#)), Reason::PriceMissing);
        assert_eq!(reason(&row(r#", "price": """#)), Reason::PriceEmpty);
        assert_eq!(
            reason(&row(r#", "price": "$12.99""#)),
            Reason::PriceNotNumber
        );
        assert_eq!(reason(&row(r#", "price": true"#)), Reason::PriceNotNumber);
        assert_eq!(reason(&row(r#", "price": [12]"#)), Reason::PriceNotNumber);
        assert_eq!(reason(&row(r#", "price": "nan""#)), Reason::PriceOutOfRange);
        assert_eq!(reason(&row(r#", "price": NaN"#)), Reason::PriceOutOfRange);
        assert_eq!(reason(&row(r#", "price": 1e400"#)), Reason::PriceOutOfRange);
        assert_eq!(reason(&row(r#", "price": 999.5"#)), Reason::PriceOutOfRange);
        assert_eq!(reason(&row(r#", "price": 0.49"#)), Reason::PriceOutOfRange);
    }

    #[test]
    fn join_follows_python_iteration() {
        let mut out = Vec::new();
        let v = json::loads(r#""abc""#).unwrap();
        join_lines(Some(&v), "d", &mut out).unwrap();
        assert_eq!(out, b"a\nb\nc\n");
        out.clear();
        let v = json::loads(r#"{"k1": 1, "k2": 2}"#).unwrap();
        join_lines(Some(&v), "d", &mut out).unwrap();
        assert_eq!(out, b"k1\nk2\n");
        for falsy in [
            "0", "0.0", "-0.0", "false", "\"\"", "[]", "{}", "null", "[\"\"]",
        ] {
            out.clear();
            join_lines(Some(&json::loads(falsy).unwrap()), "d", &mut out).unwrap();
            assert!(out.is_empty(), "{falsy} adds nothing");
        }
        out.clear();
        join_lines(Some(&json::loads(r#"["", ""]"#).unwrap()), "d", &mut out).unwrap();
        assert_eq!(out, b"\n\n");
        for bad in ["1", "true", "2.5", "[1]", "[\"a\", null]"] {
            assert!(
                join_lines(Some(&json::loads(bad).unwrap()), "d", &mut Vec::new()).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn rows_that_are_not_objects_or_not_json() {
        assert_eq!(reason("[1, 2, 3]"), Reason::NotObject);
        assert_eq!(reason("\"details\""), Reason::NotObject);
        assert_eq!(reason("not json"), Reason::InvalidJson);
        assert_eq!(reason(""), Reason::InvalidJson);
        assert_eq!(
            process_line(b"{\"title\": \"\xff\"}").unwrap_err().reason,
            Reason::InvalidUtf8
        );
    }

    #[test]
    fn title_rules() {
        let no_title = format!(r#"{{"price": 5, "description": ["{}"]}}"#, long_desc());
        assert_eq!(reason(&no_title), Reason::TitleMissing);
        let null_title = format!(
            r#"{{"title": null, "price": 5, "description": ["{}"]}}"#,
            long_desc()
        );
        assert_eq!(reason(&null_title), Reason::TitleNotString);
        let lone = format!(
            r#"{{"title": "x\ud800", "price": 5, "description": ["{}"]}}"#,
            long_desc()
        );
        assert_eq!(reason(&lone), Reason::Unencodable);
    }

    #[test]
    fn lone_surrogate_beyond_the_cut_is_harmless() {
        let desc = "a".repeat(1200);
        let line = format!(r#"{{"title": "t", "price": 5, "description": ["{desc}\ud800"]}}"#);
        let kept = process_line(line.as_bytes()).unwrap();
        assert_eq!(kept.text, format!("t\n{}", "a".repeat(1120)));
    }

    #[test]
    fn details_null_and_empty_still_add_a_line() {
        let line = format!(
            r#"{{"title": "t", "price": 5, "description": ["{}"], "details": null}}"#,
            "b".repeat(296)
        );
        // 296 + "\n" + "null\n" = 302 characters: kept.
        assert!(process_line(line.as_bytes()).is_ok());
        let line = format!(
            r#"{{"title": "t", "price": 5, "description": ["{}"]}}"#,
            "b".repeat(296)
        );
        assert_eq!(reason(&line), Reason::TooShort);
    }
}
