//! Content digests (BLAKE3, hex) for files and fingerprints.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// Hex BLAKE3 of a file's bytes.
pub fn file_digest(path: &Path) -> io::Result<String> {
    let mut hasher = blake3::Hasher::new();
    let mut f = File::open(path)?;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher.finalize().to_hex().to_string())
}

/// Hex BLAKE3 of bytes.
pub fn bytes_digest(bytes: &[u8]) -> String {
    blake3::hash(bytes).to_hex().to_string()
}
