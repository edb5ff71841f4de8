//! Python semantics that the recipe's output depends on, each in its own small module.
//!
//! The recipe ran as a Python notebook; its bytes depend on CPython 3.11 behaviour that
//! Rust does not share by default. Every such behaviour lives here, named after the
//! Python function it reproduces, with tests against values CPython itself printed.

pub mod float;
pub mod json;
pub mod numpy;
pub mod random;
pub mod round;
pub mod transformers;
pub mod unicode;
mod unicode_tables;

pub use unicode_tables::UNICODE_VERSION;
