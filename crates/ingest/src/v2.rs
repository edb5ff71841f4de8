//! Recipe V2's row rules (the course's December 2025 `parse`): one raw line to an
//! `items_raw` record, with CPython 3.12's semantics throughout (docs/recipe-v2.md).
//!
//! The rows are seen as the Hub loader delivered them (as in V1): `details` went through
//! `json.dumps` and back through `json.loads` (an exact round trip, so the decoded value
//! is used as it is), and `price` became `str(value)`. Checks run in the order the
//! course's parser evaluates them, so the first failing one names the reason; where the
//! course's code would raise, the row is rejected instead.

use pricer_core::recipe_v2;
use pricer_core::RawItem;
use pricer_pycompat::code_runs::delete_code_runs;
use pricer_pycompat::float::parse_float_in;
use pricer_pycompat::json::{
    self, count_code_points, cut_code_points, decode_at, dump_entries, has_surrogate,
    write_str_ascii, PyStr, Value,
};
use pricer_pycompat::repr::{str_value, truthy};
use pricer_pycompat::unicode::{Unicode, PY312};
use serde::{Deserialize, Serialize};

use crate::reject::{Reason, Reject};
use crate::rules::{RowPlace, RowRules};

/// The CPython whose semantics V2's bytes follow.
const PY: &Unicode = PY312;

/// Recipe V2's text knobs, with the course's values by default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct V2 {
    /// Keep an item whose text has at least this many code points.
    pub min_chars: usize,
    /// Each description/features line is cut to this many code points.
    pub each_chars: usize,
    /// The whole text is cut to this many code points.
    pub total_chars: usize,
    /// Keys deleted from `details` before it is written into the text.
    pub removed_keys: Vec<String>,
}

impl Default for V2 {
    fn default() -> Self {
        V2 {
            min_chars: recipe_v2::MIN_CHARS,
            each_chars: recipe_v2::EACH_CHARS,
            total_chars: recipe_v2::TOTAL_CHARS,
            removed_keys: recipe_v2::REMOVED_KEYS
                .iter()
                .map(|k| (*k).to_owned())
                .collect(),
        }
    }
}

fn field<'v, 'a>(fields: &'v [(PyStr<'a>, Value<'a>)], name: &str) -> Option<&'v Value<'a>> {
    fields
        .iter()
        .find(|(k, _)| k.as_bytes() == name.as_bytes())
        .map(|(_, v)| v)
}

fn reject(reason: Reason, detail: impl Into<String>) -> Reject {
    Reject::new(reason, detail)
}

/// `float(str(price))`, in range.
fn price(v: Option<&Value<'_>>) -> Result<f64, Reject> {
    let v = v.ok_or_else(|| reject(Reason::PriceMissing, "no price key"))?;
    let price = match v {
        // str(float) then float() gives the same bits back.
        Value::Float(x) => Some(*x),
        Value::Int(digits) => parse_float_in(digits, PY),
        Value::Str(s) => s.as_str().and_then(|s| parse_float_in(s, PY)),
        // "None", "True", "[...]", "{...}": float() raises on each.
        _ => None,
    };
    let price = price.ok_or_else(|| reject(Reason::PriceUnparsable, "float(price) raises"))?;
    if !(recipe_v2::MIN_PRICE..=recipe_v2::MAX_PRICE).contains(&price) {
        return Err(reject(
            Reason::PriceOutOfRange,
            format!("price {price} outside the band"),
        ));
    }
    Ok(price)
}

/// Whether `word` (generalised UTF-8) lowercases (`str.lower()`) to the ASCII `target`.
fn lower_is(word: &[u8], target: &str) -> bool {
    let mut lowered = PyStr::Surrogates(word.to_vec())
        .code_points()
        .map(char::from_u32)
        .collect::<Option<Vec<char>>>()
        .unwrap_or_default()
        .into_iter()
        .flat_map(char::to_lowercase);
    target.chars().all(|t| lowered.next() == Some(t)) && lowered.next().is_none()
}

/// `float(word)` for a word of `value.split(" ")`.
fn word_float(word: &[u8]) -> Option<f64> {
    std::str::from_utf8(word)
        .ok()
        .and_then(|w| parse_float_in(w, PY))
}

