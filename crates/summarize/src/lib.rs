//! Recipe V2 part 2: each curated item's text rewritten by an LLM through any
//! OpenAI-compatible endpoint (online, or the Batch API), every answer kept in a
//! content-addressed cache so nothing is paid for twice; or the summaries someone already
//! published (`from`). See README.md and docs/recipe-v2.md.

pub mod batch;
pub mod batch_api;
pub mod cli;
pub mod config;
pub mod from;
pub mod request;
pub mod run;

pub use config::{Mode, SummarizeConfig};
pub use run::SummarizeStage;
