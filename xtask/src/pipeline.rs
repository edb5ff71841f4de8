//! `cargo xtask pipeline`: the stages chained into one run folder.

use std::path::PathBuf;

use anyhow::Result;
use pricer_ingest::{source, IngestConfig};
use pricer_prompt::{tokenizer, PromptConfig, TokenizerSource};

/// The bundled default inputs, relative to the workspace root.
pub const DEFAULT_INPUT: &str = "fixtures/data/amazon-2023";

pub struct PipelineArgs {
    pub inputs: Vec<PathBuf>,
    pub out: PathBuf,
    pub threads: Option<usize>,
}

pub fn run(args: &PipelineArgs) -> Result<()> {
    let threads = pricer_core::obs::init_threads(args.threads);
    let inputs = if args.inputs.is_empty() {
        vec![PathBuf::from(DEFAULT_INPUT)]
    } else {
        args.inputs.clone()
    };
    let ingest_dir = args.out.join("ingest");
    let m = pricer_ingest::run(&IngestConfig::new(source::resolve(&inputs)?, &ingest_dir))?;
    println!("{}", pricer_ingest::run::summary_line(&m, &ingest_dir));
    let tok = tokenizer::load(&TokenizerSource::Path(tokenizer::bundled_path()))?;
    let prompt_dir = args.out.join("prompt");
    let m = pricer_prompt::run(&PromptConfig::new(&ingest_dir, &prompt_dir), &tok)?;
    println!("{}", pricer_prompt::run::summary_line(&m, &prompt_dir));
    println!(
        "pipeline: run folder {} ({threads} threads)",
        args.out.display()
    );
    Ok(())
}
