//! The raw input of a run as one stream: chunks of whole lines of each file in order, and
//! after each file the digest and size of its raw bytes.

use crate::decode::{self, Decoded};
use crate::inputs::{Compression, InputFile, SourceError};
use crate::lines::{Chunk, LineChunker};

/// One piece of the stream.
#[derive(Debug)]
pub enum Piece {
    /// Lines of a file, and the file's raw bytes read so far (for progress).
    Chunk(Chunk, u64),
    /// A file ended: its index in the run's list, the BLAKE3 and size of its raw bytes.
    FileDone {
        file: u32,
        digest: String,
        bytes: u64,
    },
}

/// Reads `inputs` in order; file indices start at `first_file` (a shard's first file).
pub struct Chunks {
    inputs: std::vec::IntoIter<InputFile>,
    first_file: usize,
    next_index: usize,
    chunk_bytes: usize,
    current: Option<(InputFile, u32, LineChunker<Decoded>)>,
    failed: bool,
}

impl Chunks {
    pub fn new(inputs: Vec<InputFile>, first_file: usize, chunk_bytes: usize) -> Self {
        Chunks {
            inputs: inputs.into_iter(),
            first_file,
            next_index: 0,
            chunk_bytes,
            current: None,
            failed: false,
        }
    }

    fn step(&mut self) -> Result<Option<Piece>, SourceError> {
        loop {
            let Some((input, file, chunker)) = self.current.as_mut() else {
                let Some(input) = self.inputs.next() else {
                    return Ok(None);
                };
                let file = (self.first_file + self.next_index) as u32;
                self.next_index += 1;
                let decoded = decode::open(&input)?;
                let chunker = LineChunker::new(decoded, file, self.chunk_bytes);
                self.current = Some((input, file, chunker));
                continue;
            };
            match chunker.next_chunk() {
                Ok(Some(chunk)) => {
                    let raw = chunker.get_ref().raw_bytes();
                    return Ok(Some(Piece::Chunk(chunk, raw)));
                }
                Ok(None) => {
                    let file = *file;
                    let (input, _, chunker) = self.current.take().expect("current file");
                    let (digest, bytes) =
                        chunker.into_inner().into_file().finish().map_err(|error| {
                            SourceError::Io {
                                path: input.path.clone(),
                                error,
                            }
                        })?;
                    return Ok(Some(Piece::FileDone {
                        file,
                        digest,
                        bytes,
                    }));
                }
                Err(e) => {
                    return Err(match input.compression {
                        Compression::None => SourceError::Io {
                            path: input.path.clone(),
                            error: e,
                        },
                        _ => SourceError::Decompress {
                            path: input.path.clone(),
                            reason: e.to_string(),
                        },
                    })
                }
            }
        }
    }
}

impl Iterator for Chunks {
    type Item = Result<Piece, SourceError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let r = self.step().transpose();
        self.failed = matches!(r, Some(Err(_)));
        r
    }
}
