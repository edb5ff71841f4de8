//! Audit: what a user looks at before spending GPU hours on the data. Token facts for
//! the recipe's tokenizer and others side by side, the last tokens of chosen prompts,
//! statistics, charts, a self-contained `report.html` and `audit.json`.

pub mod balance;
pub mod cli;
pub mod compare_charts;
pub mod facts;
pub mod report;
pub mod report_summary;
pub mod run;
pub mod stats;
pub mod summary;
/// The charts: pricer-charts' and this crate's two that compare sets.
pub mod svg {
    pub use crate::compare_charts::{compare_histogram, grouped_bars};
    pub use pricer_charts::*;
}
pub mod v2;

pub use run::{audit, AuditStage};
pub use v2::V2AuditStage;

/// The other tokenizers bundled for comparison, relative to the workspace root.
pub const BUNDLED_COMPARE: [(&str, &str); 3] = [
    ("Qwen3", "fixtures/tokenizers/qwen3/tokenizer.json"),
    ("Gemma 3", "fixtures/tokenizers/gemma3/tokenizer.json"),
    ("Llama 2", "fixtures/tokenizers/llama-2/tokenizer.json"),
];

/// The bundled comparison tokenizers, found from the current folder or the workspace root.
pub fn bundled_compare() -> Vec<(String, std::path::PathBuf)> {
    BUNDLED_COMPARE
        .iter()
        .map(|(n, p)| ((*n).to_owned(), pricer_tokenizer::source::bundled(p)))
        .collect()
}
