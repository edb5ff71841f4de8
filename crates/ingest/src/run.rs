//! The ingest stage end to end: raw files -> `candidates.art`, `rejects.jsonl`,
//! `manifest.json`. A reader thread decompresses and cuts chunks of whole lines; windows
//! of chunks are processed in parallel; a writer thread writes their results in input
//! order while the next window is processed. Output bytes do not depend on the thread
//! count, and memory stays flat (bounded channels on both sides).

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::time::Instant;

use anyhow::{Context, Result};
use pricer_core::artifact::{sync_parent, temp_path, ArtifactWriter};
use pricer_core::manifest::{fingerprint, Counts, FileCounts, InputRef, Manifest};
use pricer_core::shard::{self, ShardInfo, ShardSpec};
use pricer_core::{obs, Candidate};
use rayon::prelude::*;

use crate::reject::{Reason, Reject};
use crate::row::process_line;
use crate::source::{self, Chunk, InputFile, Line, LineChunker, SourceError};

pub const STAGE: &str = "ingest";
pub const CANDIDATES: &str = "candidates.art";
pub const REJECTS: &str = "rejects.jsonl";
/// Bytes of raw lines per unit of parallel work.
pub const DEFAULT_CHUNK_BYTES: usize = 1 << 20;

#[derive(Debug, Clone)]
pub struct IngestConfig {
    pub inputs: Vec<InputFile>,
    pub out_dir: PathBuf,
    /// Tuning only: never changes output bytes.
    pub chunk_bytes: usize,
    /// Only this shard's contiguous run of `inputs` (`--shard i/N`); records keep their
    /// file index in the whole list, so shards concatenate into the one-machine output.
    pub shard: Option<ShardSpec>,
}

impl IngestConfig {
    pub fn new(inputs: Vec<InputFile>, out_dir: impl Into<PathBuf>) -> Self {
        IngestConfig {
            inputs,
            out_dir: out_dir.into(),
            chunk_bytes: DEFAULT_CHUNK_BYTES,
            shard: None,
        }
    }

    /// The semantic config: the categories the file names give, in order. Everything
    /// else ingest does is the recipe, covered by the code version.
    pub fn semantic(&self) -> serde_json::Value {
        serde_json::json!({
            "categories": self.inputs.iter().map(|i| i.category.clone()).collect::<Vec<_>>(),
        })
    }
}

/// The fingerprint a run of `cfg` will have: input file digests (a full read of each)
/// plus the semantic config and code version.
pub fn fingerprint_of(cfg: &IngestConfig) -> Result<String> {
    let mut digests = Vec::with_capacity(cfg.inputs.len());
    for i in &cfg.inputs {
        digests.push(
            pricer_core::digest::file_digest(&i.path)
                .with_context(|| format!("{}: cannot read", i.path.display()))?,
        );
    }
    let refs: Vec<&str> = digests.iter().map(String::as_str).collect();
    Ok(fingerprint(STAGE, &refs, &cfg.semantic()))
}

enum Msg {
    Chunk(Chunk, u64),
    FileDone {
        file: u32,
        digest: String,
        bytes: u64,
    },
    Failed(SourceError),
}

