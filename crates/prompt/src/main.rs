//! `pricer-prompt`: candidates -> items (rules 5-7) with the Llama 3.1 tokenizer.

use std::path::PathBuf;

use anyhow::Result;
use clap::Parser;
use pricer_core::obs;
use pricer_prompt::tokenizer::EncoderChoice;
use pricer_prompt::{run, tokenizer, PromptConfig, TokenizerSource};

/// Tokenize each candidate with the recipe's tokenizer, keep those over 150 tokens, cut
/// to 160 tokens and build the training prompt and its token count.
#[derive(Parser, Debug)]
#[command(version, about, long_about = None)]
struct Args {
    /// The ingest output folder (or its candidates.art).
    #[arg(default_value = "out/ingest")]
    input: PathBuf,
    /// Output folder for items.art, rejects.jsonl and manifest.json.
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
    /// Worker threads (default: one per core). Output bytes do not depend on it.
    #[arg(long, env = "PRICER_THREADS")]
    threads: Option<usize>,
}

fn main() -> Result<()> {
    obs::init_tracing();
    let args = Args::parse();
    obs::init_threads(args.threads);
    let source = match (args.tokenizer, args.tokenizer_hub) {
        (Some(p), _) => TokenizerSource::Path(p),
        (None, Some(model)) => TokenizerSource::Hub(model),
        (None, None) => TokenizerSource::Path(tokenizer::bundled_path()),
    };
    let tok = tokenizer::load(&source)?;
    let mut cfg = PromptConfig::new(&args.input, &args.out);
    cfg.clean_up_spaces = !args.no_clean_up_spaces;
    cfg.encoder = args.encoder;
    let manifest = run::run(&cfg, &tok)?;
    println!("{}", run::summary_line(&manifest, &args.out));
    Ok(())
}
