//! Reading an artifact: records streamed and decoded, type, count and digest checked;
//! and checks of a whole file without decoding it.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread::JoinHandle;

use super::header::open_header;
use super::{io_err, ArtifactError, ArtifactInfo, Record, FLAG_ZSTD, HEADER_LEN, MAX_RECORD_BYTES};

/// Hashes and counts the body bytes as they are read, and stops at the body's end.
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

type Decoder = zstd::Decoder<'static, BufReader<HashingReader<BufReader<File>>>>;

/// Decompressed bytes handed over at a time.
const BATCH_BYTES: usize = 128 << 10;

/// What the inflating thread sends: decompressed bytes, then how the body ended.
enum Msg {
    Data(Vec<u8>),
    End(io::Result<BodyEnd>),
}

/// Facts about the compressed body, known once the stream has ended.
struct BodyEnd {
    /// Body bytes the header promised that the file did not hold.
    missing: u64,
    trailing: bool,
    digest: [u8; 32],
}

/// Reads, digests and decompresses the body on a thread of its own, so the stage's
/// thread only decodes records (the same bytes in the same order).
fn inflate(mut body: Decoder, out: SyncSender<Msg>) {
    loop {
        let mut batch = Vec::with_capacity(BATCH_BYTES);
        let got = (&mut body).take(BATCH_BYTES as u64).read_to_end(&mut batch);
        // Bytes read before an error still go first: the record they hold is whole.
        if !batch.is_empty() && out.send(Msg::Data(batch)).is_err() {
            return; // the reader was dropped
        }
        match got {
            Ok(n) if n == BATCH_BYTES => continue,
            Ok(_) => {
                let _ = out.send(Msg::End(body_end(body)));
                return;
            }
            Err(e) => {
                let _ = out.send(Msg::End(Err(e)));
                return;
            }
        }
    }
}

fn body_end(body: Decoder) -> io::Result<BodyEnd> {
    let hashing = body.finish().into_inner();
    let mut file = hashing.inner;
    let mut probe = [0u8; 1];
    let trailing = file.read(&mut probe)? != 0;
    Ok(BodyEnd {
        missing: hashing.remaining,
        trailing,
        digest: *hashing.hasher.finalize().as_bytes(),
    })
}

/// The decompressed body as a `Read`, from the inflating thread's batches.
struct Body {
    /// `None` only while dropping.
    rx: Option<Receiver<Msg>>,
    thread: Option<JoinHandle<()>>,
    batch: Vec<u8>,
    pos: usize,
    end: Option<BodyEnd>,
}