/// The `Item Weight` detail in pounds (read before the key removals); 0.0 when absent,
/// falsy or in an unknown unit.
fn weight(details: &[(PyStr<'_>, Value<'_>)]) -> Result<f64, Reject> {
    let bad = |why: &str| reject(Reason::WeightUnparsable, why.to_owned());
    let Some(v) = field(details, "Item Weight").filter(|v| truthy(v)) else {
        return Ok(0.0);
    };
    let Value::Str(s) = v else {
        return Err(bad("Item Weight is not a string"));
    };
    let words: Vec<&[u8]> = s.as_bytes().split(|&b| b == b' ').collect();
    let amount = word_float(words[0]).ok_or_else(|| bad("float(first word) raises"))?;
    let unit = words.get(1).ok_or_else(|| bad("no unit"))?;
    const DIVISORS: [(&str, f64); 5] = [
        ("pounds", 1.0),
        ("ounces", 16.0),
        ("grams", 453.592),
        ("milligrams", 453_592.0),
        ("kilograms", 0.453_592),
    ];
    if let Some((_, d)) = DIVISORS.iter().find(|(u, _)| lower_is(unit, u)) {
        return Ok(if *d == 1.0 { amount } else { amount / d });
    }
    if lower_is(unit, "hundredths") {
        let third = words.get(2).ok_or_else(|| bad("hundredths of what"))?;
        return Ok(if lower_is(third, "pounds") {
            amount / 100.0
        } else {
            0.0
        });
    }
    Ok(0.0)
}

/// Python's `s.replace(old, new)` on generalised UTF-8 (ASCII `old`, so it never matches
/// inside a multi-byte character).
fn replace(s: &[u8], old: &[u8], new: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let finder = memchr::memmem::Finder::new(old);
    let mut at = 0;
    for i in finder.find_iter(s) {
        if i < at {
            continue; // inside the previous, non-overlapping match
        }
        out.extend_from_slice(&s[at..i]);
        out.extend_from_slice(new);
        at = i + old.len();
    }
    out.extend_from_slice(&s[at..]);
    out
}

/// Python's `s.strip()` (str.isspace) on generalised UTF-8.
fn strip(s: &[u8]) -> &[u8] {
    let is_space = |cp: u32| char::from_u32(cp).is_some_and(|c| PY.is_space(c));
    let mut start = 0;
    while start < s.len() {
        let (cp, len) = decode_at(s, start);
        if !is_space(cp) {
            break;
        }
        start += len;
    }
    let mut end = s.len();
    while end > start {
        let mut k = end - 1;
        while k > start && (s[k] & 0xC0) == 0x80 {
            k -= 1;
        }
        if !is_space(decode_at(s, k).0) {
            break;
        }
        end = k;
    }
    &s[start..end]
}

impl V2 {
    /// A description or features line: `str(v)`, newlines to spaces, `\r` and `\t` gone,
    /// double spaces halved in one left-to-right pass, stripped, cut.
    fn render_field(&self, v: &Value<'_>, out: &mut Vec<u8>) {
        let mut s = Vec::new();
        str_value(v, PY, &mut s);
        // .replace("\n", " ").replace("\r", "").replace("\t", ""): byte maps, one pass.
        s.retain(|&b| b != b'\r' && b != b'\t');
        for b in &mut s {
            if *b == b'\n' {
                *b = b' ';
            }
        }
        let s = replace(&s, b"  ", b" ");
        out.extend_from_slice(cut_code_points(strip(&s), self.each_chars));
    }

    /// The item's text (generalised UTF-8), before the length check.
    fn assemble(
        &self,
        title: &PyStr<'_>,
        fields: &[(PyStr<'_>, Value<'_>)],
        details: &[(PyStr<'_>, Value<'_>)],
    ) -> Vec<u8> {
        let mut text = title.as_bytes().to_vec();
        text.push(b'\n');
        for name in ["description", "features"] {
            if let Some(v) = field(fields, name).filter(|v| truthy(v)) {
                self.render_field(v, &mut text);
                text.push(b'\n');
            }
        }
        let kept = details.iter().filter(|(k, _)| {
            !self
                .removed_keys
                .iter()
                .any(|r| r.as_bytes() == k.as_bytes())
        });
        if kept.clone().next().is_some() {
            let mut dumped = String::new();
            dump_entries(kept, &mut dumped);
            text.extend_from_slice(dumped.as_bytes());
            text.push(b'\n');
        }
        let text = delete_code_runs(&text, PY);
        cut_code_points(strip(&text), self.total_chars).to_vec()
    }

    /// The rules on a decoded row.
    pub fn parse_row(
        &self,
        fields: &[(PyStr<'_>, Value<'_>)],
        category: &str,
    ) -> Result<RawItem, Reject> {
        let price = price(field(fields, "price"))?;
        let details = field(fields, "details")
            .ok_or_else(|| reject(Reason::DetailsMissing, "no details key"))?;
        let Value::Object(details) = details else {
            return Err(reject(
                Reason::DetailsNotObject,
                "details is not a JSON object",
            ));
        };
        let weight = weight(details)?;
        let Some(Value::Str(title)) = field(fields, "title") else {
            return Err(reject(
                Reason::TitleNotString,
                "title is absent or not a string",
            ));
        };
        let full = self.assemble(title, fields, details);
        let chars = count_code_points(&full);
        if chars < self.min_chars {
            return Err(reject(
                Reason::TooShort,
                format!("text has {chars} characters (needs {})", self.min_chars),
            ));
        }
        if has_surrogate(title.as_bytes()) || has_surrogate(&full) {
            return Err(reject(
                Reason::Unencodable,
                "lone surrogate in title or text",
            ));
        }
        let utf8 = |b: Vec<u8>| String::from_utf8(b).expect("generalised UTF-8 without surrogates");
        Ok(RawItem {
            title: utf8(title.as_bytes().to_vec()),
            category: category.to_owned(),
            price,
            full: utf8(full),
            weight,
        })
    }
}

