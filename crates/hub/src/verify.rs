//! What a Hub ETag promises about a file's bytes: an LFS file's ETag is the sha256 of its
//! content; a file kept in git has its git blob id (sha1 of `blob <len>\0` + content).

use sha1::Sha1;
use sha2::{Digest, Sha256};

/// A running check of downloaded bytes against an ETag.
pub enum Check {
    Sha256(Sha256),
    GitBlob(Sha1),
    /// An ETag in neither form (or a git blob of unknown size): only the size is checked.
    SizeOnly,
}

impl Check {
    /// The check an ETag calls for; `size` is the whole file's length when known.
    pub fn for_etag(etag: &str, size: Option<u64>) -> Check {
        let hex = etag.bytes().all(|b| b.is_ascii_hexdigit());
        match (etag.len(), size) {
            (64, _) if hex => Check::Sha256(Sha256::new()),
            (40, Some(n)) if hex => {
                let mut h = Sha1::new();
                h.update(format!("blob {n}\0").as_bytes());
                Check::GitBlob(h)
            }
            _ => Check::SizeOnly,
        }
    }

    pub fn update(&mut self, bytes: &[u8]) {
        match self {
            Check::Sha256(h) => h.update(bytes),
            Check::GitBlob(h) => h.update(bytes),
            Check::SizeOnly => {}
        }
    }

    /// `Err((what, got))` when the bytes are not the ones the ETag names.
    pub fn finish(self, etag: &str) -> Result<(), (&'static str, String)> {
        let (what, got) = match self {
            Check::Sha256(h) => ("sha256", hex(&h.finalize())),
            Check::GitBlob(h) => ("git blob sha1", hex(&h.finalize())),
            Check::SizeOnly => return Ok(()),
        };
        if got.eq_ignore_ascii_case(etag) {
            Ok(())
        } else {
            Err((what, got))
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_etags() {
        // sha256("hello\n")
        let etag = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03";
        let mut c = Check::for_etag(etag, Some(6));
        c.update(b"hel");
        c.update(b"lo\n");
        assert!(c.finish(etag).is_ok());
        let mut c = Check::for_etag(etag, Some(6));
        c.update(b"hello!");
        assert_eq!(c.finish(etag).unwrap_err().0, "sha256");
    }

    #[test]
    fn git_blob_etags() {
        // `printf 'hello\n' | git hash-object --stdin`
        let etag = "ce013625030ba8dba906f756967f9e9ca394464a";
        let mut c = Check::for_etag(etag, Some(6));
        c.update(b"hello\n");
        assert!(c.finish(etag).is_ok());
        let mut c = Check::for_etag(etag, Some(6));
        c.update(b"jello\n");
        assert!(c.finish(etag).is_err());
        assert!(matches!(Check::for_etag(etag, None), Check::SizeOnly));
        assert!(matches!(
            Check::for_etag("abc-123", Some(1)),
            Check::SizeOnly
        ));
    }
}
