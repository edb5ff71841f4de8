//! Raw metadata files: which files, in which order, their categories, decompression, and
//! lines as Python's text mode splits them (universal newlines: `\n`, `\r\n`, `\r`).

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};

/// Lines longer than this are rejected (`line_too_long`) without being held in memory.
pub const MAX_LINE_BYTES: usize = 256 << 20;
/// File name endings read as raw metadata.
pub const EXTENSIONS: [&str; 3] = [".jsonl", ".jsonl.gz", ".jsonl.zst"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

/// One raw metadata file and the category its name gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputFile {
    pub path: PathBuf,
    pub category: String,
    pub compression: Compression,
}

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("{path}: not a raw metadata file (expected a name ending in .jsonl, .jsonl.gz or .jsonl.zst)")]
    NotMetadata { path: PathBuf },
    #[error("{path}: no .jsonl, .jsonl.gz or .jsonl.zst files in this folder")]
    EmptyFolder { path: PathBuf },
    #[error("{dir}: no file for category {category} (looked for meta_{category}.jsonl, .jsonl.gz, .jsonl.zst)")]
    NoCategory { dir: PathBuf, category: String },
    #[error("{dir}: category {category} has several files ({found}); name one of them as an input instead")]
    AmbiguousCategory {
        dir: PathBuf,
        category: String,
        found: String,
    },
    #[error("{path}: the name says {expected} but the content is {found}; rename the file to match its content")]
    WrongCompression {
        path: PathBuf,
        expected: &'static str,
        found: &'static str,
    },
    #[error("{path}: cannot decompress ({reason}): the file is truncated or corrupt; re-download or re-compress it")]
    Decompress { path: PathBuf, reason: String },
}

/// The category of a raw file: the stem after `meta_` (as the recipe's loader named it).
pub fn category_of(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut stem = name.as_str();
    for ext in [".gz", ".zst"] {
        if let Some(s) = stem.strip_suffix(ext) {
            stem = s;
            break;
        }
    }
    if let Some((s, _)) = stem.rsplit_once('.') {
        stem = s;
    }
    stem.strip_prefix("meta_").unwrap_or(stem).to_owned()
}

fn compression_of(path: &Path) -> Option<Compression> {
    let name = path.file_name()?.to_string_lossy();
    if name.ends_with(".jsonl.gz") {
        Some(Compression::Gzip)
    } else if name.ends_with(".jsonl.zst") {
        Some(Compression::Zstd)
    } else if name.ends_with(".jsonl") {
        Some(Compression::None)
    } else {
        None
    }
}

fn input_file(path: PathBuf) -> Result<InputFile, SourceError> {
    let compression =
        compression_of(&path).ok_or_else(|| SourceError::NotMetadata { path: path.clone() })?;
    Ok(InputFile {
        category: category_of(&path),
        compression,
        path,
    })
}

/// Files named on the command line or in a config, in the order given; a folder expands
/// to its metadata files in byte-sorted file-name order.
pub fn resolve(paths: &[PathBuf]) -> Result<Vec<InputFile>, SourceError> {
    let mut out = Vec::new();
    for path in paths {
        let meta = std::fs::metadata(path).map_err(|source| SourceError::Io {
            path: path.clone(),
            source,
        })?;
        if meta.is_dir() {
            let mut names: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(|source| SourceError::Io {
                    path: path.clone(),
                    source,
                })?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file() && compression_of(p).is_some())
                .collect();
            if names.is_empty() {
                return Err(SourceError::EmptyFolder { path: path.clone() });
            }
            names.sort_by(|a, b| {
                a.file_name()
                    .map(|n| n.as_encoded_bytes())
                    .cmp(&b.file_name().map(|n| n.as_encoded_bytes()))
            });
            for p in names {
                out.push(input_file(p)?);
            }
        } else {
            out.push(input_file(path.clone())?);
        }
    }
    Ok(out)
}