impl Drop for Body {
    /// The inflating thread ends (its next send fails) and closes the file before this
    /// returns, so that a reader dropped early, after a corrupt record say, leaves no
    /// thread reading on behind it.
    fn drop(&mut self) {
        drop(self.rx.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Read for Body {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.batch.len() {
            if self.end.is_some() {
                return Ok(0);
            }
            let rx = self.rx.as_ref().expect("set until dropped");
            match rx.recv() {
                Ok(Msg::Data(b)) => {
                    self.batch = b;
                    self.pos = 0;
                }
                Ok(Msg::End(Ok(end))) => self.end = Some(end),
                Ok(Msg::End(Err(e))) => return Err(e),
                Err(_) => return Err(io::Error::other("the inflating thread stopped")),
            }
        }
        let n = buf.len().min(self.batch.len() - self.pos);
        buf[..n].copy_from_slice(&self.batch[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// One record of an artifact of `T` as it is encoded there (postcard), to move between
/// artifacts of the same type without decoding and encoding it again.
#[derive(Debug, Clone, Copy)]
pub struct Frame<'a, T> {
    bytes: &'a [u8],
    _t: PhantomData<T>,
}

impl<'a, T: Record> Frame<'a, T> {
    /// Only frames that an artifact of `T` held (or a copy of one) are made.
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Frame {
            bytes,
            _t: PhantomData,
        }
    }

    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    pub fn decode(&self) -> Result<T, postcard::Error> {
        postcard::from_bytes(self.bytes)
    }
}

/// Streams the records of one artifact, checking type, count and digest.
pub struct ArtifactReader<T: Record> {
    path: PathBuf,
    header_count: u64,
    body_digest: [u8; 32],
    body: Option<Body>,
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
        let decoder = zstd::Decoder::new(hashing).map_err(io_err(&path))?;
        let (tx, rx) = sync_channel(4);
        let thread = std::thread::Builder::new()
            .name("artifact-unzstd".into())
            .spawn(move || inflate(decoder, tx))
            .map_err(io_err(&path))?;
        Ok(ArtifactReader {
            path,
            header_count: header.count,
            body_digest: header.body_digest,
            body: Some(Body {
                rx: Some(rx),
                thread: Some(thread),
                batch: Vec::new(),
                pos: 0,
                end: None,
            }),
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

    fn corrupt(&mut self, what: impl Into<String>) -> ArtifactError {
        self.body = None;
        ArtifactError::Corrupt {
            path: self.path.clone(),
            what: what.into(),
        }
    }

    /// After the last record: the body must end here and its digest must match.
    fn finish_body(&mut self) -> Result<(), ArtifactError> {
        let Some(mut body) = self.body.take() else {
            return Ok(());
        };
        let mut rest = Vec::new();
        match body.read_to_end(&mut rest) {
            Ok(0) => {}
            Ok(_) => return Err(self.corrupt("records beyond the count in the header")),
            Err(e) => return Err(self.corrupt(format!("compressed body: {e}"))),
        }
        let end = body.end.take().expect("read to the end");
        if end.missing != 0 {
            return Err(self.corrupt("the body is shorter than the header says"));
        }
        if end.trailing {
            return Err(self.corrupt("trailing bytes after the body"));
        }
        if end.digest != self.body_digest {
            return Err(ArtifactError::DigestMismatch {
                path: self.path.clone(),
            });
        }
        Ok(())
    }

    fn next_record(&mut self) -> Result<Option<T>, ArtifactError> {
        self.next_view()
    }

    /// The next record decoded as `V`: `T` itself, or a view of its leading fields that
    /// borrows from the reader (e.g. `&str`s), for a pass that needs a few fields and
    /// should not allocate the rest. The body's digest is checked after the last record
    /// either way.
    pub fn next_view<'b, V: serde::Deserialize<'b>>(
        &'b mut self,
    ) -> Result<Option<V>, ArtifactError> {
        if !self.load_frame()? {
            return Ok(None);
        }
        // Fields, not `self.corrupt`: the record may borrow `buf` for as long as `'b`.
        match postcard::from_bytes(&self.buf) {
            Ok(record) => {
                self.read += 1;
                Ok(Some(record))
            }
            Err(e) => {
                self.body = None;
                Err(ArtifactError::Corrupt {
                    path: self.path.clone(),
                    what: format!("record {}: {e}", self.read),
                })
            }
        }
    }

    /// The next record's bytes, undecoded, to copy into another artifact of `T`
    /// ([`super::ArtifactWriter::write_frame`]). Nothing checks them but the body's digest
    /// after the last record, so an output built from them is finished only after that.
    pub fn next_frame(&mut self) -> Result<Option<Frame<'_, T>>, ArtifactError> {
        if !self.load_frame()? {
            return Ok(None);
        }
        self.read += 1;
        Ok(Some(Frame::new(&self.buf)))
    }

    /// Loads the next record's bytes into `buf`; false after the last (whose end and
    /// digest it checks).
    fn load_frame(&mut self) -> Result<bool, ArtifactError> {
        if self.body.is_none() {
            return Ok(false);
        }
        crate::cancel::check()?;
        if self.read == self.header_count {
            self.finish_body()?;
            return Ok(false);
        }
        let body = self.body.as_mut().expect("checked above");
        let mut len = [0u8; 4];
        if let Err(e) = body.read_exact(&mut len) {
            // A damaged body surfaces here as a short or undecodable stream.
            let what = format!("record {} of {}: {e}", self.read, self.header_count);
            return Err(self.corrupt(what));
        }
        let len = u32::from_le_bytes(len);
        if len > MAX_RECORD_BYTES {
            let what = format!("record {} claims {len} bytes", self.read);
            return Err(self.corrupt(what));
        }
        self.buf.resize(len as usize, 0);
        if let Err(e) = body.read_exact(&mut self.buf) {
            let what = format!("record {} of {}: {e}", self.read, self.header_count);
            return Err(self.corrupt(what));
        }
        Ok(true)
    }
}

impl<T: Record> Iterator for ArtifactReader<T> {
    type Item = Result<T, ArtifactError>;
    fn next(&mut self) -> Option<Self::Item> {
        self.next_record().transpose()
    }
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
    let corrupt = |what: &str| ArtifactError::Corrupt {
        path: path.to_owned(),
        what: what.into(),
    };
    if hashing.remaining != 0 {
        return Err(corrupt("the body is shorter than the header says"));
    }
    let mut probe = [0u8; 1];
    if hashing.inner.read(&mut probe).map_err(io_err(path))? != 0 {
        return Err(corrupt("trailing bytes after the body"));
    }
    let digest = hashing.hasher.finalize();
    if digest.as_bytes() != &header.body_digest {
        return Err(ArtifactError::DigestMismatch {
            path: path.to_owned(),
        });
    }
    Ok(header.info(*digest.as_bytes()))
}

/// An artifact's header facts (count, body digest, size) after checking the header and
/// the file's length. For a stage about to read the whole artifact: its reader checks the
/// body against this digest at the end, so verifying first would read everything twice.
pub fn header_info(path: &Path) -> Result<ArtifactInfo, ArtifactError> {
    let (header, file) = open_header(path)?;
    let len = file.get_ref().metadata().map_err(io_err(path))?.len();
    let want = header.body_len.saturating_add(HEADER_LEN as u64);
    if len != want {
        return Err(ArtifactError::Corrupt {
            path: path.to_owned(),
            what: format!("{len} bytes, the header says {want}"),
        });
    }
    Ok(header.info(header.body_digest))
}

/// The record type named in an artifact's header.
pub fn record_type(path: &Path) -> Result<String, ArtifactError> {
    Ok(open_header(path)?.0.record_type)
}
