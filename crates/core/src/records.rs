//! The records stages exchange. Field order is part of the artifact format.

use serde::{Deserialize, Serialize};

use crate::artifact::Record;

/// A raw row that passed rules 1-4: ready to be tokenized.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    pub category: String,
    /// The title exactly as in the raw row.
    pub title: String,
    pub price: f64,
    /// `scrub(title) + "\n" + scrub(contents)`.
    pub text: String,
    /// Index of the source file in the ingest manifest's input list.
    pub file: u32,
    /// 1-based line number in that file.
    pub line: u64,
    /// The loader's `json.dumps` of the row's details, before rule 2's removals (None
    /// when the row had no `details` key): what the course's pickles keep.
    pub details: Option<String>,
}

impl Record for Candidate {
    const RECORD_TYPE: &'static str = "candidate";
}

/// A kept item (rules 1-7): what the recipe's `Item` held.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    pub category: String,
    pub title: String,
    pub price: f64,
    pub prompt: String,
    pub token_count: u32,
    /// The loader's string of the row's details, before the removals (None: no details).
    pub details: Option<String>,
}

impl Record for Item {
    const RECORD_TYPE: &'static str = "item";
}

impl Item {
    /// The prompt as the test split shows it (ends with `Price is $`).
    pub fn test_prompt(&self) -> String {
        crate::recipe::test_prompt(&self.prompt)
    }
}

/// A kept row of recipe V2 (part 1, "items_raw"): the course's `Item` before summaries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RawItem {
    /// The title exactly as in the raw row.
    pub title: String,
    pub category: String,
    pub price: f64,
    /// The assembled text: title, description, features and details lines, product codes
    /// deleted, stripped, cut to 4,000 code points.
    pub full: String,
    /// `Item Weight` in pounds (0.0 when absent or in another unit).
    pub weight: f64,
}

impl Record for RawItem {
    const RECORD_TYPE: &'static str = "raw_item";
}

/// A V2 item with its LLM summary (part 2, the course's `items_full`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummarizedItem {
    pub title: String,
    pub category: String,
    pub price: f64,
    pub full: String,
    pub weight: f64,
    /// The LLM's rewrite of `full`, exactly as it answered (`message.content`).
    pub summary: String,
}

impl Record for SummarizedItem {
    const RECORD_TYPE: &'static str = "summarized_item";
}

/// A V2 prompt/completion pair (part 3, the course's `items_prompts`), with the figures
/// the audit reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PromptPair {
    pub prompt: String,
    pub completion: String,
    pub price: f64,
    /// Tokens of the summary (before the cut).
    pub summary_tokens: u32,
    /// Whether the summary was cut to the token limit.
    pub cut: bool,
    /// Tokens of `prompt + completion`.
    pub prompt_completion_tokens: u32,
}

impl Record for PromptPair {
    const RECORD_TYPE: &'static str = "prompt_pair";
}
