//! Python semantics that the recipe's output depends on, each in its own small module.
//!
//! The recipes ran as Python notebooks (V1 on CPython 3.11, V2 on 3.12 with numpy 2.3);
//! their bytes depend on behaviour that Rust does not share by default. Every such behaviour lives here, named after the
//! Python function it reproduces, with tests against values CPython itself printed.

pub mod builtins;
pub mod code_runs;
pub mod float;
pub mod json;
pub mod numpy;
pub mod pickle;
pub mod random;
pub mod re;
pub mod repr;
pub mod round;
pub mod transformers;
pub mod unicode;
