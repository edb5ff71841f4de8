//! Lines as Python's text mode splits them (universal newlines: `\n`, `\r\n`, `\r`),
//! cut into chunks of whole lines for parallel work; over-long lines are skipped
//! without being held in memory.

use std::io::{self, Read};

/// Lines longer than this are rejected (`line_too_long`) without being held in memory:
/// the bound every reader of files pricer did not write keeps.
pub use pricer_core::jsonl::MAX_LINE_BYTES;

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

    /// Reads until the buffer holds `want` bytes or the stream ends. `read_to_end`
    /// zeroes the new room once and reads into it as often as the decoder needs (a
    /// `resize` per read zeroed the whole room again for every few KiB a decoder gives).
    fn fill(&mut self, want: usize) -> io::Result<()> {
        if self.eof || self.buf.len() >= want {
            return Ok(());
        }
        let need = want - self.buf.len();
        self.buf.reserve(need);
        let n = (&mut self.reader)
            .take(need as u64)
            .read_to_end(&mut self.buf)?;
        if n < need {
            self.eof = true;
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
}
