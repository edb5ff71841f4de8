//! Prompt: candidates -> items with recipe V1's rules 5-7, using the Llama 3.1 tokenizer
//! as transformers 4.x used it (encode without special tokens, cut to 160 tokens, decode
//! with `clean_up_tokenization_spaces`, then count the prompt's tokens); and recipe V2's
//! part 3 (`v2`): summaries cut to 110 tokens, prompt/completion pairs.

pub mod cli;
pub mod item;
pub mod run;
pub mod v2;

pub use item::{make_prompt, Prompt, PromptReject};
pub use run::PromptStage;
pub use v2::PromptsStage;
