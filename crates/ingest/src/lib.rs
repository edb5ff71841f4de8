//! Ingest: raw Amazon metadata rows (JSONL, plain, gzip or zstd) -> a recipe's records.
//!
//! Emulates how the Hub's loader presented each row, applies the recipe's row rules
//! ([`rules`]: V1's in `row` and `scrub`, V2's in `v2`), and accounts for every row:
//! kept, or rejected with a reason.

pub mod chunks;
pub mod cli;
pub mod decode;
pub mod inputs;
pub mod lines;
pub mod reject;
pub mod row;
pub mod rules;
pub mod run;
pub mod scrub;
pub mod v2;

pub use reject::{Reason, Reject};
pub use rules::{RowRules, V1};
pub use run::IngestStage;
pub use v2::V2;
