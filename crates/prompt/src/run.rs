//! The prompt stage end to end: `candidates.art` -> `items.art`, `rejects.jsonl`,
//! `manifest.json`. Windows of candidates are tokenized in parallel and written in input
//! order, so output bytes do not depend on the thread count.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use pricer_core::artifact::{sync_parent, temp_path, ArtifactReader, ArtifactWriter};
use pricer_core::manifest::{fingerprint, Counts, InputRef, Manifest};
use pricer_core::{obs, Candidate, Item};
use rayon::prelude::*;

use crate::item::{make_item, RecipeTokenizer};
use crate::tokenizer::{EncoderChoice, LoadedTokenizer};

pub const STAGE: &str = "prompt";
pub const ITEMS: &str = "items.art";
pub const REJECTS: &str = "rejects.jsonl";
/// Candidates per parallel window and thread (tuning only).
pub const DEFAULT_BATCH: usize = 256;

#[derive(Debug, Clone)]
pub struct PromptConfig {
    /// The ingest stage's folder (candidates.art + manifest.json) or a candidates.art file.
    pub input: PathBuf,
    pub out_dir: PathBuf,
    pub clean_up_spaces: bool,
    pub batch: usize,
    /// Fast or reference encoder: the same output bytes, so not part of the fingerprint.
    pub encoder: EncoderChoice,
}

impl PromptConfig {
    pub fn new(input: impl Into<PathBuf>, out_dir: impl Into<PathBuf>) -> Self {
        PromptConfig {
            input: input.into(),
            out_dir: out_dir.into(),
            clean_up_spaces: true,
            batch: DEFAULT_BATCH,
            encoder: EncoderChoice::Fast,
        }
    }

    pub fn candidates_path(&self) -> PathBuf {
        if self.input.is_dir() {
            self.input.join("candidates.art")
        } else {
            self.input.clone()
        }
    }

    pub fn semantic(&self, tokenizer_digest: &str) -> serde_json::Value {
        serde_json::json!({"tokenizer": tokenizer_digest, "clean_up_tokenization_spaces": self.clean_up_spaces})
    }
}

/// Source file paths by index, from the ingest manifest beside the candidates (for rejects).
fn source_paths(candidates: &Path) -> Vec<String> {
    candidates
        .parent()
        .and_then(|dir| Manifest::read(dir).ok())
        .map(|m| m.inputs.into_iter().map(|i| i.path).collect())
        .unwrap_or_default()
}

/// The fingerprint a run of `cfg` with `tok` will have.
pub fn fingerprint_of(cfg: &PromptConfig, tok: &LoadedTokenizer) -> Result<String> {
    let input = pricer_core::artifact::verify(&cfg.candidates_path())?;
    Ok(fingerprint(
        STAGE,
        &[&input.digest, &tok.digest],
        &cfg.semantic(&tok.digest),
    ))
}

pub fn run(cfg: &PromptConfig, tok: &LoadedTokenizer) -> Result<Manifest> {
    let started = Instant::now();
    let _span = tracing::info_span!("prompt").entered();
    let candidates_path = cfg.candidates_path();
    let input_info = pricer_core::artifact::verify(&candidates_path)?;
    let reader = ArtifactReader::<Candidate>::open(&candidates_path)?;
    let paths = source_paths(&candidates_path);
    fs::create_dir_all(&cfg.out_dir)
        .with_context(|| format!("{}: cannot create output folder", cfg.out_dir.display()))?;
    let progress = obs::progress(Some(reader.expected_count()), "prompt");
    let recipe_tok = RecipeTokenizer::new(tok, cfg.encoder, cfg.clean_up_spaces);
    tracing::info!(
        encoder = if recipe_tok.fast.is_some() {
            "pricer-bpe"
        } else {
            "tokenizers"
        },
        "prompt encoder"
    );

    let mut items = ArtifactWriter::<Item>::create(cfg.out_dir.join(ITEMS))?;
    let rejects_path = cfg.out_dir.join(REJECTS);
    let rejects_tmp = temp_path(&rejects_path);
    let mut rejects = BufWriter::new(
        File::create(&rejects_tmp)
            .with_context(|| format!("{}: cannot create", rejects_tmp.display()))?,
    );
    let mut counts = Counts::default();
    let threads = rayon::current_num_threads();
    let window = cfg.batch.max(1) * threads;
    let mut reader = reader.peekable();
    let mut batch: Vec<Candidate> = Vec::with_capacity(window);
    let result = (|| -> Result<()> {
        while reader.peek().is_some() {
            batch.clear();
            for c in reader.by_ref().take(window) {
                batch.push(c?);
            }
            let outcomes: Vec<_> = batch
                .par_iter()
                .map(|c| make_item(&recipe_tok, c))
                .collect();
            for (c, outcome) in batch.iter().zip(outcomes) {
                match outcome? {
                    Ok(item) => {
                        counts.keep();
                        items.write(&item)?;
                    }
                    Err(reject) => {
                        counts.reject(reject.code());
                        let file = paths
                            .get(c.file as usize)
                            .cloned()
                            .unwrap_or_else(|| format!("#{}", c.file));
                        let row = serde_json::json!({"file": file, "line": c.line, "reason": reject.code(), "detail": reject.detail()});
                        writeln!(rejects, "{row}")
                            .with_context(|| format!("{}: write failed", rejects_tmp.display()))?;
                    }
                }
            }
            progress.inc(batch.len() as u64);
        }
        Ok(())
    })();
    if let Err(e) = result {
        drop(rejects);
        let _ = fs::remove_file(&rejects_tmp);
        return Err(e);
    }
    progress.finish_and_clear();
    let items_info = items.finish()?;
    let f = rejects
        .into_inner()
        .map_err(|e| e.into_error())
        .with_context(|| format!("{}: write failed", rejects_tmp.display()))?;
    f.sync_all()?;
    fs::rename(&rejects_tmp, &rejects_path)?;
    sync_parent(&rejects_path);

    let config = cfg.semantic(&tok.digest);
    let inputs = vec![
        InputRef {
            path: candidates_path.display().to_string(),
            digest: input_info.digest.clone(),
            bytes: input_info.bytes,
        },
        InputRef {
            path: tok.path.display().to_string(),
            digest: tok.digest.clone(),
            bytes: fs::metadata(&tok.path).map(|m| m.len()).unwrap_or(0),
        },
    ];
    let mut manifest = Manifest::for_stage(
        STAGE,
        inputs,
        config,
        [(ITEMS.to_owned(), items_info)].into_iter().collect(),
        counts,
        started,
    );
    manifest.threads = threads;
    manifest.write(&cfg.out_dir)?;
    Ok(manifest)
}

pub fn summary_line(m: &Manifest, out_dir: &Path) -> String {
    format!(
        "prompt: {} candidates in, {} items kept, {} rejected (too few tokens) in {:.1} s -> {}",
        obs::thousands(m.counts.rows_in),
        obs::thousands(m.counts.kept),
        obs::thousands(m.counts.rejected),
        m.wall_seconds,
        out_dir.join(ITEMS).display()
    )
}
