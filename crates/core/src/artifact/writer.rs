//! Writing an artifact: frames of postcard records through zstd, digested on the way to
//! a temporary file; the header is written last and the file renamed into place.

use std::io::Write;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread::JoinHandle;

use super::header::Header;
use super::reader::Frame;
use super::{
    ArtifactError, ArtifactInfo, Record, FLAG_ZSTD, HEADER_LEN, MAX_RECORD_BYTES, ZSTD_LEVEL,
};
use crate::atomic::{AtomicFile, HashingWriter};

/// A record already encoded (postcard), e.g. in a worker thread, and checked against the
/// record-size limit before it reaches a writer.
#[derive(Debug, Clone)]
pub struct Encoded<T> {
    bytes: Vec<u8>,
    _t: PhantomData<T>,
}

impl<T: Record> Encoded<T> {
    pub fn new(record: &T) -> Result<Self, postcard::Error> {
        // Encoded into a per-thread buffer and copied out at its size: growing a fresh
        // Vec to a kilobyte-sized record took a dozen reallocations.
        thread_local!(static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) });
        SCRATCH.with_borrow_mut(|scratch| {
            scratch.clear();
            let mut buf = postcard::to_extend(record, std::mem::take(scratch))?;
            let bytes = buf.to_vec();
            // A huge record's buffer is not kept for the thread's lifetime.
            if buf.capacity() > 1 << 20 {
                buf = Vec::new();
            }
            *scratch = buf;
            Ok(Encoded {
                bytes,
                _t: PhantomData,
            })
        })
    }

    /// Encoded size in bytes.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Whether an artifact can hold it (its readers refuse larger frames).
    pub fn fits(&self) -> bool {
        self.bytes.len() <= MAX_RECORD_BYTES as usize
    }
}

/// Writes one artifact; nothing appears under `path` until [`ArtifactWriter::finish`]
/// (dropped unfinished, it deletes its temporary file).
///
/// Records are framed into batches on the caller's thread; a thread of the writer's own
/// compresses and digests them, so a stage's ordered writer (often its busiest serial
/// part) only encodes. The zstd stream gets the same bytes in the same order either way:
/// the output does not depend on batching.
pub struct ArtifactWriter<T: Record> {
    path: PathBuf,
    batch: Vec<u8>,
    /// One record being encoded by [`ArtifactWriter::write`].
    scratch: Vec<u8>,
    body: Option<Compressor>,
    count: u64,
    _t: PhantomData<T>,
}

/// Frames handed to the compressor at a time (one zstd block).
const BATCH_BYTES: usize = 128 << 10;

/// The temporary file, the digest of the body and the body's length.
type Sink = (AtomicFile, blake3::Hash, u64);

/// The compressing thread and its channels: full batches go one way, emptied buffers
/// come back for reuse; an empty batch means "finish".
struct Compressor {
    batches: SyncSender<Vec<u8>>,
    spare: Receiver<Vec<u8>>,
    thread: JoinHandle<Result<Sink, ArtifactError>>,
}

fn compress(
    file: AtomicFile,
    batches: Receiver<Vec<u8>>,
    spare: SyncSender<Vec<u8>>,
) -> Result<Sink, ArtifactError> {
    let path = file.path().to_owned();
    let mut body =
        zstd::Encoder::new(HashingWriter::new(file), ZSTD_LEVEL).map_err(super::io_err(&path))?;
    while let Ok(mut batch) = batches.recv() {
        if batch.is_empty() {
            let sink = body.finish().map_err(super::io_err(&path))?;
            return Ok(sink.finish());
        }
        body.write_all(&batch)
            .map_err(|e| body.get_ref().inner.error("write", e))?;
        batch.clear();
        let _ = spare.try_send(batch);
    }
    // The writer was dropped unfinished: `body` takes the temporary file with it.
    Err(ArtifactError::Io {
        path,
        error: std::io::Error::other("abandoned before it was finished"),
    })
}

