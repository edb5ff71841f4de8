//! The prompt stage end to end: `candidates.art` -> `items.art`, `rejects.jsonl`,
//! `manifest.json`. Windows of candidates are tokenized in parallel and written in input
//! order, so output bytes do not depend on the thread count.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::sync_channel;
use std::time::Instant;

use anyhow::{Context, Result};
use pricer_core::artifact::{sync_parent, temp_path, ArtifactReader, ArtifactWriter};
use pricer_core::manifest::{fingerprint, Counts, InputRef, Manifest};
use pricer_core::{obs, Candidate, Item};
use rayon::prelude::*;

use crate::item::{make_item, PromptReject, RecipeTokenizer};
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

/// The ingest manifest beside the candidates, if any.
fn upstream_manifest(candidates: &Path) -> Option<Manifest> {
    candidates.parent().and_then(|dir| Manifest::read(dir).ok())
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

/// The fingerprint a run of `cfg` with `tok` will have.
pub fn fingerprint_of(cfg: &PromptConfig, tok: &LoadedTokenizer) -> Result<String> {
    let input = pricer_core::artifact::verify(&cfg.candidates_path())?;
    Ok(fingerprint(
        STAGE,
        &[&input.digest, &tok.digest],
        &cfg.semantic(&tok.digest),
    ))
}

/// A window of candidates with what became of each; `Done` lets the writer finish its
/// files (without it, as after an error, they are dropped and nothing is renamed).
enum ToWriter {
    Window(Vec<Candidate>, Vec<Result<Item, PromptReject>>),
    Done,
}

fn read_windows(
    reader: ArtifactReader<Candidate>,
    window: usize,
    tx: std::sync::mpsc::SyncSender<Result<Vec<Candidate>>>,
) {
    let mut reader = reader.peekable();
    while reader.peek().is_some() {
        let batch: Result<Vec<Candidate>> = reader
            .by_ref()
            .take(window)
            .map(|c| c.map_err(anyhow::Error::from))
            .collect();
        let failed = batch.is_err();
        if tx.send(batch).is_err() || failed {
            return;
        }
    }
}

fn write_windows(
    rx: std::sync::mpsc::Receiver<ToWriter>,
    mut items: ArtifactWriter<Item>,
    mut rejects: BufWriter<File>,
    rejects_tmp: &Path,
    paths: &[String],
) -> Result<(pricer_core::ArtifactInfo, Counts)> {
    let mut counts = Counts::default();
    let mut done = false;
    for msg in rx {
        let (batch, outcomes) = match msg {
            ToWriter::Window(b, o) => (b, o),
            ToWriter::Done => {
                done = true;
                break;
            }
        };
        for (c, outcome) in batch.iter().zip(outcomes) {
            match outcome {
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
    }
    anyhow::ensure!(done, "prompt stopped before the end of its input");
    let items_info = items.finish()?;
    let f = rejects
        .into_inner()
        .map_err(|e| e.into_error())
        .with_context(|| format!("{}: write failed", rejects_tmp.display()))?;
    pricer_core::artifact::sync_file(&f)?;
    Ok((items_info, counts))
}

pub fn run(cfg: &PromptConfig, tok: &LoadedTokenizer) -> Result<Manifest> {
    let started = Instant::now();
    let _span = tracing::info_span!("prompt").entered();
    let candidates_path = cfg.candidates_path();
    // The reader checks the body against the header's digest as it finishes.
    let input_info = pricer_core::artifact::header_info(&candidates_path)?;
    let reader = ArtifactReader::<Candidate>::open(&candidates_path)?;
    let upstream = upstream_manifest(&candidates_path);
    let paths = source_paths(upstream.as_ref());
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

    let items = ArtifactWriter::<Item>::create(cfg.out_dir.join(ITEMS))?;
    let rejects_path = cfg.out_dir.join(REJECTS);
    let rejects_tmp = temp_path(&rejects_path);
    let rejects = BufWriter::new(
        File::create(&rejects_tmp)
            .with_context(|| format!("{}: cannot create", rejects_tmp.display()))?,
    );
    let threads = rayon::current_num_threads();
    let window = cfg.batch.max(1) * threads;

    // Three overlapping parts: a reader thread decodes windows of candidates, this thread
    // tokenizes each window in parallel, a writer thread writes the results in order.
    let (to_main, from_reader) = sync_channel::<Result<Vec<Candidate>>>(2);
    let (to_writer, from_main) = sync_channel::<ToWriter>(2);
    let result = std::thread::scope(|scope| -> Result<(pricer_core::ArtifactInfo, Counts)> {
        // Owned here, so that any early return closes the writer's channel: without a
        // `Done` it then drops its temporaries instead of waiting forever.
        let to_writer = to_writer;
        scope.spawn(move || read_windows(reader, window, to_main));
        let writer = scope.spawn(|| write_windows(from_main, items, rejects, &rejects_tmp, &paths));
        for batch in from_reader {
            let batch = batch?;
            let outcomes: Vec<_> = batch
                .par_iter()
                .map(|c| make_item(&recipe_tok, c))
                .collect::<Result<_>>()?;
            progress.inc(batch.len() as u64);
            if to_writer.send(ToWriter::Window(batch, outcomes)).is_err() {
                break; // the writer stopped on an error, returned below
            }
        }
        let _ = to_writer.send(ToWriter::Done);
        writer
            .join()
            .map_err(|_| anyhow::anyhow!("the prompt writer thread panicked"))?
    });
    // On error the reader may still be blocked on its channel: `from_reader` is gone by
    // now, so it has stopped; temporaries are removed with their writers.
    let (items_info, counts) = match result {
        Ok(r) => r,
        Err(e) => {
            let _ = fs::remove_file(&rejects_tmp);
            return Err(e);
        }
    };
    progress.finish_and_clear();
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
    // The shard of an ingest shard is the same shard of the prompt stage.
    if let Some(shard) = upstream.and_then(|m| m.shard) {
        manifest.fingerprint = fingerprint(
            STAGE,
            &[&input_info.digest, &tok.digest],
            &serde_json::json!({"config": manifest.config, "shard": format!("{}/{}", shard.index, shard.count)}),
        );
        manifest.shard = Some(shard);
    }
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
