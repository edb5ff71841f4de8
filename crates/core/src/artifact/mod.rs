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
//! Writers ([`writer`]) go through an [`AtomicFile`](crate::atomic::AtomicFile): nothing
//! appears under the artifact's name until it is complete. Readers ([`reader`]) stream
//! records and check count and digest at the end; [`verify`] checks a file without
//! decoding it.

mod header;
pub mod reader;
pub mod writer;

use std::io;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::Serialize;

pub use reader::{header_info, record_type, verify, ArtifactReader, Frame};
pub use writer::{ArtifactWriter, Encoded};

pub const MAGIC: &[u8; 8] = b"PRICERAF";
pub const FORMAT_VERSION: u32 = 1;
pub const HEADER_LEN: usize = 96;
const FLAG_ZSTD: u32 = 1;
/// zstd level for artifact bodies. Artifacts are intermediate: level 1 writes about
/// twice as fast as 3 for a few percent more bytes (still ~4x smaller than raw prompts).
pub const ZSTD_LEVEL: i32 = 1;
/// Largest encoded record, for writers and readers alike: a reader refuses a longer
/// frame as a damaged length field, so a writer refuses to write one, and stages that
/// take rows from outside (ingest) reject rows that would exceed it.
pub const MAX_RECORD_BYTES: u32 = 256 << 20;

/// A record type stored in artifacts.
pub trait Record: Serialize + DeserializeOwned {
    /// Stored in the header; a reader refuses a file of another type.
    const RECORD_TYPE: &'static str;
}

#[derive(Debug, thiserror::Error)]
pub enum ArtifactError {
    #[error("{path}: {error}")]
    Io { path: PathBuf, error: io::Error },
    #[error(transparent)]
    File(#[from] crate::atomic::FileError),
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
    #[error(transparent)]
    Cancelled(#[from] crate::cancel::Cancelled),
    #[error("{path}: content digest mismatch (the file was modified or damaged); delete it and re-run the stage that wrote it")]
    DigestMismatch { path: PathBuf },
    #[error("{path}: record {index}: cannot encode: {error}")]
    Encode {
        path: PathBuf,
        index: u64,
        error: postcard::Error,
    },
    #[error("{path}: record {index} takes {bytes} bytes, more than the {MAX_RECORD_BYTES} an artifact record may hold")]
    TooLarge {
        path: PathBuf,
        index: u64,
        bytes: u64,
    },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> ArtifactError + '_ {
    move |error| ArtifactError::Io {
        path: path.to_owned(),
        error,
    }
}

/// What a finished artifact (or another output file) holds.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ArtifactInfo {
    pub record_type: String,
    pub count: u64,
    /// Hex BLAKE3 of the body (of the whole file for other outputs); also the output's
    /// identity in fingerprints.
    pub digest: String,
    pub bytes: u64,
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;
    use crate::records::Item;

    fn item(i: u32) -> Item {
        Item {
            category: "Automotive".into(),
            title: format!("title {i}"),
            price: f64::from(i) + 0.99,
            prompt: format!("prompt {i} ").repeat(20),
            token_count: 170 + i,
            details: None,
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
    fn encoded_records_write_the_same_bytes_and_the_limit_holds() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        write(&a, 100);
        let mut w = ArtifactWriter::<Item>::create(&b).unwrap();
        for i in 0..100 {
            w.write_encoded(&Encoded::new(&item(i)).unwrap()).unwrap();
        }
        w.finish().unwrap();
        assert_eq!(fs::read(&a).unwrap(), fs::read(&b).unwrap());
        // A record over the limit is refused by the writer (its reader would refuse it),
        // and the artifact stays usable.
        let mut big = item(0);
        big.prompt = "x".repeat(MAX_RECORD_BYTES as usize + 1);
        let e = Encoded::new(&big).unwrap();
        assert!(!e.fits());
        let mut w = ArtifactWriter::<Item>::create(&b).unwrap();
        assert!(matches!(
            w.write_encoded(&e),
            Err(ArtifactError::TooLarge { .. })
        ));
        assert!(matches!(w.write(&big), Err(ArtifactError::TooLarge { .. })));
        w.write(&item(1)).unwrap();
        assert_eq!(w.finish().unwrap().count, 1);
    }

    /// The compressing thread gets batches, not records: the body must be the zstd
    /// stream of the frames as a plain encoder fed one record at a time writes it, over
    /// enough records to cross many batches and zstd's window.
    #[test]
    fn body_is_the_plain_zstd_stream_of_the_frames() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("items.art");
        let n = 20_000;
        let mut w = ArtifactWriter::<Item>::create(&path).unwrap();
        let mut plain = zstd::Encoder::new(Vec::new(), ZSTD_LEVEL).unwrap();
        let mut raw = 0;
        for i in 0..n {
            let mut it = item(i);
            let words = u64::from(i) * 7919 % 300;
            it.prompt = (0..words)
                .map(|k| {
                    format!(
                        "{:x}",
                        ((u64::from(i) * 2_654_435_761) ^ (k * 40_503)) % 1_000_003
                    )
                })
                .collect::<Vec<_>>()
                .join(" ");
            let frame = postcard::to_allocvec(&it).unwrap();
            raw += frame.len() + 4;
            plain
                .write_all(&(frame.len() as u32).to_le_bytes())
                .unwrap();
            plain.write_all(&frame).unwrap();
            if i % 3 == 0 {
                w.write_encoded(&Encoded::new(&it).unwrap()).unwrap();
            } else {
                w.write(&it).unwrap();
            }
        }
        let info = w.finish().unwrap();
        let plain = plain.finish().unwrap();
        let file = fs::read(&path).unwrap();
        assert!(raw > 8 << 20, "spans zstd's window many times: {raw}");
        assert_eq!(&file[HEADER_LEN..], &plain[..]);
        assert_eq!(info.digest, blake3::hash(&plain).to_hex().to_string());
        assert_eq!(info.count, u64::from(n));
    }

    /// A record that cannot be encoded is refused and loses nothing written before it.
    #[test]
    fn a_record_that_fails_to_encode_loses_nothing() {
        #[derive(Debug, PartialEq, serde::Deserialize)]
        struct Flaky(u32);
        impl serde::Serialize for Flaky {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                if self.0 == 13 {
                    return Err(serde::ser::Error::custom("unlucky"));
                }
                s.serialize_u32(self.0)
            }
        }
        impl Record for Flaky {
            const RECORD_TYPE: &'static str = "flaky";
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("flaky.art");
        let mut w = ArtifactWriter::<Flaky>::create(&path).unwrap();
        for i in 0..20 {
            let r = w.write(&Flaky(i));
            assert_eq!(r.is_err(), i == 13, "record {i}: {r:?}");
        }
        assert_eq!(w.finish().unwrap().count, 19);
        let back: Vec<Flaky> = ArtifactReader::<Flaky>::open(&path)
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(
            back,
            (0..20).filter(|&i| i != 13).map(Flaky).collect::<Vec<_>>()
        );
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
