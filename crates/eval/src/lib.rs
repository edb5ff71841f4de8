//! Eval: scores price predictors on a test split exactly as the course's `Tester` does
//! (V1's `testing.py`, V2's `evaluator.py`): the course's random and constant baselines
//! and predictions made elsewhere or by a model behind an OpenAI-compatible endpoint, each item's answer, guess, error and colour, the
//! metrics to the last bit, and one report comparing them.

pub mod cli;
pub mod config;
pub mod data;
pub mod endpoint;
pub mod predictors;
pub mod published;
pub mod report;
pub mod run;
pub mod score;

pub use config::{EvalConfig, Predictor};
pub use data::Source;
pub use run::EvalStage;
