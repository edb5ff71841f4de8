//! The command line of `pricer-prompt`, which the `pricer` command also carries as a subcommand: v1 candidates -> items (rules 5-7); v2 summaries -> prompt/completion pairs.

use std::path::PathBuf;

use crate::{PromptStage, PromptsStage};
use anyhow::Result;
use clap::Parser;
use pricer_core::recipe::Recipe;
use pricer_core::stage::Stage;
use pricer_core::{obs, recipe_v2, stage};
use pricer_tokenizer::{EncoderChoice, TokenizerSource};

/// Recipe v1: tokenize each candidate with the recipe's tokenizer, keep those over 150
/// tokens, cut to 160 tokens and build the training prompt and its token count.
/// Recipe v2 (part 3): cut each summary to 110 tokens and build prompt/completion pairs
/// (train / val / test) from the summarize stage's folder.
#[derive(Parser, Debug)]
#[command(version, about, long_about = None)]
pub struct Args {
    /// The ingest output folder (or its candidates.art) [default: out/ingest]; v2: the
    /// summarize folder [default: out/summarize].
    input: Option<PathBuf>,
    /// The recipe: v1 (candidates -> items) or v2 (summaries -> prompt/completion pairs).
    #[arg(long, default_value = "v1")]
    recipe: Recipe,
    /// v2: summaries with more tokens than this are cut to it.
    #[arg(long, default_value_t = recipe_v2::CUTOFF)]
    cutoff: usize,
    /// Output folder for items.art, rejects.jsonl and manifest.json (v2: train.art, val.art,
    /// test.art and manifest.json).
    #[arg(long, short, default_value = "out/prompt")]
    out: PathBuf,
    /// A local tokenizer.json, or the folder holding one. Default: the bundled Llama 3.1 copy.
    #[arg(long, conflicts_with = "tokenizer_hub")]
    tokenizer: Option<PathBuf>,
    /// A Hub model id (e.g. meta-llama/Meta-Llama-3.1-8B), resolved through the Hugging
    /// Face cache, downloading with HF_TOKEN when the network allows.
    #[arg(long)]
    tokenizer_hub: Option<String>,
    /// Skip transformers' clean_up_tokenization_spaces after decoding (the recipe applies it).
    #[arg(long)]
    no_clean_up_spaces: bool,
    /// The encoder: `fast` (exact, pricer-bpe where the tokenizer allows) or `reference`
    /// (the tokenizers crate for everything). The output bytes are the same.
    #[arg(long, value_enum, default_value_t = EncoderChoice::Fast, env = "PRICER_ENCODER")]
    encoder: EncoderChoice,
    /// Worker threads (default: one per core; at least 1). Output bytes do not depend on it.
    #[arg(long, env = "PRICER_THREADS", value_parser = pricer_core::cli::threads)]
    threads: Option<usize>,
}

/// Runs the command as parsed.
pub fn run(args: Args) -> Result<()> {
    obs::init_threads(args.threads);
    let source = match (args.tokenizer, args.tokenizer_hub) {
        (Some(p), _) => TokenizerSource::Path(p),
        (None, Some(model)) => TokenizerSource::Hub(model),
        (None, None) => TokenizerSource::Bundled,
    };
    let tok = std::sync::Arc::new(pricer_tokenizer::load(&source)?);
    let input = args.input.unwrap_or_else(|| match args.recipe {
        Recipe::V1 => "out/ingest".into(),
        Recipe::V2 => "out/summarize".into(),
    });
    if args.recipe == Recipe::V2 {
        let mut prompts = PromptsStage::new(&input, &args.out, tok);
        prompts.cutoff = args.cutoff;
        prompts.clean_up_spaces = !args.no_clean_up_spaces;
        prompts.encoder = args.encoder;
        let manifest = stage::run_now(&prompts)?;
        println!("{}", prompts.summary(&manifest));
        return Ok(());
    }
    let mut prompt = PromptStage::new(&input, &args.out, tok);
    prompt.clean_up_spaces = !args.no_clean_up_spaces;
    prompt.encoder = args.encoder;
    let manifest = stage::run_now(&prompt)?;
    println!("{}", prompt.summary(&manifest));
    Ok(())
}

/// The binary's main: logging, the command line, the run; errors as `pricer_core::cli`
/// prints them.
pub fn main() -> std::process::ExitCode {
    use clap::Parser;
    pricer_core::obs::init_tracing();
    pricer_core::cli::exit(run(Args::parse()))
}
