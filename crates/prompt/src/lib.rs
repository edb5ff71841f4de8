//! Prompt: candidates -> items with the recipe's rules 5-7, using the Llama 3.1 tokenizer
//! as transformers 4.x used it (encode without special tokens, cut to 160 tokens, decode
//! with `clean_up_tokenization_spaces`, then count the prompt's tokens).

pub mod item;
pub mod run;

pub use item::{make_item, PromptReject};
pub use run::PromptStage;
