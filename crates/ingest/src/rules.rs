//! A recipe's per-row rules: one raw line to the record the recipe keeps, or a reject.
//! The ingest stage streams any recipe's rules the same way.

use pricer_core::artifact::Record;
use pricer_core::Candidate;

use crate::reject::Reject;

/// Where a row came from.
#[derive(Debug, Clone, Copy)]
pub struct RowPlace<'a> {
    /// The category its file's name gives.
    pub category: &'a str,
    /// The file's index in the run's input list.
    pub file: u32,
    /// 1-based line number (universal newlines).
    pub line: u64,
}

/// The rules of one recipe.
pub trait RowRules: Send + Sync {
    /// What a kept row becomes.
    type Record: Record + Send + Sync;
    /// The output artifact's file name.
    const ARTIFACT: &'static str;

    /// One line (without its terminator) to a record, or why not.
    fn apply(&self, line: &[u8], at: RowPlace<'_>) -> Result<Self::Record, Reject>;

    /// The rules' knobs, for the stage's semantic config.
    fn config(&self, categories: Vec<String>) -> serde_json::Value;

    /// Appends one line of `rejects.jsonl` (without newline) for a rejected row of file
    /// `path`. Called in the workers, so the ordered writer only copies bytes.
    fn reject_line(&self, path: &str, line: u64, reject: &Reject, out: &mut String);
}

/// Recipe V1 (SPEC.md rules 1-4): rows to candidates for the prompt stage.
#[derive(Debug, Clone, Copy, Default)]
pub struct V1;

impl RowRules for V1 {
    type Record = Candidate;
    const ARTIFACT: &'static str = "candidates.art";

    fn apply(&self, line: &[u8], at: RowPlace<'_>) -> Result<Candidate, Reject> {
        let k = crate::row::process_line(line)?;
        Ok(Candidate {
            category: at.category.to_owned(),
            title: k.title,
            price: k.price,
            text: k.text,
            file: at.file,
            line: at.line,
            details: k.details,
        })
    }

    /// V1's rules have no knobs: only the categories the file names give.
    fn config(&self, categories: Vec<String>) -> serde_json::Value {
        serde_json::json!({ "categories": categories })
    }

    /// serde_json's compact form of `{"file", "line", "reason", "detail"}` (its map sorts
    /// keys), written directly: a map per reject cost the writer thread ~6% of ingest.
    fn reject_line(&self, path: &str, line: u64, r: &Reject, out: &mut String) {
        use std::fmt::Write;
        out.push_str("{\"detail\":");
        json_string(&r.detail, out);
        out.push_str(",\"file\":");
        json_string(path, out);
        let _ = write!(out, ",\"line\":{line},\"reason\":");
        json_string(r.reason.code(), out);
        out.push('}');
    }
}

/// `s` as serde_json writes a string (quotes, `\"`, `\\`, short escapes for
/// `\b \f \n \r \t`, `\u00xx` for other control characters, everything else as is).
fn json_string(s: &str, out: &mut String) {
    out.push('"');
    let mut run = 0;
    for (i, b) in s.bytes().enumerate() {
        let esc: &str = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0C => "\\f",
            0x00..=0x1F => "",
            _ => continue,
        };
        out.push_str(&s[run..i]);
        run = i + 1;
        if esc.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.push_str("\\u00");
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 15) as usize] as char);
        } else {
            out.push_str(esc);
        }
    }
    out.push_str(&s[run..]);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reject::Reason;
    use proptest::prelude::*;

    fn by_serde(path: &str, line: u64, r: &Reject) -> String {
        serde_json::json!({"file": path, "line": line, "reason": r.reason.code(), "detail": r.detail})
            .to_string()
    }

    #[test]
    fn v1_reject_lines_are_serde_jsons_bytes() {
        let texts = [
            "",
            "price is null",
            "quote \" backslash \\ slash / tab \t nl \n cr \r bs \u{8} ff \u{c}",
            "controls \u{0} \u{1} \u{1f} \u{7f} del and C1 \u{85} \u{9f}",
            "non-ASCII é 中 🎉 \u{2028} \u{2029} \u{feff}",
        ];
        for detail in texts {
            for path in texts {
                let r = Reject::new(Reason::InvalidJson, detail);
                let mut ours = String::new();
                V1.reject_line(path, 7, &r, &mut ours);
                assert_eq!(ours, by_serde(path, 7, &r));
            }
        }
    }

    proptest! {
        #[test]
        fn v1_reject_lines_match_serde_on_any_text(detail in "\\PC*|[\\x00-\\x20\"\\\\a-z]*", path in ".*", line in any::<u64>()) {
            let r = Reject::new(Reason::TooShort, detail);
            let mut ours = String::from("kept");
            V1.reject_line(&path, line, &r, &mut ours);
            prop_assert_eq!(&ours[4..], by_serde(&path, line, &r));
        }
    }
}
