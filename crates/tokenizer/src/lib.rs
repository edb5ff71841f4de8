//! Tokenizers for the stages: where they come from, their compiled cache, and the exact
//! encoder (pricer-bpe where the file allows, `tokenizers` otherwise). See README.md.

pub mod cache;
pub mod encoder;
pub mod source;

pub use encoder::{Encoder, EncoderChoice};
pub use source::{load, LoadedTokenizer, TokenizerSource};
