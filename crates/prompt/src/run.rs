//! The prompt stage: `candidates.art` -> `items.art`, `rejects.jsonl`, `manifest.json`.
//! Windows of candidates are tokenized in parallel and written in input order, so output
//! bytes do not depend on the thread count.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Result;
use pricer_core::artifact::{ArtifactReader, ArtifactWriter};
use pricer_core::jsonl::JsonLinesWriter;
use pricer_core::manifest::{Counts, InputRef, Manifest};
use pricer_core::shard::ShardSpec;
use pricer_core::stage::{Output, Plan, Stage};
use pricer_core::{obs, window, Candidate, Item};
use pricer_tokenizer::{Encoder, EncoderChoice, LoadedTokenizer};

use crate::item::make_prompt;

pub const STAGE: &str = "prompt";
pub const CANDIDATES: &str = "candidates.art";
pub const ITEMS: &str = "items.art";
pub const REJECTS: &str = "rejects.jsonl";
/// Candidates per parallel window and thread (tuning only).
pub const DEFAULT_BATCH: usize = 256;

/// The prompt stage of a run.
#[derive(Debug, Clone)]
pub struct PromptStage {
    /// The ingest stage's folder (candidates.art + manifest.json) or a candidates.art file.
    pub input: PathBuf,
    pub out_dir: PathBuf,
    pub tokenizer: Arc<LoadedTokenizer>,
    pub clean_up_spaces: bool,
    /// Tuning only: never changes output bytes.
    pub batch: usize,
    /// Fast or reference encoder: the same output bytes, so not part of the fingerprint.
    pub encoder: EncoderChoice,
}

impl PromptStage {
    pub fn new(
        input: impl Into<PathBuf>,
        out_dir: impl Into<PathBuf>,
        tokenizer: Arc<LoadedTokenizer>,
    ) -> Self {
        PromptStage {
            input: input.into(),
            out_dir: out_dir.into(),
            tokenizer,
            clean_up_spaces: true,
            batch: DEFAULT_BATCH,
            encoder: EncoderChoice::Fast,
        }
    }

    pub fn candidates_path(&self) -> PathBuf {
        if self.input.is_dir() {
            self.input.join(CANDIDATES)
        } else {
            self.input.clone()
        }
    }

    /// The ingest manifest beside the candidates, if any.
    fn upstream(&self) -> Option<Manifest> {
        self.candidates_path()
            .parent()
            .and_then(|dir| Manifest::read(dir).ok())
    }
}

/// Source file paths by the candidates' file index (for rejects): a shard's records
/// index the whole run's file list.
fn source_paths(upstream: Option<&Manifest>) -> Vec<String> {
    match upstream {
        Some(m) => match &m.shard {
            Some(shard) => shard.all_inputs.clone(),
            None => m.inputs.iter().map(|i| i.path.clone()).collect(),
        },
        None => Vec::new(),
    }
}

impl Stage for PromptStage {
    fn name(&self) -> &str {
        STAGE
    }

    fn dir(&self) -> &Path {
        &self.out_dir
    }

    fn inputs(&self) -> Result<Vec<InputRef>> {
        Ok(vec![
            // A shard of ingest may keep no row; the split refuses a run with no items.
            InputRef::of_artifact(&self.candidates_path())?,
            InputRef {
                path: self.tokenizer.path.display().to_string(),
                digest: self.tokenizer.digest.clone(),
                bytes: self.tokenizer.json_bytes(),
            },
        ])
    }

    fn config(&self) -> serde_json::Value {
        serde_json::json!({"tokenizer": self.tokenizer.digest, "clean_up_tokenization_spaces": self.clean_up_spaces})
    }

    fn outputs(&self) -> Vec<Output> {
        vec![Output::File(ITEMS.into()), Output::File(REJECTS.into())]
    }

    /// The shard of an ingest shard is the same shard of the prompt stage.
    fn shard(&self) -> Option<ShardSpec> {
        let info = self.upstream()?.shard?;
        ShardSpec::new(info.index, info.count)
    }

    fn run(&self, plan: &Plan) -> Result<Manifest> {
        let reader = ArtifactReader::<Candidate>::open(self.candidates_path())?;
        let upstream = self.upstream();
        let paths = source_paths(upstream.as_ref());
        let progress = obs::progress(Some(reader.expected_count()), "prompt");
        let enc = Encoder::new(&self.tokenizer, self.encoder, self.clean_up_spaces);
        tracing::info!(fast = enc.is_fast(), "prompt encoder");
        let mut items = ArtifactWriter::<Item>::create(self.out_dir.join(ITEMS))?;
        let mut rejects = JsonLinesWriter::create(self.out_dir.join(REJECTS))?;
        let mut counts = Counts::default();
        let window = self.batch.max(1) * rayon::current_num_threads();
        let source = reader.map(|c| c.map_err(anyhow::Error::from));
        window::ordered(
            source,
            window,
            |c| make_prompt(&enc, c),
            |c, outcome| {
                progress.inc(1);
                match outcome {
                    Ok(prompt) => {
                        counts.keep();
                        items.write(&prompt.into_item(c))?;
                    }
                    Err(reject) => {
                        counts.reject(reject.code());
                        let file = paths.get(c.file as usize).cloned();
                        let file = file.unwrap_or_else(|| format!("#{}", c.file));
                        rejects.write_value(&serde_json::json!({"file": file, "line": c.line, "reason": reject.code(), "detail": reject.detail()}))?;
                    }
                }
                Ok(())
            },
        )?;
        progress.finish_and_clear();
        let outputs = BTreeMap::from([
            (ITEMS.to_owned(), items.finish()?),
            (REJECTS.to_owned(), rejects.finish()?),
        ]);
        let mut manifest = plan.manifest(outputs, counts);
        manifest.shard = upstream.and_then(|m| m.shard);
        manifest.write(&self.out_dir)?;
        Ok(manifest)
    }

    fn summary(&self, m: &Manifest) -> String {
        format!(
            "prompt: {} candidates in, {} items kept, {} in {:.1} s -> {}",
            obs::thousands(m.counts.rows_in),
            obs::thousands(m.counts.kept),
            match m.counts.rejected {
                0 => "none rejected".to_owned(),
                n => format!("{} rejected (too few tokens)", obs::thousands(n)),
            },
            m.wall_seconds,
            self.out_dir.join(ITEMS).display()
        )
    }
}
