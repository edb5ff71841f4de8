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

    /// One line of `rejects.jsonl` (without newline) for a rejected row of file `path`.
    fn reject_line(&self, path: &str, line: u64, reject: &Reject) -> String;
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
        })
    }

    /// V1's rules have no knobs: only the categories the file names give.
    fn config(&self, categories: Vec<String>) -> serde_json::Value {
        serde_json::json!({ "categories": categories })
    }

    fn reject_line(&self, path: &str, line: u64, r: &Reject) -> String {
        serde_json::json!({"file": path, "line": line, "reason": r.reason.code(), "detail": r.detail})
            .to_string()
    }
}
