//! Recipe V2's curation: exact-title and exact-text dedupe after a seeded shuffle, one
//! global price-squared weighted draw, a second shuffle, three splits. Only per-item keys
//! are held in memory; the texts are read again to write the splits. See README.md.

pub mod cli;
pub mod config;
pub mod dedupe;
pub mod draw;
pub mod keys;
pub mod run;
pub mod trace;

pub use config::CurateConfig;
pub use run::CurateStage;
