//! JSON-lines files (rejects, traces), written atomically and digested as they are
//! written, so a stage can declare them as outputs without reading them back.

use std::io::Write;
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

#[cfg(test)]
mod tests {
    use super::*;

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
