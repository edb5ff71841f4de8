//! Decompression of one input file (plain, gzip, zstd, checked against its name), with
//! the raw bytes hashed as they are read so the manifest's digest costs no second read.

use std::fs::File;
use std::io::{self, BufReader, Read};

use crate::inputs::{Compression, InputFile, SourceError};

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
    /// Boxed: zlib-rs keeps its inflate state inline (over 2 KB).
    Gzip(Box<flate2::read::MultiGzDecoder<BufReader<HashingFile>>>),
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
            Decoded::Gzip(r) => (*r).into_inner().into_inner(),
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
    let io_err = |error| SourceError::Io {
        path: path.clone(),
        error,
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
        Compression::Gzip => Decoded::Gzip(Box::new(flate2::read::MultiGzDecoder::new(
            BufReader::with_capacity(1 << 20, file),
        ))),
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
