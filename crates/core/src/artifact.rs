//! The artifact file format: one typed stream of records per stage output.
//!
//! ```text
//! header (96 bytes, little endian)
//!   magic         8   b"PRICERAF"
//!   version       4   FORMAT_VERSION
//!   flags         4   bit 0: body is zstd-compressed
//!   record_type  16   ASCII, zero padded (e.g. "item")
//!   count         8   number of records
//!   body_len      8   bytes of body on disk
//!   body_digest  32   BLAKE3 of the body bytes on disk
//!   header_check 16   first 16 bytes of BLAKE3 of the 80 bytes above
//! body: frames of (u32 length, postcard record), zstd-compressed as one stream
//! ```
//! Writers write to a temporary file beside the target and rename it into place only
//! after the header is complete and the data is synced, so a killed stage never leaves a
//! file under the artifact's name. Readers stream records and check count and digest at
//! the end; [`ArtifactReader::verify`] checks a file without decoding it.

use std::fs::{self, File};
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::Serialize;

pub const MAGIC: &[u8; 8] = b"PRICERAF";
pub const FORMAT_VERSION: u32 = 1;
pub const HEADER_LEN: usize = 96;
const FLAG_ZSTD: u32 = 1;
/// zstd level for artifact bodies. Artifacts are intermediate: level 1 writes about
/// twice as fast as 3 for a few percent more bytes (still ~4x smaller than raw prompts).
pub const ZSTD_LEVEL: i32 = 1;
/// Largest record a reader accepts; guards against a corrupt length field.
pub const MAX_RECORD_BYTES: u32 = 256 << 20;

/// A record type stored in artifacts.
pub trait Record: Serialize + DeserializeOwned {
    /// Stored in the header; a reader refuses a file of another type.
    const RECORD_TYPE: &'static str;
}

#[derive(Debug, thiserror::Error)]
pub enum ArtifactError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("{path}: not a pricer artifact (bad magic); was it written by another tool?")]
    BadMagic { path: PathBuf },
    #[error(
        "{path}: artifact format version {found}, this build reads {FORMAT_VERSION}; re-run the stage that wrote it"
    )]
    Version { path: PathBuf, found: u32 },
    #[error("{path}: holds {found} records, expected {expected}")]
    WrongType {
        path: PathBuf,
        found: String,
        expected: &'static str,
    },
    #[error("{path}: corrupt artifact ({what}); delete it and re-run the stage that wrote it")]
    Corrupt { path: PathBuf, what: String },
    #[error("{path}: content digest mismatch (the file was modified or damaged); delete it and re-run the stage that wrote it")]
    DigestMismatch { path: PathBuf },
    #[error("{path}: record {index}: cannot encode: {source}")]
    Encode {
        path: PathBuf,
        index: u64,
        source: postcard::Error,
    },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> ArtifactError + '_ {
    move |source| ArtifactError::Io {
        path: path.to_owned(),
        source,
    }
}

/// What a finished artifact holds.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ArtifactInfo {
    pub record_type: String,
    pub count: u64,
    /// Hex BLAKE3 of the body; also the artifact's identity in fingerprints.
    pub digest: String,
    pub bytes: u64,
}

struct Header {
    flags: u32,
    record_type: String,
    count: u64,
    body_len: u64,
    body_digest: [u8; 32],
}

impl Header {
    fn encode(&self) -> [u8; HEADER_LEN] {
        let mut h = [0u8; HEADER_LEN];
        h[0..8].copy_from_slice(MAGIC);
        h[8..12].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
        h[12..16].copy_from_slice(&self.flags.to_le_bytes());
        let ty = self.record_type.as_bytes();
        h[16..16 + ty.len()].copy_from_slice(ty);
        h[32..40].copy_from_slice(&self.count.to_le_bytes());
        h[40..48].copy_from_slice(&self.body_len.to_le_bytes());
        h[48..80].copy_from_slice(&self.body_digest);
        let check = blake3::hash(&h[..80]);
        h[80..96].copy_from_slice(&check.as_bytes()[..16]);
        h
    }

