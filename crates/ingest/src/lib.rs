//! Ingest: raw Amazon metadata rows (JSONL, plain, gzip or zstd) -> candidates.
//!
//! Emulates how the Hub's loader presented each row, applies the recipe's rules 1-4, and
//! accounts for every row: kept as a [`pricer_core::Candidate`] or rejected with a reason.

pub mod reject;
pub mod row;
pub mod run;
pub mod scrub;
pub mod source;

pub use reject::{Reason, Reject};
pub use run::{run, IngestConfig};
