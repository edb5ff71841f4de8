//! Faults: unreadable files, damaged artifacts, and running out of space mid-write.

use std::path::Path;
use std::process::Command;

use pricer_core::artifact::verify;
use pricer_e2e::{bin, fixture, run, run_ok};

fn tmp_files(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp-"))
        .collect()
}

#[test]
fn unreadable_input_stops_with_its_path() {
    let dir = tempfile::tempdir().unwrap();
    // A socket cannot be opened for reading, even by root (chmod 000 can).
    let path = dir.path().join("meta_Sockets.jsonl");
    let _listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
    let out = run("pricer-ingest", &[&path, &"--out", &dir.path().join("out")]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("meta_Sockets.jsonl"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn a_flipped_byte_in_an_artifact_is_refused_by_the_next_stage() {
    let dir = tempfile::tempdir().unwrap();
    let ingest = dir.path().join("ingest");
    run_ok("pricer-ingest", &[&fixture("data/edge"), &"--out", &ingest]);
    let art = ingest.join("candidates.art");
    let mut bytes = std::fs::read(&art).unwrap();
    let n = bytes.len();
    bytes[n - 10] ^= 0x01;
    std::fs::write(&art, bytes).unwrap();
    let out = run(
        "pricer-prompt",
        &[&ingest, &"--out", &dir.path().join("prompt")],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("candidates.art"), "names the artifact: {err}");
    assert!(
        err.contains("digest mismatch") || err.contains("corrupt"),
        "{err}"
    );
    assert!(
        err.contains("re-run the stage that wrote it"),
        "says what to do: {err}"
    );
    assert!(!dir.path().join("prompt/items.art").exists());
}

#[test]
fn running_out_of_space_fails_cleanly_and_keeps_the_previous_artifact() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("ingest");
    run_ok(
        "pricer-ingest",
        &[&fixture("data/amazon-2023"), &"--out", &out_dir],
    );
    let before = verify(&out_dir.join("candidates.art")).unwrap();
    // A write limit of 64 KiB per file (the artifact needs ~600 KiB): writes fail with
    // EFBIG, as on a full disk. SIGXFSZ is ignored so the process sees the error.
    let script = format!(
        "trap '' XFSZ; ulimit -f 64; exec '{}' '{}' --out '{}'",
        bin("pricer-ingest").display(),
        fixture("data/amazon-2023").display(),
        out_dir.display()
    );
    let out = Command::new("sh").arg("-c").arg(&script).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "the run must fail");
    assert!(
        err.contains("File too large") && err.contains(".tmp-"),
        "says what and where: {err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    let after = verify(&out_dir.join("candidates.art")).expect("the previous artifact is intact");
    assert_eq!(before, after);
    assert!(
        tmp_files(&out_dir).is_empty(),
        "no temporary files left: {:?}",
        tmp_files(&out_dir)
    );
}
