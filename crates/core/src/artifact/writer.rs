//! Writing an artifact: frames of postcard records through zstd, digested on the way to
//! a temporary file; the header is written last and the file renamed into place.

use std::io::Write;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

use super::header::Header;
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
        Ok(Encoded {
            bytes: postcard::to_allocvec(record)?,
            _t: PhantomData,
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
pub struct ArtifactWriter<T: Record> {
    path: PathBuf,
    body: Option<zstd::Encoder<'static, HashingWriter<AtomicFile>>>,
    count: u64,
    buf: Vec<u8>,
    _t: PhantomData<T>,
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
        let body = zstd::Encoder::new(HashingWriter::new(file), ZSTD_LEVEL)
            .map_err(super::io_err(&path))?;
        Ok(ArtifactWriter {
            path,
            body: Some(body),
            count: 0,
            buf: Vec::new(),
            _t: PhantomData,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one record. A record larger than [`MAX_RECORD_BYTES`] is refused (its
    /// readers would refuse it too), and the artifact stays usable for the next one.
    pub fn write(&mut self, record: &T) -> Result<(), ArtifactError> {
        self.buf.clear();
        self.buf.extend_from_slice(&[0u8; 4]);
        self.buf =
            postcard::to_extend(record, std::mem::take(&mut self.buf)).map_err(|source| {
                ArtifactError::Encode {
                    path: self.path.clone(),
                    index: self.count,
                    source,
                }
            })?;
        let len = self.buf.len() - 4;
        if len > MAX_RECORD_BYTES as usize {
            return Err(ArtifactError::TooLarge {
                path: self.path.clone(),
                index: self.count,
                bytes: len as u64,
            });
        }
        self.buf[..4].copy_from_slice(&(len as u32).to_le_bytes());
        let body = self.body.as_mut().expect("writer not finished");
        body.write_all(&self.buf)
            .map_err(|e| body.get_ref().inner.error("write", e))?;
        self.count += 1;
        Ok(())
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
        let body = self.body.as_mut().expect("writer not finished");
        let len = (record.len() as u32).to_le_bytes();
        body.write_all(&len)
            .and_then(|_| body.write_all(&record.bytes))
            .map_err(|e| body.get_ref().inner.error("write", e))?;
        self.count += 1;
        Ok(())
    }

    /// Records written so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Completes the header and renames the file into place.
    pub fn finish(mut self) -> Result<ArtifactInfo, ArtifactError> {
        let body = self.body.take().expect("writer not finished");
        let sink = body.finish().map_err(super::io_err(&self.path))?;
        let (mut file, digest, len) = sink.finish();
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