    fn decode(path: &Path, h: &[u8; HEADER_LEN]) -> Result<Header, ArtifactError> {
        if &h[0..8] != MAGIC {
            return Err(ArtifactError::BadMagic {
                path: path.to_owned(),
            });
        }
        let version = u32::from_le_bytes(h[8..12].try_into().expect("4 bytes"));
        if version != FORMAT_VERSION {
            return Err(ArtifactError::Version {
                path: path.to_owned(),
                found: version,
            });
        }
        if blake3::hash(&h[..80]).as_bytes()[..16] != h[80..96] {
            return Err(ArtifactError::Corrupt {
                path: path.to_owned(),
                what: "header checksum".into(),
            });
        }
        let ty_end = h[16..32].iter().position(|&b| b == 0).unwrap_or(16);
        Ok(Header {
            flags: u32::from_le_bytes(h[12..16].try_into().expect("4 bytes")),
            record_type: String::from_utf8_lossy(&h[16..16 + ty_end]).into_owned(),
            count: u64::from_le_bytes(h[32..40].try_into().expect("8 bytes")),
            body_len: u64::from_le_bytes(h[40..48].try_into().expect("8 bytes")),
            body_digest: h[48..80].try_into().expect("32 bytes"),
        })
    }
}

/// Counts and hashes the bytes that pass through to the file.
struct HashingWriter<W> {
    inner: W,
    hasher: blake3::Hasher,
    len: u64,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Writes one artifact; nothing appears under `path` until [`ArtifactWriter::finish`].
pub struct ArtifactWriter<T: Record> {
    path: PathBuf,
    tmp: PathBuf,
    body: Option<zstd::Encoder<'static, HashingWriter<BufWriter<File>>>>,
    count: u64,
    buf: Vec<u8>,
    _t: PhantomData<T>,
}

/// The temporary name a writer uses beside `path`.
pub fn temp_path(path: &Path) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(format!(".tmp-{}", std::process::id()));
    path.with_file_name(name)
}

impl<T: Record> ArtifactWriter<T> {
    pub fn create(path: impl Into<PathBuf>) -> Result<Self, ArtifactError> {
        let path = path.into();
        assert!(
            T::RECORD_TYPE.len() <= 16,
            "record type names fit in 16 bytes"
        );
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir).map_err(io_err(dir))?;
        }
        let tmp = temp_path(&path);
        let mut file = File::create(&tmp).map_err(io_err(&tmp))?;
        file.write_all(&[0u8; HEADER_LEN]).map_err(io_err(&tmp))?;
        let sink = HashingWriter {
            inner: BufWriter::with_capacity(1 << 20, file),
            hasher: blake3::Hasher::new(),
            len: 0,
        };
        let body = zstd::Encoder::new(sink, ZSTD_LEVEL).map_err(io_err(&tmp))?;
        Ok(ArtifactWriter {
            path,
            tmp,
            body: Some(body),
            count: 0,
            buf: Vec::new(),
            _t: PhantomData,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

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
        let len = (self.buf.len() - 4) as u32;
        self.buf[..4].copy_from_slice(&len.to_le_bytes());
        let body = self.body.as_mut().expect("writer not finished");
        body.write_all(&self.buf).map_err(io_err(&self.tmp))?;
        self.count += 1;
        Ok(())
    }

    /// Completes the header, syncs, and renames the file into place.
    pub fn finish(mut self) -> Result<ArtifactInfo, ArtifactError> {
        let body = self.body.take().expect("writer not finished");
        let sink = body.finish().map_err(io_err(&self.tmp))?;
        let HashingWriter { inner, hasher, len } = sink;
        let mut file = inner
            .into_inner()
            .map_err(|e| io_err(&self.tmp)(e.into_error()))?;
        let digest = hasher.finalize();
        let header = Header {
            flags: FLAG_ZSTD,
            record_type: T::RECORD_TYPE.to_owned(),
            count: self.count,
            body_len: len,
            body_digest: *digest.as_bytes(),
        };
        file.seek(SeekFrom::Start(0)).map_err(io_err(&self.tmp))?;
        file.write_all(&header.encode())
            .map_err(io_err(&self.tmp))?;
        sync_file(&file).map_err(io_err(&self.tmp))?;
        drop(file);
        fs::rename(&self.tmp, &self.path).map_err(io_err(&self.path))?;
        sync_parent(&self.path);
        Ok(ArtifactInfo {
            record_type: T::RECORD_TYPE.to_owned(),
            count: self.count,
            digest: digest.to_hex().to_string(),
            bytes: len + HEADER_LEN as u64,
        })
    }
}

