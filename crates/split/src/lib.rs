//! Split: items -> the price-balanced sample (numpy's legacy `choice`) -> Python's seeded
//! `random.shuffle` -> train / test (/ validation).
//!
//! Only per-item keys (price, category, position) are held in memory; the texts are read
//! again from the items artifact to write the splits.

pub mod cli;
pub mod config;
pub mod partition;
pub mod run;
pub mod sample;

pub use config::{SampleConfig, SplitSizes};
pub use run::{SplitStage, SplitSummary};
