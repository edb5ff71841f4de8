//! The ingest stage: raw files -> the recipe's records (`candidates.art` for V1),
//! `rejects.jsonl` and `manifest.json`. Chunks of whole lines are read on one thread,
//! worked on in parallel windows, and written in input order (`pricer_core::window`),
//! so output bytes do not depend on the thread count and memory stays flat.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, ensure, Context, Result};
use pricer_core::artifact::{ArtifactWriter, Encoded, MAX_RECORD_BYTES};
use pricer_core::jsonl::JsonLinesWriter;
use pricer_core::manifest::{Counts, FileCounts, InputRef, Manifest};
use pricer_core::shard::{ShardInfo, ShardSpec};
use pricer_core::stage::{Output, Plan, Stage};
use pricer_core::{obs, window};

use crate::chunks::{Chunks, Piece};
use crate::inputs::InputFile;
use crate::lines::{Chunk, Line, MAX_LINE_BYTES};
use crate::reject::{Reason, Reject};
use crate::rules::{RowPlace, RowRules};

pub const STAGE: &str = "ingest";
pub const REJECTS: &str = "rejects.jsonl";
/// Bytes of raw lines per unit of parallel work.
pub const DEFAULT_CHUNK_BYTES: usize = 1 << 20;

/// The ingest stage of a run, with the rules of its recipe.
#[derive(Debug, Clone)]
pub struct IngestStage<R> {
    pub rules: R,
    pub inputs: Vec<InputFile>,
    pub out_dir: PathBuf,
    /// Tuning only: never changes output bytes.
    pub chunk_bytes: usize,
    /// Only this shard's contiguous run of `inputs` (`--shard i/N`); records keep their
    /// file index in the whole list, so shards concatenate into the one-machine output.
    pub shard: Option<ShardSpec>,
}

impl<R: RowRules> IngestStage<R> {
    pub fn new(rules: R, inputs: Vec<InputFile>, out_dir: impl Into<PathBuf>) -> Self {
        IngestStage {
            rules,
            inputs,
            out_dir: out_dir.into(),
            chunk_bytes: DEFAULT_CHUNK_BYTES,
            shard: None,
        }
    }

    /// The files this run reads: all, or one shard's contiguous run of them.
    fn range(&self) -> std::ops::Range<usize> {
        match self.shard {
            Some(s) => {
                let sizes: Vec<u64> = self
                    .inputs
                    .iter()
                    .map(|i| std::fs::metadata(&i.path).map(|m| m.len()).unwrap_or(0))
                    .collect();
                s.files(&sizes)
            }
            None => 0..self.inputs.len(),
        }
    }

    fn paths(&self) -> Vec<String> {
        self.inputs
            .iter()
            .map(|i| i.path.display().to_string())
            .collect()
    }
}

/// What one chunk's rows became, encoded in the worker: the kept records, and the
/// rejects as `rejects.jsonl` lines (each ending in a newline).
struct ChunkResult<T> {
    file: u32,
    kept: Vec<Encoded<T>>,
    rejects: String,
    counts: Counts,
}

fn process_chunk<R: RowRules>(
    rules: &R,
    chunk: &Chunk,
    category: &str,
    path: &str,
) -> ChunkResult<R::Record> {
    let mut out = ChunkResult {
        file: chunk.file,
        kept: Vec::new(),
        rejects: String::new(),
        counts: Counts::default(),
    };
    for (n, line) in chunk.lines.iter().enumerate() {
        let line_no = chunk.first_line + n as u64;
        let place = RowPlace {
            category,
            file: chunk.file,
            line: line_no,
        };
        let outcome = match *line {
            Line::Text { start, end } => rules.apply(&chunk.data[start..end], place),
            Line::TooLong { bytes } => Err(Reject::new(
                Reason::LineTooLong,
                format!("line of {bytes} bytes exceeds {MAX_LINE_BYTES} bytes"),
            )),
        };
        let outcome = outcome.and_then(|record| {
            let encoded = Encoded::new(&record)
                .map_err(|e| Reject::new(Reason::RecordTooLarge, format!("cannot encode: {e}")))?;
            if !encoded.fits() {
                return Err(Reject::new(
                    Reason::RecordTooLarge,
                    format!(
                        "{} bytes as a record (the limit is {MAX_RECORD_BYTES})",
                        encoded.len()
                    ),
                ));
            }
            Ok(encoded)
        });
        match outcome {
            Ok(record) => {
                out.counts.keep();
                out.kept.push(record);
            }
            Err(r) => {
                out.counts.reject(r.reason.code());
                rules.reject_line(path, line_no, &r, &mut out.rejects);
                out.rejects.push('\n');
            }
        }
    }
    out
}

impl<R: RowRules> Stage for IngestStage<R> {
    fn name(&self) -> &str {
        STAGE
    }

    fn dir(&self) -> &Path {
        &self.out_dir
    }