/// Category names resolved to `meta_<Category>.jsonl[.gz|.zst]` in `dir`, in the order given.
pub fn resolve_categories(
    dir: &Path,
    categories: &[String],
) -> Result<Vec<InputFile>, SourceError> {
    categories
        .iter()
        .map(|category| {
            let found: Vec<PathBuf> = EXTENSIONS
                .iter()
                .map(|ext| dir.join(format!("meta_{category}{ext}")))
                .filter(|p| p.is_file())
                .collect();
            match found.len() {
                0 => Err(SourceError::NoCategory {
                    dir: dir.to_owned(),
                    category: category.clone(),
                }),
                1 => input_file(found.into_iter().next().expect("one")),
                _ => Err(SourceError::AmbiguousCategory {
                    dir: dir.to_owned(),
                    category: category.clone(),
                    found: found
                        .iter()
                        .map(|p| p.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", "),
                }),
            }
        })
        .collect()
}

/// Counts and hashes the raw (compressed) bytes as they are read.
pub struct HashingFile {
    file: File,
    hasher: blake3::Hasher,
    bytes: u64,
}

impl Read for HashingFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
}

impl HashingFile {
    /// Reads what the decoder left (so the digest covers the whole file) and finishes.
    pub fn finish(mut self) -> io::Result<(String, u64)> {
        io::copy(&mut self, &mut io::sink())?;
        Ok((self.hasher.finalize().to_hex().to_string(), self.bytes))
    }
}

/// A decompressing reader over one input file.
pub enum Decoded {
    Plain(HashingFile),
    Gzip(flate2::read::MultiGzDecoder<BufReader<HashingFile>>),
    Zstd(zstd::Decoder<'static, BufReader<HashingFile>>),
}

impl Read for Decoded {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Decoded::Plain(r) => r.read(buf),
            Decoded::Gzip(r) => r.read(buf),
            Decoded::Zstd(r) => r.read(buf),
        }
    }
}

impl Decoded {
    /// Bytes of the file consumed so far (for progress).
    pub fn raw_bytes(&self) -> u64 {
        match self {
            Decoded::Plain(r) => r.bytes,
            Decoded::Gzip(r) => r.get_ref().get_ref().bytes,
            Decoded::Zstd(r) => r.get_ref().get_ref().bytes,
        }
    }

    pub fn into_file(self) -> HashingFile {
        match self {
            Decoded::Plain(r) => r,
            Decoded::Gzip(r) => r.into_inner().into_inner(),
            Decoded::Zstd(r) => r.finish().into_inner(),
        }
    }
}

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

fn sniff(head: &[u8]) -> &'static str {
    if head.starts_with(&GZIP_MAGIC) {
        "gzip"
    } else if head.starts_with(&ZSTD_MAGIC) {
        "zstd"
    } else {
        "not compressed"
    }
}

/// Opens an input, checking that its content matches what its name says.
pub fn open(input: &InputFile) -> Result<Decoded, SourceError> {
    let path = &input.path;
    let io_err = |source| SourceError::Io {
        path: path.clone(),
        source,
    };
    let mut head = [0u8; 4];
    let mut probe = File::open(path).map_err(io_err)?;
    let n = read_up_to(&mut probe, &mut head).map_err(io_err)?;
    let found = sniff(&head[..n]);
    let expected = match input.compression {
        Compression::None => "not compressed",
        Compression::Gzip => "gzip",
        Compression::Zstd => "zstd",
    };
    // An empty file is an empty file whatever its name says.
    if n > 0 && found != expected {
        return Err(SourceError::WrongCompression {
            path: path.clone(),
            expected,
            found,
        });
    }
    let file = HashingFile {
        file: File::open(path).map_err(io_err)?,
        hasher: blake3::Hasher::new(),
        bytes: 0,
    };
    Ok(match input.compression {
        Compression::None => Decoded::Plain(file),
        Compression::Gzip if n == 0 => Decoded::Plain(file),
        Compression::Zstd if n == 0 => Decoded::Plain(file),
        Compression::Gzip => Decoded::Gzip(flate2::read::MultiGzDecoder::new(
            BufReader::with_capacity(1 << 20, file),
        )),
        Compression::Zstd => Decoded::Zstd(
            zstd::Decoder::with_buffer(BufReader::with_capacity(1 << 20, file)).map_err(io_err)?,
        ),
    })
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// One line of a chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Line {
    /// Byte range in the chunk's data, terminator excluded.
    Text { start: usize, end: usize },
    /// A line over [`MAX_LINE_BYTES`], skipped; its length in bytes.
    TooLong { bytes: u64 },
}