impl RowRules for V2 {
    type Record = RawItem;
    const ARTIFACT: &'static str = "items_raw.art";

    fn apply(&self, line: &[u8], at: RowPlace<'_>) -> Result<RawItem, Reject> {
        let text = std::str::from_utf8(line).map_err(|e| {
            reject(
                Reason::InvalidUtf8,
                format!("invalid UTF-8 at byte {}", e.valid_up_to()),
            )
        })?;
        let value = json::loads(text).map_err(|e| reject(Reason::InvalidJson, e.to_string()))?;
        let Value::Object(fields) = value else {
            return Err(reject(Reason::NotObject, "not a JSON object"));
        };
        self.parse_row(&fields, at.category)
    }

    fn config(&self, categories: Vec<String>) -> serde_json::Value {
        serde_json::json!({
            "recipe": "v2",
            "categories": categories,
            "rules": self,
        })
    }

    /// `json.dumps({"file": basename, "line": n, "reason": code})`, as the reference
    /// writes rejects.
    fn reject_line(&self, path: &str, line: u64, r: &Reject, out: &mut String) {
        let name = std::path::Path::new(path)
            .file_name()
            .map_or_else(|| path.to_owned(), |n| n.to_string_lossy().into_owned());
        out.push_str("{\"file\": ");
        write_str_ascii(&PyStr::Utf8(name.into()), out);
        out.push_str(&format!(
            ", \"line\": {line}, \"reason\": \"{}\"}}",
            r.reason.code()
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replace_is_pythons_single_left_to_right_pass() {
        for (s, want) in [
            ("a  b", "a b"),
            ("a   b", "a  b"),
            ("a    b", "a  b"),
            ("a     b", "a   b"),
            ("", ""),
        ] {
            assert_eq!(replace(s.as_bytes(), b"  ", b" "), want.as_bytes(), "{s:?}");
        }
    }

    #[test]
    fn weights_follow_the_course_rule() {
        let w = |s: &str| {
            let v = json::loads(s).unwrap();
            let Value::Object(d) = v else { panic!() };
            weight(&d).map_err(|r| r.reason)
        };
        assert_eq!(w(r#"{"Item Weight": "2 Pounds"}"#), Ok(2.0));
        assert_eq!(w(r#"{"Item Weight": "8 ounces"}"#), Ok(0.5));
        assert_eq!(
            w(r#"{"Item Weight": "1 \u212Ailograms"}"#),
            Ok(1.0 / 0.453592)
        );
        assert_eq!(w(r#"{"Item Weight": "250 hundredths pounds"}"#), Ok(2.5));
        assert_eq!(w(r#"{"Item Weight": "250 hundredths inches"}"#), Ok(0.0));
        assert_eq!(w(r#"{"Item Weight": "5  pounds"}"#), Ok(0.0));
        assert_eq!(w(r#"{"Item Weight": "3 stone"}"#), Ok(0.0));
        assert_eq!(w(r#"{"Item Weight": ""}"#), Ok(0.0));
        assert_eq!(w(r#"{"Item Weight": 0}"#), Ok(0.0));
        assert_eq!(w(r#"{}"#), Ok(0.0));
        assert_eq!(w(r#"{"Item Weight": 5}"#), Err(Reason::WeightUnparsable));
        assert_eq!(
            w(r#"{"Item Weight": "Scooter Pounds"}"#),
            Err(Reason::WeightUnparsable)
        );
        assert_eq!(w(r#"{"Item Weight": "7"}"#), Err(Reason::WeightUnparsable));
        assert_eq!(
            w(r#"{"Item Weight": "7 hundredths"}"#),
            Err(Reason::WeightUnparsable)
        );
    }

    #[test]
    fn strip_and_cut_count_code_points() {
        assert_eq!(strip(" \u{a0}x\u{202f}\x1c".as_bytes()), b"x");
        assert_eq!(strip("\u{200b}x".as_bytes()), "\u{200b}x".as_bytes());
        assert_eq!(cut_code_points("éèê".as_bytes(), 2), "éè".as_bytes());
    }
}
