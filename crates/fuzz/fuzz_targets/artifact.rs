//! Reading artifacts: arbitrary (often nearly valid) files never panic; a file either
//! yields its records or a clear error.
#![no_main]

use std::io::Write;

use libfuzzer_sys::fuzz_target;
use pricer_core::artifact::{verify, ArtifactReader};
use pricer_core::{Candidate, Item};

fuzz_target!(|data: &[u8]| {
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    file.write_all(data).expect("write");
    let path = file.path();
    let _ = verify(path);
    if let Ok(reader) = ArtifactReader::<Item>::open(path) {
        for record in reader.take(10_000) {
            if record.is_err() {
                break;
            }
        }
    }
    if let Ok(reader) = ArtifactReader::<Candidate>::open(path) {
        for record in reader.take(10_000) {
            if record.is_err() {
                break;
            }
        }
    }
});
