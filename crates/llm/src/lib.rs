//! An OpenAI-compatible client that never pays twice: every request has a content
//! address (`Key`), every answer is appended to a cache the moment it arrives, and only
//! what the cache lacks is sent, concurrently, with retries and backoff, its tokens and
//! cost counted. The summarize stage (recipe V2's summaries) and the eval stage (price
//! predictors behind an endpoint) share it.

pub mod cache;
pub mod online;
pub mod request;

pub use cache::Cache;
pub use online::{Job, Transport};
pub use request::{Answer, Failure, Key, Prices, Route, Spent};
