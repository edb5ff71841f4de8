//! Reading artifacts and manifests: arbitrary (often nearly valid) files never panic or
//! hang; a file either yields its records or a clear error, through every reader a stage
//! uses (records of each kind, undecoded frames, the header alone).
#![no_main]

use std::io::Write;
use std::path::Path;

use libfuzzer_sys::fuzz_target;
use pricer_core::artifact::{header_info, record_type, verify, ArtifactReader};
use pricer_core::manifest::Manifest;
use pricer_core::{Candidate, Item, PromptPair, RawItem, Record, SummarizedItem};

/// Enough records to reach the end of any input libFuzzer makes (records are >= 4 bytes).
const MANY: usize = 10_000;

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("manifest.json");
    std::fs::File::create(&path)
        .and_then(|mut f| f.write_all(data))
        .expect("write");
    let _ = verify(&path);
    let _ = header_info(&path);
    let _ = record_type(&path);
    let _ = Manifest::read(dir.path());
    read_all::<Candidate>(&path);
    read_all::<Item>(&path);
    read_all::<RawItem>(&path);
    read_all::<SummarizedItem>(&path);
    read_all::<PromptPair>(&path);
    if let Ok(mut reader) = ArtifactReader::<Item>::open(&path) {
        for _ in 0..MANY {
            match reader.next_frame() {
                Ok(Some(frame)) => {
                    let _ = frame.decode();
                }
                _ => break,
            }
        }
    }
});

fn read_all<T: Record>(path: &Path) {
    if let Ok(reader) = ArtifactReader::<T>::open(path) {
        for record in reader.take(MANY) {
            if record.is_err() {
                break;
            }
        }
    }
}