impl<T: Record> Drop for ArtifactWriter<T> {
    fn drop(&mut self) {
        // An unfinished writer (error or panic upstream) leaves no temporary behind.
        if self.body.is_some() {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

/// Whether outputs are flushed to disk (fsync) before they are renamed into place, and
/// renames after. Off unless `PRICER_FSYNC=1`: every artifact carries a digest that its
/// next reader and the pipeline's skip check verify, and every other output's digest is
/// in its stage's manifest, so a file torn by a power loss is found and its stage run
/// again. Kills need no fsync (the rename is atomic). Turning it on makes finished stages
/// survive a power loss, at the price of waiting for the disk on every output (half of
/// export's time on 13,000 items).
pub fn fsync_enabled() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| {
        std::env::var("PRICER_FSYNC").is_ok_and(|v| matches!(v.trim(), "1" | "true" | "yes"))
    })
}

/// `file.sync_all()` when [`fsync_enabled`].
pub fn sync_file(file: &File) -> io::Result<()> {
    if fsync_enabled() {
        file.sync_all()
    } else {
        Ok(())
    }
}

/// Makes a rename durable when [`fsync_enabled`]: sync the directory entry (best effort;
/// not all file systems allow it).
pub fn sync_parent(path: &Path) {
    if !fsync_enabled() {
        return;
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }
}

/// Hashes and counts the body bytes as they are read.
struct HashingReader<R> {
    inner: R,
    hasher: blake3::Hasher,
    remaining: u64,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let cap = buf
            .len()
            .min(self.remaining.min(usize::MAX as u64) as usize);
        let n = self.inner.read(&mut buf[..cap])?;
        self.hasher.update(&buf[..n]);
        self.remaining -= n as u64;
        Ok(n)
    }
}

/// Streams the records of one artifact, checking type, count and digest.
pub struct ArtifactReader<T: Record> {
    path: PathBuf,
    header_count: u64,
    body_digest: [u8; 32],
    body: Option<zstd::Decoder<'static, BufReader<HashingReader<BufReader<File>>>>>,
    read: u64,
    buf: Vec<u8>,
    _t: PhantomData<T>,
}

impl<T: Record> ArtifactReader<T> {
    pub fn open(path: impl Into<PathBuf>) -> Result<Self, ArtifactError> {
        let path = path.into();
        let (header, file) = open_header(&path)?;
        if header.record_type != T::RECORD_TYPE {
            return Err(ArtifactError::WrongType {
                path,
                found: header.record_type,
                expected: T::RECORD_TYPE,
            });
        }
        if header.flags & FLAG_ZSTD == 0 {
            return Err(ArtifactError::Corrupt {
                path,
                what: "unknown body encoding".into(),
            });
        }
        let hashing = HashingReader {
            inner: file,
            hasher: blake3::Hasher::new(),
            remaining: header.body_len,
        };
        let body = zstd::Decoder::new(hashing).map_err(io_err(&path))?;
        Ok(ArtifactReader {
            path,
            header_count: header.count,
            body_digest: header.body_digest,
            body: Some(body),
            read: 0,
            buf: Vec::new(),
            _t: PhantomData,
        })
    }

