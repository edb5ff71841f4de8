//! The 96-byte artifact header: what the body holds and its digest, itself checksummed.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;

use super::{ArtifactError, ArtifactInfo, FORMAT_VERSION, HEADER_LEN, MAGIC};

pub(crate) struct Header {
    pub flags: u32,
    pub record_type: String,
    pub count: u64,
    pub body_len: u64,
    pub body_digest: [u8; 32],
}

impl Header {
    pub fn encode(&self) -> [u8; HEADER_LEN] {
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

    pub fn decode(path: &Path, h: &[u8; HEADER_LEN]) -> Result<Header, ArtifactError> {
        let u32_at = |i: usize| u32::from_le_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]);
        let u64_at = |i: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&h[i..i + 8]);
            u64::from_le_bytes(b)
        };
        if &h[0..8] != MAGIC {
            return Err(ArtifactError::BadMagic {
                path: path.to_owned(),
            });
        }
        let version = u32_at(8);
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
        let mut body_digest = [0u8; 32];
        body_digest.copy_from_slice(&h[48..80]);
        Ok(Header {
            flags: u32_at(12),
            record_type: String::from_utf8_lossy(&h[16..16 + ty_end]).into_owned(),
            count: u64_at(32),
            body_len: u64_at(40),
            body_digest,
        })
    }

    pub fn info(&self, digest: [u8; 32]) -> ArtifactInfo {
        ArtifactInfo {
            record_type: self.record_type.clone(),
            count: self.count,
            digest: blake3::Hash::from_bytes(digest).to_hex().to_string(),
            bytes: self.body_len + HEADER_LEN as u64,
        }
    }
}

/// Opens an artifact and reads its header; the file is left at the body's start.
pub(crate) fn open_header(path: &Path) -> Result<(Header, BufReader<File>), ArtifactError> {
    let file = File::open(path).map_err(super::io_err(path))?;
    let mut file = BufReader::with_capacity(1 << 20, file);
    let mut h = [0u8; HEADER_LEN];
    file.read_exact(&mut h).map_err(|e| match e.kind() {
        io::ErrorKind::UnexpectedEof => ArtifactError::Corrupt {
            path: path.to_owned(),
            what: "shorter than a header".into(),
        },
        _ => super::io_err(path)(e),
    })?;
    Ok((Header::decode(path, &h)?, file))
}