fn read_all(inputs: Vec<InputFile>, first_file: usize, chunk_bytes: usize, tx: SyncSender<Msg>) {
    for (idx, input) in inputs.iter().enumerate() {
        let file = (first_file + idx) as u32;
        let fail = |reason: String| SourceError::Decompress {
            path: input.path.clone(),
            reason,
        };
        let decoded = match source::open(input) {
            Ok(d) => d,
            Err(e) => {
                let _ = tx.send(Msg::Failed(e));
                return;
            }
        };
        let mut chunker = LineChunker::new(decoded, file, chunk_bytes);
        loop {
            match chunker.next_chunk() {
                Ok(Some(chunk)) => {
                    let raw = chunker.get_ref().raw_bytes();
                    if tx.send(Msg::Chunk(chunk, raw)).is_err() {
                        return;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    let err = match input.compression {
                        source::Compression::None => SourceError::Io {
                            path: input.path.clone(),
                            source: e,
                        },
                        _ => fail(e.to_string()),
                    };
                    let _ = tx.send(Msg::Failed(err));
                    return;
                }
            }
        }
        match chunker.into_inner().into_file().finish() {
            Ok((digest, bytes)) => {
                if tx
                    .send(Msg::FileDone {
                        file,
                        digest,
                        bytes,
                    })
                    .is_err()
                {
                    return;
                }
            }
            Err(source) => {
                let _ = tx.send(Msg::Failed(SourceError::Io {
                    path: input.path.clone(),
                    source,
                }));
                return;
            }
        }
    }
}

struct ChunkResult {
    file: u32,
    kept: Vec<Candidate>,
    rejects: Vec<(u64, Reject)>,
    counts: Counts,
}

fn process_chunk(chunk: &Chunk, category: &str) -> ChunkResult {
    let mut kept = Vec::new();
    let mut rejects = Vec::new();
    let mut counts = Counts::default();
    for (n, line) in chunk.lines.iter().enumerate() {
        let line_no = chunk.first_line + n as u64;
        let outcome = match *line {
            Line::Text { start, end } => process_line(&chunk.data[start..end]),
            Line::TooLong { bytes } => Err(Reject::new(
                Reason::LineTooLong,
                format!(
                    "line of {bytes} bytes exceeds {} bytes",
                    source::MAX_LINE_BYTES
                ),
            )),
        };
        match outcome {
            Ok(k) => {
                counts.keep();
                kept.push(Candidate {
                    category: category.to_owned(),
                    title: k.title,
                    price: k.price,
                    text: k.text,
                    file: chunk.file,
                    line: line_no,
                });
            }
            Err(r) => {
                counts.reject(r.reason.code());
                rejects.push((line_no, r));
            }
        }
    }
    ChunkResult {
        file: chunk.file,
        kept,
        rejects,
        counts,
    }
}

/// Receives up to `max` messages, blocking for the first; `None` when the reader is done.
fn next_window(rx: &Receiver<Msg>, max: usize) -> Option<Vec<Msg>> {
    let first = rx.recv().ok()?;
    let mut window = vec![first];
    while window.len() < max {
        match rx.recv() {
            Ok(m) => {
                let stop = !matches!(m, Msg::Chunk(..));
                window.push(m);
                if stop {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    Some(window)
}

/// Writes rejects as JSON lines to a temporary file, renamed into place at the end.
struct RejectsWriter {
    path: PathBuf,
    tmp: PathBuf,
    out: Option<BufWriter<File>>,
}

impl RejectsWriter {
    fn create(path: PathBuf) -> Result<Self> {
        let tmp = temp_path(&path);
        let out = BufWriter::new(
            File::create(&tmp).with_context(|| format!("{}: cannot create", tmp.display()))?,
        );
        Ok(RejectsWriter {
            path,
            tmp,
            out: Some(out),
        })
    }

    fn write(&mut self, file: &str, line: u64, reject: &Reject) -> Result<()> {
        let row = serde_json::json!({"file": file, "line": line, "reason": reject.reason.code(), "detail": reject.detail});
        let out = self.out.as_mut().expect("writer not finished");
        writeln!(out, "{row}").with_context(|| format!("{}: write failed", self.tmp.display()))
    }

    fn finish(mut self) -> Result<()> {
        let out = self.out.take().expect("writer not finished");
        let f = out
            .into_inner()
            .map_err(|e| e.into_error())
            .with_context(|| format!("{}: write failed", self.tmp.display()))?;
        pricer_core::artifact::sync_file(&f)
            .with_context(|| format!("{}: sync failed", self.tmp.display()))?;
        fs::rename(&self.tmp, &self.path)
            .with_context(|| format!("{}: cannot rename into place", self.path.display()))?;
        sync_parent(&self.path);
        Ok(())
    }
}

impl Drop for RejectsWriter {
    fn drop(&mut self) {
        if self.out.is_some() {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

/// The writer thread: candidates and rejects of each chunk, in input order. Returns the
/// candidates artifact's info after `None` (the end); if the channel closes without it
/// (an error upstream), the temporaries are dropped and nothing is renamed into place.
fn write_all(
    rx: Receiver<Option<ChunkResult>>,
    mut candidates: ArtifactWriter<Candidate>,
    mut rejects: RejectsWriter,
    paths: Vec<String>,
) -> Result<pricer_core::ArtifactInfo> {
    let mut done = false;
    for r in rx {
        let Some(r) = r else {
            done = true;
            break;
        };
        for c in &r.kept {
            candidates.write(c)?;
        }
        for (line, reject) in &r.rejects {
            rejects.write(&paths[r.file as usize], *line, reject)?;
        }
    }
    anyhow::ensure!(done, "ingest stopped before the end of its input");
    let info = candidates.finish()?;
    rejects.finish()?;
    Ok(info)
}

/// Runs ingest; returns the manifest it wrote.
pub fn run(cfg: &IngestConfig) -> Result<Manifest> {
    let started = Instant::now();
    let _span = tracing::info_span!("ingest", files = cfg.inputs.len()).entered();
    fs::create_dir_all(&cfg.out_dir)
        .with_context(|| format!("{}: cannot create output folder", cfg.out_dir.display()))?;
    let sizes: Vec<u64> = cfg
        .inputs
        .iter()
        .map(|i| fs::metadata(&i.path).map(|m| m.len()).unwrap_or(0))
        .collect();
    // The files this run reads: all, or one shard's contiguous run of them.
    let range = match cfg.shard {
        Some(s) => shard::file_ranges(&sizes, s.count)[s.index as usize].clone(),
        None => 0..cfg.inputs.len(),
    };
    let total_bytes: u64 = sizes[range.clone()].iter().sum();
    let progress = obs::progress(Some(total_bytes), "ingest");

    let threads = rayon::current_num_threads();
    let window = threads * 4;
    let (tx, rx) = sync_channel::<Msg>(window * 2);
    let inputs = cfg.inputs[range.clone()].to_vec();
    let first_file = range.start;
    let chunk_bytes = cfg.chunk_bytes;
    let reader = std::thread::Builder::new()
        .name("ingest-reader".into())
        .spawn(move || read_all(inputs, first_file, chunk_bytes, tx))
        .context("cannot start the reader thread")?;

    let candidates = ArtifactWriter::<Candidate>::create(cfg.out_dir.join(CANDIDATES))?;
    let rejects = RejectsWriter::create(cfg.out_dir.join(REJECTS))?;
    let paths: Vec<String> = cfg
        .inputs
        .iter()
        .map(|i| i.path.display().to_string())
        .collect();
    let (to_writer, from_main) = sync_channel::<Option<ChunkResult>>(window);
    let writer_paths = paths.clone();
    let writer = std::thread::Builder::new()
        .name("ingest-writer".into())
        .spawn(move || write_all(from_main, candidates, rejects, writer_paths))
        .context("cannot start the writer thread")?;
    let mut per_file: Vec<FileCounts> = cfg
        .inputs
        .iter()
        .zip(&paths)
        .map(|(i, p)| FileCounts {
            path: p.clone(),
            category: i.category.clone(),
            counts: Counts::default(),
        })
        .collect();
    let mut input_refs: Vec<Option<InputRef>> = vec![None; cfg.inputs.len()];
    let mut done_bytes = 0u64;

    let mut writer_stopped = false;
    while let Some(msgs) = next_window(&rx, window) {
        if writer_stopped {
            break;
        }
        let results: Vec<Option<ChunkResult>> = msgs
            .par_iter()
            .map(|m| match m {
                Msg::Chunk(chunk, _) => Some(process_chunk(
                    chunk,
                    &cfg.inputs[chunk.file as usize].category,
                )),
                _ => None,
            })
            .collect();
        for (msg, result) in msgs.into_iter().zip(results) {
            match msg {
                Msg::Chunk(_, raw) => {
                    let r = result.expect("chunks have results");
                    per_file[r.file as usize].counts.add(&r.counts);
                    progress.set_position(done_bytes + raw);
                    if to_writer.send(Some(r)).is_err() {
                        // The writer stopped on an error: it says which below.
                        writer_stopped = true;
                        break;
                    }
                }
                Msg::FileDone {
                    file,
                    digest,
                    bytes,
                } => {
                    done_bytes += bytes;
                    input_refs[file as usize] = Some(InputRef {
                        path: paths[file as usize].clone(),
                        digest,
                        bytes,
                    });
                    let fc = &per_file[file as usize];
                    tracing::info!(file = %fc.path, rows = fc.counts.rows_in, kept = fc.counts.kept, "file done");
                }
                Msg::Failed(e) => {
                    progress.abandon();
                    drop(to_writer);
                    // The writer's temporaries go with it; its own error is secondary.
                    let _ = writer.join();
                    return Err(
                        anyhow::Error::new(e).context("ingest stopped; nothing was written")
                    );
                }
            }
        }
    }
    let _ = to_writer.send(None);
    drop(rx); // a reader still sending (after a writer error) stops at once
    let candidates_info = writer
        .join()
        .map_err(|_| anyhow::anyhow!("the writer thread panicked"))??;
    reader
        .join()
        .map_err(|_| anyhow::anyhow!("the reader thread panicked"))?;
    progress.finish_and_clear();

    let inputs: Vec<InputRef> = input_refs
        .drain(range.clone())
        .collect::<Option<Vec<_>>>()
        .context("the reader stopped before the end of its inputs")?;
    let per_file: Vec<FileCounts> = per_file.drain(range.clone()).collect();
    let mut counts = Counts::default();
    for f in &per_file {
        counts.add(&f.counts);
    }
    anyhow::ensure!(
        counts.balanced() && counts.kept == candidates_info.count,
        "internal error: counts do not balance"
    );
    let mut manifest = Manifest::for_stage(
        STAGE,
        inputs,
        cfg.semantic(),
        [(CANDIDATES.to_owned(), candidates_info)]
            .into_iter()
            .collect(),
        counts,
        started,
    );
    manifest.per_file = per_file;
    manifest.threads = threads;
    if let Some(spec) = cfg.shard {
        manifest.shard = Some(ShardInfo {
            index: spec.index,
            count: spec.count,
            first_file: range.start as u32,
            files: range.len() as u32,
            all_inputs: paths,
        });
        // A shard is not the whole run: its fingerprint says which part it is.
        let digests: Vec<&str> = manifest.inputs.iter().map(|i| i.digest.as_str()).collect();
        manifest.fingerprint = fingerprint(
            STAGE,
            &digests,
            &serde_json::json!({"config": manifest.config, "shard": spec.to_string()}),
        );
    }
    manifest.write(&cfg.out_dir)?;
    Ok(manifest)
}

/// The one-line summary the binary prints.
pub fn summary_line(m: &Manifest, out_dir: &Path) -> String {
    let reasons: Vec<String> = m
        .counts
        .rejected_by_reason
        .iter()
        .map(|(k, v)| format!("{k} {}", obs::thousands(*v)))
        .collect();
    format!(
        "ingest: {} files, {} rows in, {} kept, {} rejected ({}) in {:.1} s -> {}",
        m.inputs.len(),
        obs::thousands(m.counts.rows_in),
        obs::thousands(m.counts.kept),
        obs::thousands(m.counts.rejected),
        if reasons.is_empty() {
            "none".into()
        } else {
            reasons.join(", ")
        },
        m.wall_seconds,
        out_dir.join(CANDIDATES).display()
    )
}