/// Consecutive whole lines of one file.
#[derive(Debug, Default)]
pub struct Chunk {
    pub file: u32,
    /// 1-based number of the first line.
    pub first_line: u64,
    pub data: Vec<u8>,
    pub lines: Vec<Line>,
}

/// Cuts a byte stream into chunks of whole lines of about `target` bytes.
pub struct LineChunker<R> {
    reader: R,
    file: u32,
    target: usize,
    max_line: usize,
    buf: Vec<u8>,
    eof: bool,
    next_line: u64,
}

impl<R: Read> LineChunker<R> {
    pub fn new(reader: R, file: u32, target: usize) -> Self {
        Self::with_max_line(reader, file, target, MAX_LINE_BYTES)
    }

    pub fn with_max_line(reader: R, file: u32, target: usize, max_line: usize) -> Self {
        LineChunker {
            reader,
            file,
            target: target.max(1),
            max_line,
            buf: Vec::new(),
            eof: false,
            next_line: 1,
        }
    }

    pub fn get_ref(&self) -> &R {
        &self.reader
    }

    pub fn into_inner(self) -> R {
        self.reader
    }

    fn fill(&mut self, want: usize) -> io::Result<()> {
        while !self.eof && self.buf.len() < want {
            let old = self.buf.len();
            let grow = (want - old).max(64 << 10);
            self.buf.resize(old + grow, 0);
            let n = self.reader.read(&mut self.buf[old..])?;
            self.buf.truncate(old + n);
            if n == 0 {
                self.eof = true;
            }
        }
        Ok(())
    }

    /// Where the chunk may end: after the last `\n`, or after the last `\r` whose next byte
    /// is known (so a `\r\n` pair is never split between chunks).
    fn cut_point(&self) -> Option<usize> {
        let b = &self.buf;
        if let Some(i) = memchr::memrchr(b'\n', b) {
            return Some(i + 1);
        }
        match memchr::memrchr(b'\r', b) {
            Some(i) if i + 1 < b.len() || self.eof => Some(i + 1),
            _ => None,
        }
    }

    /// The next chunk, or `None` at the end of the stream.
    pub fn next_chunk(&mut self) -> io::Result<Option<Chunk>> {
        self.fill(self.target)?;
        if self.buf.is_empty() {
            return Ok(None);
        }
        let cut = loop {
            if let Some(cut) = self.cut_point() {
                break cut;
            }
            if self.eof {
                break self.buf.len();
            }
            if self.buf.len() > self.max_line {
                return self.skip_long_line().map(Some);
            }
            let want = self.buf.len() * 2;
            self.fill(want)?;
        };
        let rest = self.buf.split_off(cut);
        let data = std::mem::replace(&mut self.buf, rest);
        let max_line = self.max_line;
        let lines = split_lines(&data)
            .into_iter()
            .map(|l| match l {
                Line::Text { start, end } if end - start > max_line => Line::TooLong {
                    bytes: (end - start) as u64,
                },
                other => other,
            })
            .collect();
        let chunk = Chunk {
            file: self.file,
            first_line: self.next_line,
            data,
            lines,
        };
        self.next_line += chunk.lines.len() as u64;
        Ok(Some(chunk))
    }

    /// Discards one over-long line up to its terminator.
    fn skip_long_line(&mut self) -> io::Result<Chunk> {
        let mut skipped = 0u64;
        loop {
            let pos = self.buf.iter().position(|&c| c == b'\n' || c == b'\r');
            if let Some(i) = pos {
                let mut end = i + 1;
                if self.buf[i] == b'\r' {
                    if end == self.buf.len() && !self.eof {
                        self.fill(self.buf.len() + 1)?;
                    }
                    if self.buf.get(end) == Some(&b'\n') {
                        end += 1;
                    }
                }
                skipped += i as u64;
                self.buf.drain(..end);
                break;
            }
            skipped += self.buf.len() as u64;
            self.buf.clear();
            if self.eof {
                break;
            }
            self.fill(1 << 20)?;
            if self.buf.is_empty() {
                break;
            }
        }
        let chunk = Chunk {
            file: self.file,
            first_line: self.next_line,
            data: Vec::new(),
            lines: vec![Line::TooLong { bytes: skipped }],
        };
        self.next_line += 1;
        Ok(chunk)
    }
}

