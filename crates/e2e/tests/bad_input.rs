//! Bad rows are rejects with reasons; bad files stop with their path and the reason.

use std::io::Write;
use std::path::Path;

use pricer_core::manifest::Manifest;
use pricer_e2e::{fixture, run, run_ok};

fn rows() -> Vec<u8> {
    std::fs::read(fixture("data/amazon-2023/meta_Appliances.jsonl")).unwrap()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn ingest_fails(path: &Path, needles: &[&str]) {
    let out_dir = path.parent().unwrap().join("out");
    let out = run("pricer-ingest", &[&path, &"--out", &out_dir]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "ingest of {} should fail",
        path.display()
    );
    assert!(
        stderr.contains(&path.display().to_string()),
        "error names the file: {stderr}"
    );
    for n in needles {
        assert!(stderr.contains(n), "error says {n:?}: {stderr}");
    }
    assert!(!stderr.contains("panicked"), "no panic: {stderr}");
    assert!(
        !out_dir.join("candidates.art").exists(),
        "no artifact from a failed run"
    );
}

#[test]
fn truncated_gzip_stops_with_path_and_reason() {
    let dir = tempfile::tempdir().unwrap();
    let gz = gzip(&rows());
    let path = dir.path().join("meta_Appliances.jsonl.gz");
    std::fs::write(&path, &gz[..gz.len() / 2]).unwrap();
    ingest_fails(&path, &["truncated or corrupt"]);
}

#[test]
fn truncated_zstd_stops_with_path_and_reason() {
    let dir = tempfile::tempdir().unwrap();
    let zst = zstd::encode_all(&rows()[..], 3).unwrap();
    let path = dir.path().join("meta_Appliances.jsonl.zst");
    std::fs::write(&path, &zst[..zst.len() / 2]).unwrap();
    ingest_fails(&path, &["truncated or corrupt"]);
}

#[test]
fn name_that_lies_about_compression_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("meta_Appliances.jsonl.gz");
    std::fs::write(&path, rows()).unwrap();
    ingest_fails(&path, &["gzip", "not compressed"]);
}

#[test]
fn compressed_inputs_give_the_same_candidates_as_plain() {
    let dir = tempfile::tempdir().unwrap();
    let data = rows();
    let plain = dir.path().join("plain/meta_Appliances.jsonl");
    let gz = dir.path().join("gz/meta_Appliances.jsonl.gz");
    let zst = dir.path().join("zst/meta_Appliances.jsonl.zst");
    for p in [&plain, &gz, &zst] {
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    }
    std::fs::write(&plain, &data).unwrap();
    std::fs::write(&gz, gzip(&data)).unwrap();
    std::fs::write(&zst, zstd::encode_all(&data[..], 3).unwrap()).unwrap();
    let mut digests = Vec::new();
    for p in [&plain, &gz, &zst] {
        let out = p.parent().unwrap().join("out");
        run_ok("pricer-ingest", &[p, &"--out", &out]);
        digests.push(
            Manifest::read(&out).unwrap().outputs["candidates.art"]
                .digest
                .clone(),
        );
    }
    assert_eq!(digests[0], digests[1]);
    assert_eq!(digests[0], digests[2]);
}

#[test]
fn malformed_rows_are_rejects_and_every_row_is_accounted_for() {
    let dir = tempfile::tempdir().unwrap();
    let mut data = rows();
    data.extend_from_slice(
        b"not json\n\n[1, 2]\n{\"title\": \"x\", \"price\": \"\xff\"}\n{\"title\": null}\r\n\"str\"\rnull\n",
    );
    data.extend_from_slice(b"{\"title\": \"t\", \"price\": 5, \"description\": [\"");
    data.extend_from_slice(&vec![b'a'; 50 << 20]);
    data.extend_from_slice(b"\"]}\n{\"price\": 1e999}\n{\"price\": 12, \"description\": 7}\n");
    let path = dir.path().join("meta_Appliances.jsonl");
    std::fs::write(&path, &data).unwrap();
    let baseline = dir.path().join("baseline");
    run_ok(
        "pricer-ingest",
        &[
            &fixture("data/amazon-2023/meta_Appliances.jsonl"),
            &"--out",
            &baseline,
        ],
    );
    let fixture_kept = Manifest::read(&baseline).unwrap().counts.kept;
    let out = dir.path().join("out");
    run_ok("pricer-ingest", &[&path, &"--out", &out]);
    let m = Manifest::read(&out).unwrap();
    assert!(m.counts.balanced());
    assert_eq!(
        m.counts.rows_in,
        8 + 10,
        "8 fixture rows and 10 added lines"
    );
    let by = &m.counts.rejected_by_reason;
    assert_eq!(by["invalid_json"], 2, "{by:?}");
    assert_eq!(by["not_object"], 3, "{by:?}");
    assert_eq!(by["invalid_utf8"], 1, "{by:?}");
    assert_eq!(by["bad_field_type"], 1, "{by:?}");
    assert_eq!(by["price_missing"], 1, "{by:?}");
    assert_eq!(
        by["price_out_of_range"]
            - Manifest::read(&baseline)
                .unwrap()
                .counts
                .rejected_by_reason
                .get("price_out_of_range")
                .copied()
                .unwrap_or(0),
        1
    );
    let rejects = std::fs::read_to_string(out.join("rejects.jsonl")).unwrap();
    assert_eq!(rejects.lines().count() as u64, m.counts.rejected);
    assert!(
        rejects.contains("\"line\":9,\"reason\":\"invalid_json\""),
        "{rejects}"
    );
    // The 50 MB row is kept: a real row, just long.
    assert_eq!(m.counts.kept, fixture_kept + 1);
}

#[test]
fn empty_file_gives_empty_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("meta_Empty.jsonl.gz");
    std::fs::write(&path, b"").unwrap();
    let out = dir.path().join("out");
    run_ok("pricer-ingest", &[&path, &"--out", &out]);
    let m = Manifest::read(&out).unwrap();
    assert_eq!((m.counts.rows_in, m.counts.kept), (0, 0));
}

#[test]
fn missing_tokenizer_names_the_setting() {
    let dir = tempfile::tempdir().unwrap();
    let ingest = dir.path().join("ingest");
    run_ok("pricer-ingest", &[&fixture("data/edge"), &"--out", &ingest]);
    let missing = dir.path().join("nope/tokenizer.json");
    let out = run(
        "pricer-prompt",
        &[
            &ingest,
            &"--tokenizer",
            &missing,
            &"--out",
            &dir.path().join("p"),
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("nope/tokenizer.json") && stderr.contains("--tokenizer"),
        "{stderr}"
    );
    let corrupt = dir.path().join("tokenizer.json");
    std::fs::write(&corrupt, b"{\"not\": \"a tokenizer\"}").unwrap();
    let out = run(
        "pricer-prompt",
        &[
            &ingest,
            &"--tokenizer",
            &corrupt,
            &"--out",
            &dir.path().join("p"),
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("not a valid Hugging Face tokenizer.json"),
        "{stderr}"
    );
    let offline = pricer_e2e::bin("pricer-prompt");
    let out = std::process::Command::new(offline)
        .args([
            ingest.as_os_str(),
            "--tokenizer-hub".as_ref(),
            "meta-llama/Meta-Llama-3.1-8B".as_ref(),
            "--out".as_ref(),
            dir.path().join("p").as_os_str(),
        ])
        .env("HF_HOME", dir.path().join("hf"))
        .env("HF_HUB_OFFLINE", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("HF_HUB_OFFLINE") && stderr.contains("--tokenizer PATH"),
        "{stderr}"
    );
}