impl<T: Record> ArtifactWriter<T> {
    pub fn create(path: impl Into<PathBuf>) -> Result<Self, ArtifactError> {
        const {
            assert!(
                T::RECORD_TYPE.len() <= 16,
                "record type names fit in 16 bytes"
            )
        };
        let path = path.into();
        let mut file = AtomicFile::create(&path)?;
        file.write_all(&[0u8; HEADER_LEN])
            .map_err(|e| file.error("write", e))?;
        let (batches, batches_rx) = sync_channel(4);
        let (spare_tx, spare) = sync_channel(6);
        let thread = std::thread::Builder::new()
            .name("artifact-zstd".into())
            .spawn(move || compress(file, batches_rx, spare_tx))
            .map_err(super::io_err(&path))?;
        Ok(ArtifactWriter {
            path,
            batch: Vec::with_capacity(BATCH_BYTES + (16 << 10)),
            scratch: Vec::new(),
            body: Some(Compressor {
                batches,
                spare,
                thread,
            }),
            count: 0,
            _t: PhantomData,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one record. A record larger than [`MAX_RECORD_BYTES`] is refused (its
    /// readers would refuse it too), and the artifact stays usable for the next one.
    pub fn write(&mut self, record: &T) -> Result<(), ArtifactError> {
        // Encoded apart from the batch: postcard drops the buffer it fails in, and the
        // batch holds earlier records.
        self.scratch.clear();
        self.scratch =
            postcard::to_extend(record, std::mem::take(&mut self.scratch)).map_err(|error| {
                ArtifactError::Encode {
                    path: self.path.clone(),
                    index: self.count,
                    error,
                }
            })?;
        let len = self.scratch.len();
        if len > MAX_RECORD_BYTES as usize {
            self.scratch = Vec::new();
            return Err(ArtifactError::TooLarge {
                path: self.path.clone(),
                index: self.count,
                bytes: len as u64,
            });
        }
        let scratch = std::mem::take(&mut self.scratch);
        let done = self.push_frame(&scratch);
        self.scratch = scratch;
        done
    }

    /// Appends a record encoded elsewhere ([`Encoded`]).
    pub fn write_encoded(&mut self, record: &Encoded<T>) -> Result<(), ArtifactError> {
        if !record.fits() {
            return Err(ArtifactError::TooLarge {
                path: self.path.clone(),
                index: self.count,
                bytes: record.len() as u64,
            });
        }
        self.push_frame(&record.bytes)
    }

    /// Appends a record read undecoded from another artifact of `T`.
    pub fn write_frame(&mut self, frame: &Frame<'_, T>) -> Result<(), ArtifactError> {
        self.push_frame(frame.bytes())
    }

    /// Frames one record's bytes (length, bytes) into the batch; callers have checked
    /// the size limit.
    fn push_frame(&mut self, bytes: &[u8]) -> Result<(), ArtifactError> {
        crate::cancel::check()?;
        self.batch
            .extend_from_slice(&(bytes.len() as u32).to_le_bytes());
        self.batch.extend_from_slice(bytes);
        self.count += 1;
        self.hand_over_full()
    }

    /// Records written so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    fn hand_over_full(&mut self) -> Result<(), ArtifactError> {
        if self.batch.len() < BATCH_BYTES {
            return Ok(());
        }
        let body = self.body.as_ref().expect("writer not finished");
        let next = body
            .spare
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(BATCH_BYTES + (16 << 10)));
        let full = std::mem::replace(&mut self.batch, next);
        self.send(full)
    }

    /// Sends a batch (an empty one: finish); if the thread has stopped, its error.
    fn send(&mut self, batch: Vec<u8>) -> Result<(), ArtifactError> {
        let body = self.body.as_ref().expect("writer not finished");
        if body.batches.send(batch).is_ok() {
            return Ok(());
        }
        let body = self.body.take().expect("checked above");
        Err(match join(body.thread) {
            Err(e) => e,
            Ok(_) => ArtifactError::Io {
                path: self.path.clone(),
                error: std::io::Error::other("the compressing thread stopped early"),
            },
        })
    }

    /// Completes the header and renames the file into place.
    pub fn finish(mut self) -> Result<ArtifactInfo, ArtifactError> {
        if !self.batch.is_empty() {
            let last = std::mem::take(&mut self.batch);
            self.send(last)?;
        }
        self.send(Vec::new())?;
        let body = self.body.take().expect("writer not finished");
        drop(body.batches);
        let (mut file, digest, len) = join(body.thread)?;
        let header = Header {
            flags: FLAG_ZSTD,
            record_type: T::RECORD_TYPE.to_owned(),
            count: self.count,
            body_len: len,
            body_digest: *digest.as_bytes(),
        };
        file.rewrite_start(&header.encode())?;
        file.commit()?;
        Ok(header.info(*digest.as_bytes()))
    }
}

fn join(thread: JoinHandle<Result<Sink, ArtifactError>>) -> Result<Sink, ArtifactError> {
    thread
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

impl<T: Record> Drop for ArtifactWriter<T> {
    /// Unfinished: the thread ends and deletes the temporary before this returns.
    fn drop(&mut self) {
        if let Some(body) = self.body.take() {
            drop(body.batches);
            let _ = body.thread.join();
        }
    }
}