/// Lines of `data` under universal newlines; a final line without terminator counts.
pub fn split_lines(data: &[u8]) -> Vec<Line> {
    let mut lines = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while let Some(off) = memchr::memchr2(b'\n', b'\r', &data[i..]) {
        let at = i + off;
        lines.push(Line::Text { start, end: at });
        i = if data[at] == b'\r' && data.get(at + 1) == Some(&b'\n') {
            at + 2
        } else {
            at + 1
        };
        start = i;
    }
    if start < data.len() {
        lines.push(Line::Text {
            start,
            end: data.len(),
        });
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(data: &[u8]) -> Vec<&[u8]> {
        split_lines(data)
            .into_iter()
            .map(|l| match l {
                Line::Text { start, end } => &data[start..end],
                Line::TooLong { .. } => panic!(),
            })
            .collect()
    }

    #[test]
    fn universal_newlines() {
        assert_eq!(texts(b"a\nb\r\nc\rd"), vec![&b"a"[..], b"b", b"c", b"d"]);
        assert_eq!(texts(b"a\n\nb\n"), vec![&b"a"[..], b"", b"b"]);
        assert_eq!(texts(b"\r\n"), vec![&b""[..]]);
        assert!(texts(b"").is_empty());
    }

    #[test]
    fn chunks_never_split_lines_or_crlf() {
        let mut data = Vec::new();
        for i in 0..500 {
            data.extend_from_slice(format!("line {i}").as_bytes());
            data.extend_from_slice(if i % 3 == 0 {
                b"\r\n"
            } else if i % 3 == 1 {
                b"\r"
            } else {
                b"\n"
            });
        }
        for target in [1, 2, 3, 7, 64, 1000, 100_000] {
            let mut chunker = LineChunker::new(&data[..], 0, target);
            let mut all = Vec::new();
            let mut expected_first = 1;
            while let Some(chunk) = chunker.next_chunk().unwrap() {
                assert_eq!(chunk.first_line, expected_first);
                expected_first += chunk.lines.len() as u64;
                for l in &chunk.lines {
                    let Line::Text { start, end } = *l else {
                        panic!()
                    };
                    all.push(String::from_utf8(chunk.data[start..end].to_vec()).unwrap());
                }
            }
            assert_eq!(
                all,
                (0..500).map(|i| format!("line {i}")).collect::<Vec<_>>(),
                "target {target}"
            );
        }
    }

    #[test]
    fn over_long_lines_are_skipped_not_held() {
        let mut data = b"short\n".to_vec();
        data.extend(std::iter::repeat_n(b'x', 5000));
        data.extend_from_slice(b"\r\nafter\n");
        let mut chunker = LineChunker::with_max_line(&data[..], 0, 16, 1000);
        let mut seen = Vec::new();
        while let Some(chunk) = chunker.next_chunk().unwrap() {
            for l in chunk.lines {
                seen.push(match l {
                    Line::Text { start, end } => {
                        String::from_utf8(chunk.data[start..end].to_vec()).unwrap()
                    }
                    Line::TooLong { bytes } => format!("<{bytes}>"),
                });
            }
        }
        assert_eq!(seen, vec!["short", "<5000>", "after"]);
    }

    #[test]
    fn categories_from_names() {
        assert_eq!(
            category_of(Path::new("d/meta_Tools_and_Home_Improvement.jsonl.gz")),
            "Tools_and_Home_Improvement"
        );
        assert_eq!(
            category_of(Path::new("meta_Appliances.jsonl.zst")),
            "Appliances"
        );
        assert_eq!(
            category_of(Path::new("meta_Appliances.jsonl")),
            "Appliances"
        );
        assert_eq!(category_of(Path::new("Other.jsonl")), "Other");
    }
}
