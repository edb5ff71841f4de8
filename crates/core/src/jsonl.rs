//! JSON-lines files (rejects, traces), written atomically and digested as they are
//! written, so a stage can declare them as outputs without reading them back; and lines
//! of files someone else wrote, read with a bound so one endless line cannot take all
//! memory.

use std::io::{self, BufRead, Write};
use std::path::{Path, PathBuf};

use crate::artifact::ArtifactInfo;
use crate::atomic::{AtomicFile, FileError, HashingWriter};

/// The record type that manifests give JSON-lines outputs (`count` = lines).
pub const JSONL_KIND: &str = "jsonl";
/// The record type of any other non-artifact output (`count` = 0).
pub const FILE_KIND: &str = "file";

/// Writes one JSON value per line; nothing appears under the name until [`finish`].
///
/// [`finish`]: JsonLinesWriter::finish
#[derive(Debug)]
pub struct JsonLinesWriter {
    out: HashingWriter<AtomicFile>,
    lines: u64,
}

impl JsonLinesWriter {
    pub fn create(path: impl Into<PathBuf>) -> Result<Self, FileError> {
        Ok(JsonLinesWriter {
            out: HashingWriter::new(AtomicFile::create(path)?),
            lines: 0,
        })
    }

    pub fn path(&self) -> &Path {
        self.out.inner.path()
    }

    /// Appends `line` (one JSON value, no newline) and a newline.
    pub fn write_line(&mut self, line: &str) -> Result<(), FileError> {
        self.out
            .write_all(line.as_bytes())
            .and_then(|_| self.out.write_all(b"\n"))
            .map_err(|e| self.out.inner.error("write", e))?;
        self.lines += 1;
        Ok(())
    }

    /// Appends `n` lines made elsewhere (`lines`: each one JSON value and a newline).
    pub fn write_lines(&mut self, lines: &str, n: u64) -> Result<(), FileError> {
        debug_assert!(lines.is_empty() || lines.ends_with('\n'));
        self.out
            .write_all(lines.as_bytes())
            .map_err(|e| self.out.inner.error("write", e))?;
        self.lines += n;
        Ok(())
    }

    /// Appends a serde value as one line (serde_json's compact form).
    pub fn write_value(&mut self, v: &serde_json::Value) -> Result<(), FileError> {
        self.write_line(&v.to_string())
    }

    /// Lines written so far.
    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// Renames the file into place; its manifest entry.
    pub fn finish(self) -> Result<ArtifactInfo, FileError> {
        let (file, digest, bytes) = self.out.finish();
        file.commit()?;
        Ok(ArtifactInfo {
            record_type: JSONL_KIND.into(),
            count: self.lines,
            digest: digest.to_hex().to_string(),
            bytes,
        })
    }
}

/// The manifest entry of a plain file output with these bytes.
pub fn file_info(bytes: &[u8]) -> ArtifactInfo {
    ArtifactInfo {
        record_type: FILE_KIND.into(),
        count: 0,
        digest: crate::digest::bytes_digest(bytes),
        bytes: bytes.len() as u64,
    }
}

/// The longest line read from a file pricer did not write (ingest's raw lines too).
pub const MAX_LINE_BYTES: usize = 256 << 20;

/// What [`read_line_capped`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum LineRead {
    /// No more lines.
    End,
    /// A line (with its `\n`, if it had one) is in the buffer.
    Line,
    /// A line of this many bytes (its `\n` included) was longer than the bound: it was
    /// read past, never held; the buffer is empty.
    TooLong(u64),
}

/// Reads the next line into `buf` (cleared first), holding at most `max` bytes of it.
pub fn read_line_capped(
    input: &mut impl BufRead,
    buf: &mut Vec<u8>,
    max: usize,
) -> io::Result<LineRead> {
    buf.clear();
    let mut skipped: Option<u64> = None;
    loop {
        let chunk = match input.fill_buf() {
            Ok(c) => c,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if chunk.is_empty() {
            return Ok(match skipped {
                Some(n) => LineRead::TooLong(n),
                None if buf.is_empty() => LineRead::End,
                None => LineRead::Line,
            });
        }
        let (take, ended) = match memchr::memchr(b'\n', chunk) {
            Some(i) => (i + 1, true),
            None => (chunk.len(), false),
        };
        match &mut skipped {
            Some(n) => *n += take as u64,
            None if buf.len() + take > max => {
                skipped = Some((buf.len() + take) as u64);
                buf.clear();
                buf.shrink_to(64 << 10);
            }
            None => buf.extend_from_slice(&chunk[..take]),
        }
        input.consume(take);
        if ended {
            return Ok(match skipped {
                Some(n) => LineRead::TooLong(n),
                None => LineRead::Line,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_over_the_bound_are_measured_not_held() {
        // A small reader buffer, so lines cross many fills.
        let text = b"short\n0123456789abcdef\nexactly10\n\nlast-no-newline".to_vec();
        let mut r = io::BufReader::with_capacity(4, &text[..]);
        let mut buf = Vec::new();
        let mut got = Vec::new();
        loop {
            match read_line_capped(&mut r, &mut buf, 10).unwrap() {
                LineRead::End => break,
                LineRead::Line => got.push(String::from_utf8(buf.clone()).unwrap()),
                LineRead::TooLong(n) => {
                    assert!(buf.is_empty());
                    got.push(format!("<{n} bytes>"));
                }
            }
        }
        assert_eq!(
            got,
            ["short\n", "<17 bytes>", "exactly10\n", "\n", "<15 bytes>"]
        );
    }

    #[test]
    fn digest_and_count_match_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.jsonl");
        let mut w = JsonLinesWriter::create(&path).unwrap();
        w.write_line("{\"a\": 1}").unwrap();
        w.write_value(&serde_json::json!({"b": 2})).unwrap();
        let info = w.finish().unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(bytes, b"{\"a\": 1}\n{\"b\":2}\n");
        assert_eq!(info.count, 2);
        assert_eq!(info.bytes, bytes.len() as u64);
        assert_eq!(info.digest, crate::digest::bytes_digest(&bytes));
    }
}