    /// The raw files, digested (a full read of each; files side by side).
    fn inputs(&self) -> Result<Vec<InputRef>> {
        use rayon::prelude::*;
        self.inputs[self.range()]
            .par_iter()
            .map(|i| InputRef::of_file(&i.path))
            .collect()
    }

    fn config(&self) -> serde_json::Value {
        self.rules
            .config(self.inputs.iter().map(|i| i.category.clone()).collect())
    }

    fn outputs(&self) -> Vec<Output> {
        vec![
            Output::File(R::ARTIFACT.into()),
            Output::File(REJECTS.into()),
        ]
    }

    fn shard(&self) -> Option<ShardSpec> {
        self.shard
    }

    fn run(&self, plan: &Plan) -> Result<Manifest> {
        let range = self.range();
        let paths = self.paths();
        let total: u64 = plan.inputs.iter().map(|i| i.bytes).sum();
        let progress = obs::progress(Some(total), "ingest");
        let mut records = ArtifactWriter::<R::Record>::create(self.out_dir.join(R::ARTIFACT))?;
        let mut rejects = JsonLinesWriter::create(self.out_dir.join(REJECTS))?;
        let mut per_file: Vec<Counts> = vec![Counts::default(); self.inputs.len()];
        let (mut done_bytes, mut files_done) = (0u64, 0usize);
        let source = Chunks::new(
            self.inputs[range.clone()].to_vec(),
            range.start,
            self.chunk_bytes,
        )
        .map(|p| p.map_err(anyhow::Error::from));
        let window = rayon::current_num_threads() * 4;
        let work = |p: &Piece| match p {
            Piece::Chunk(c, _) => Ok(Some(process_chunk(
                &self.rules,
                c,
                &self.inputs[c.file as usize].category,
                &paths[c.file as usize],
            ))),
            Piece::FileDone { .. } => Ok(None),
        };
        window::ordered(source, window, work, |piece, result| {
            match (piece, result) {
                (Piece::Chunk(_, raw), Some(r)) => {
                    per_file[r.file as usize].add(&r.counts);
                    progress.set_position(done_bytes + raw);
                    for record in &r.kept {
                        records.write_encoded(record)?;
                    }
                    rejects.write_lines(&r.rejects, r.counts.rejected)?;
                }
                (Piece::FileDone { digest, bytes, .. }, _) => {
                    // The file must be the one planned (read at plan time, or its
                    // digest remembered then); a remembered digest that disagrees is
                    // forgotten, so the next run reads the file again.
                    let planned = &plan.inputs[files_done];
                    if planned.digest != *digest {
                        let path = Path::new(&planned.path);
                        pricer_core::stamp::forget(path, pricer_core::stamp::Kind::File);
                        bail!("{}: changed while the run read it; run again", planned.path);
                    }
                    done_bytes += bytes;
                    files_done += 1;
                }
                (Piece::Chunk(..), None) => unreachable!("every chunk has a result"),
            }
            Ok(())
        })
        .context("ingest stopped; nothing was written")?;
        progress.finish_and_clear();
        ensure!(
            files_done == range.len(),
            "the reader stopped before the end of its inputs"
        );
        self.finish(plan, records, rejects, per_file, range)
    }

    fn summary(&self, m: &Manifest) -> String {
        format!(
            "ingest: {} files, {} rows in, {} kept, {} rejected ({}) in {:.1} s -> {}",
            m.inputs.len(),
            obs::thousands(m.counts.rows_in),
            obs::thousands(m.counts.kept),
            obs::thousands(m.counts.rejected),
            m.counts.reasons(),
            m.wall_seconds,
            self.out_dir.join(R::ARTIFACT).display()
        )
    }
}

impl<R: RowRules> IngestStage<R> {
    /// Renames the outputs into place and writes the manifest.
    fn finish(
        &self,
        plan: &Plan,
        records: ArtifactWriter<R::Record>,
        rejects: JsonLinesWriter,
        per_file: Vec<Counts>,
        range: std::ops::Range<usize>,
    ) -> Result<Manifest> {
        let per_file: Vec<FileCounts> = range
            .clone()
            .map(|j| FileCounts {
                path: self.inputs[j].path.display().to_string(),
                category: self.inputs[j].category.clone(),
                counts: per_file[j].clone(),
            })
            .collect();
        let mut counts = Counts::default();
        for f in &per_file {
            counts.add(&f.counts);
        }
        let records = records.finish()?;
        ensure!(
            counts.balanced() && counts.kept == records.count,
            "internal error: counts do not balance"
        );
        let outputs = BTreeMap::from([
            (R::ARTIFACT.to_owned(), records),
            (REJECTS.to_owned(), rejects.finish()?),
        ]);
        let mut manifest = plan.manifest(outputs, counts);
        manifest.per_file = per_file;
        manifest.shard = plan.shard.map(|s| ShardInfo {
            index: s.index(),
            count: s.count(),
            first_file: range.start as u32,
            files: range.len() as u32,
            all_inputs: self.paths(),
        });
        manifest.write(&self.out_dir)?;
        Ok(manifest)
    }
}