    /// Records the header promises.
    pub fn expected_count(&self) -> u64 {
        self.header_count
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn corrupt(&self, what: impl Into<String>) -> ArtifactError {
        ArtifactError::Corrupt {
            path: self.path.clone(),
            what: what.into(),
        }
    }

    fn next_record(&mut self) -> Result<Option<T>, ArtifactError> {
        let Some(body) = self.body.as_mut() else {
            return Ok(None);
        };
        if self.read == self.header_count {
            // Drain to the end so the digest covers every byte, then compare.
            let mut rest = Vec::new();
            let extra = body.read_to_end(&mut rest);
            let body = self.body.take().expect("checked above");
            let hashing = body.finish().into_inner();
            match extra {
                Ok(0) => {}
                Ok(_) => return Err(self.corrupt("records beyond the count in the header")),
                Err(e) => return Err(self.corrupt(format!("compressed body: {e}"))),
            }
            if hashing.remaining != 0 {
                return Err(self.corrupt("trailing bytes after the body"));
            }
            let mut file = hashing.inner;
            let mut probe = [0u8; 1];
            if file.read(&mut probe).map_err(io_err(&self.path))? != 0 {
                return Err(self.corrupt("trailing bytes after the body"));
            }
            if hashing.hasher.finalize().as_bytes() != &self.body_digest {
                return Err(ArtifactError::DigestMismatch {
                    path: self.path.clone(),
                });
            }
            return Ok(None);
        }
        let mut len = [0u8; 4];
        if let Err(e) = body.read_exact(&mut len) {
            // A damaged body surfaces here as a short or undecodable stream.
            self.body = None;
            return Err(self.corrupt(format!(
                "record {} of {}: {e}",
                self.read, self.header_count
            )));
        }
        let len = u32::from_le_bytes(len);
        if len > MAX_RECORD_BYTES {
            self.body = None;
            return Err(self.corrupt(format!("record {} claims {len} bytes", self.read)));
        }
        self.buf.resize(len as usize, 0);
        if let Err(e) = body.read_exact(&mut self.buf) {
            self.body = None;
            return Err(self.corrupt(format!(
                "record {} of {}: {e}",
                self.read, self.header_count
            )));
        }
        let record = postcard::from_bytes(&self.buf).map_err(|e| {
            self.body = None;
            ArtifactError::Corrupt {
                path: self.path.clone(),
                what: format!("record {}: {e}", self.read),
            }
        })?;
        self.read += 1;
        Ok(Some(record))
    }
}

impl<T: Record> Iterator for ArtifactReader<T> {
    type Item = Result<T, ArtifactError>;
    fn next(&mut self) -> Option<Self::Item> {
        self.next_record().transpose()
    }
}

fn open_header(path: &Path) -> Result<(Header, BufReader<File>), ArtifactError> {
    let file = File::open(path).map_err(io_err(path))?;
    let mut file = BufReader::with_capacity(1 << 20, file);
    let mut h = [0u8; HEADER_LEN];
    file.read_exact(&mut h).map_err(|e| match e.kind() {
        io::ErrorKind::UnexpectedEof => ArtifactError::Corrupt {
            path: path.to_owned(),
            what: "shorter than a header".into(),
        },
        _ => io_err(path)(e),
    })?;
    Ok((Header::decode(path, &h)?, file))
}

/// Checks an artifact's header and body digest without decoding records.
pub fn verify(path: &Path) -> Result<ArtifactInfo, ArtifactError> {
    let (header, file) = open_header(path)?;
    let mut hashing = HashingReader {
        inner: file,
        hasher: blake3::Hasher::new(),
        remaining: header.body_len,
    };
    io::copy(&mut hashing, &mut io::sink()).map_err(io_err(path))?;
    if hashing.remaining != 0 {
        return Err(ArtifactError::Corrupt {
            path: path.to_owned(),
            what: "body shorter than the header says".into(),
        });
    }
    let mut probe = [0u8; 1];
    if hashing.inner.read(&mut probe).map_err(io_err(path))? != 0 {
        return Err(ArtifactError::Corrupt {
            path: path.to_owned(),
            what: "trailing bytes after the body".into(),
        });
    }
    let digest = hashing.hasher.finalize();
    if digest.as_bytes() != &header.body_digest {
        return Err(ArtifactError::DigestMismatch {
            path: path.to_owned(),
        });
    }
    Ok(ArtifactInfo {
        record_type: header.record_type,
        count: header.count,
        digest: digest.to_hex().to_string(),
        bytes: header.body_len + HEADER_LEN as u64,
    })
}

/// An artifact's header facts (count, body digest, size) after checking the header alone.
/// For a stage about to read the whole artifact: its reader checks the body against this
/// digest at the end, so verifying first would read everything twice.
pub fn header_info(path: &Path) -> Result<ArtifactInfo, ArtifactError> {
    let (header, file) = open_header(path)?;
    let len = file.get_ref().metadata().map_err(io_err(path))?.len();
    if len != header.body_len + HEADER_LEN as u64 {
        return Err(ArtifactError::Corrupt {
            path: path.to_owned(),
            what: format!(
                "{} bytes, the header says {}",
                len,
                header.body_len + HEADER_LEN as u64
            ),
        });
    }
    Ok(ArtifactInfo {
        record_type: header.record_type,
        count: header.count,
        digest: blake3::Hash::from_bytes(header.body_digest)
            .to_hex()
            .to_string(),
        bytes: header.body_len + HEADER_LEN as u64,
    })
}

/// The record type named in an artifact's header.
pub fn record_type(path: &Path) -> Result<String, ArtifactError> {
    Ok(open_header(path)?.0.record_type)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::Item;

    fn item(i: u32) -> Item {
        Item {
            category: "Automotive".into(),
            title: format!("title {i}"),
            price: f64::from(i) + 0.99,
            prompt: format!("prompt {i} ").repeat(20),
            token_count: 170 + i,
        }
    }

    fn write(path: &Path, n: u32) -> ArtifactInfo {
        let mut w = ArtifactWriter::<Item>::create(path).unwrap();
        for i in 0..n {
            w.write(&item(i)).unwrap();
        }
        w.finish().unwrap()
    }

    #[test]
    fn roundtrip_and_verify() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("items.art");
        let info = write(&path, 1000);
        assert_eq!(info.count, 1000);
        let back: Vec<Item> = ArtifactReader::<Item>::open(&path)
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(back, (0..1000).map(item).collect::<Vec<_>>());
        assert_eq!(verify(&path).unwrap(), info);
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary left behind"
        );
    }

    #[test]
    fn same_records_same_bytes() {
        let dir = tempfile::tempdir().unwrap();
        write(&dir.path().join("a"), 500);
        write(&dir.path().join("b"), 500);
        assert_eq!(
            fs::read(dir.path().join("a")).unwrap(),
            fs::read(dir.path().join("b")).unwrap()
        );
    }

    #[test]
    fn every_flipped_byte_is_detected() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("items.art");
        write(&path, 50);
        let good = fs::read(&path).unwrap();
        for pos in (0..good.len()).step_by(7) {
            let mut bad = good.clone();
            bad[pos] ^= 0x10;
            fs::write(&path, &bad).unwrap();
            assert!(verify(&path).is_err(), "verify misses a flip at byte {pos}");
            let read: Result<Vec<Item>, _> =
                ArtifactReader::<Item>::open(&path).and_then(|r| r.collect());
            let err = read.expect_err("reading a damaged artifact must fail");
            assert!(
                err.to_string().contains("items.art"),
                "error names the artifact: {err}"
            );
        }
    }

    #[test]
    fn wrong_type_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("items.art");
        write(&path, 3);
        let err = ArtifactReader::<crate::records::Candidate>::open(&path)
            .err()
            .unwrap();
        assert!(matches!(err, ArtifactError::WrongType { .. }), "{err}");
    }

    #[test]
    fn unfinished_writer_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("items.art");
        {
            let mut w = ArtifactWriter::<Item>::create(&path).unwrap();
            w.write(&item(1)).unwrap();
        }
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
