//! Why a tokenizer file cannot be used by this encoder.

/// A file of another shape is not an error of the file: callers fall back to
/// `tokenizers`, quietly. A damaged file is one no tokenizer library could use; callers
/// say so loudly, naming the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BpeError {
    /// A valid tokenizer of a shape this encoder does not implement (another normalizer,
    /// pre-tokenizer or model, a vocabulary outside the byte-level alphabet, ...).
    #[error("not a shape pricer-bpe implements: {0}")]
    Unsupported(String),
    /// Not a usable tokenizer file at all (not JSON, fields missing, merges naming tokens
    /// that are not in the vocabulary).
    #[error("damaged tokenizer file: {0}")]
    Damaged(String),
    /// A compiled form (pricer's cache) that is truncated, damaged or made from another
    /// file; it is rebuilt from the tokenizer file.
    #[error("compiled tokenizer not usable: {0}")]
    Compiled(String),
}

pub type Result<T, E = BpeError> = std::result::Result<T, E>;

pub(crate) fn unsupported(why: impl Into<String>) -> BpeError {
    BpeError::Unsupported(why.into())
}

pub(crate) fn damaged(why: impl Into<String>) -> BpeError {
    BpeError::Damaged(why.into())
}
