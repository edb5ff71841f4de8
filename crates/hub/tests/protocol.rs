//! The Hub client against a local server that answers as the Hub's file endpoint does.

use std::path::Path;

use pricer_e2e::fake_hub::{sha256_hex, FakeHub, Fault, COMMIT};
use pricer_hub::{Hub, HubEnv, HubError, RepoFile, RepoKind};

const REPO: &str = "McAuley-Lab/Amazon-Reviews-2023";
const PATH: &str = "raw/meta_categories/meta_Appliances.jsonl";

fn content(n: usize) -> Vec<u8> {
    (0..n)
        .flat_map(|i| format!("{{\"row\": {i}, \"title\": \"item {i}\"}}\n").into_bytes())
        .collect()
}

fn hub(endpoint: &str, cache: &Path, offline: bool) -> Hub {
    let (endpoint, cache) = (endpoint.to_owned(), cache.to_str().unwrap().to_owned());
    let mut hub = Hub::new(HubEnv::from_vars(move |k| match k {
        "HF_ENDPOINT" => Some(endpoint.clone()),
        "HF_HUB_CACHE" => Some(cache.clone()),
        "HF_HUB_OFFLINE" if offline => Some("1".into()),
        _ => None,
    }));
    hub.progress = false;
    hub
}

fn file(rev: &str) -> RepoFile {
    RepoFile::new(RepoKind::Dataset, REPO, rev, PATH)
}

fn gets(server: &FakeHub) -> Vec<String> {
    server
        .requests()
        .into_iter()
        .filter(|r| r.starts_with("GET"))
        .collect()
}

#[test]
fn downloads_into_the_standard_layout_then_serves_from_the_cache() {
    let server = FakeHub::start();
    let bytes = content(5000);
    server.add_dataset_file(REPO, PATH, bytes.clone(), true);
    let cache = tempfile::tempdir().unwrap();
    let hub = hub(&server.url(), cache.path(), false);

    let got = hub.get(&file("main")).unwrap();
    let folder = cache
        .path()
        .join("datasets--McAuley-Lab--Amazon-Reviews-2023");
    assert_eq!(got, folder.join("snapshots").join(COMMIT).join(PATH));
    assert_eq!(std::fs::read(&got).unwrap(), bytes);
    let blob = folder.join("blobs").join(sha256_hex(&bytes));
    assert_eq!(
        std::fs::canonicalize(&got).unwrap(),
        std::fs::canonicalize(&blob).unwrap()
    );
    assert_eq!(
        std::fs::read_to_string(folder.join("refs/main")).unwrap(),
        COMMIT
    );
    assert_eq!(gets(&server).len(), 1);

    // Cached: a branch costs one metadata request, a commit id none.
    server.clear_requests();
    assert_eq!(hub.get(&file("main")).unwrap(), got);
    assert_eq!(server.requests().len(), 1, "{:?}", server.requests());
    assert!(server.requests()[0].starts_with("HEAD "));
    server.clear_requests();
    assert_eq!(hub.get(&file(COMMIT)).unwrap(), got);
    assert!(server.requests().is_empty(), "{:?}", server.requests());

    // Offline: the cache alone, no request.
    let offline = self::hub(&server.url(), cache.path(), true);
    assert_eq!(offline.get(&file("main")).unwrap(), got);
    assert!(server.requests().is_empty());
}

#[test]
fn git_files_are_checked_against_their_blob_id() {
    let server = FakeHub::start();
    server.add_model_file(
        "org/model",
        "tokenizer.json",
        b"{\"v\": 1}\n".to_vec(),
        false,
    );
    let cache = tempfile::tempdir().unwrap();
    let hub = hub(&server.url(), cache.path(), false);
    let f = RepoFile::new(RepoKind::Model, "org/model", "main", "tokenizer.json");
    let got = hub.get(&f).unwrap();
    assert!(got.starts_with(cache.path().join("models--org--model/snapshots")));
    assert_eq!(std::fs::read(got).unwrap(), b"{\"v\": 1}\n");
}

#[test]
fn missing_files_repos_and_revisions_are_clear_errors() {
    let server = FakeHub::start();
    server.add_dataset_file(REPO, PATH, content(10), true);
    let cache = tempfile::tempdir().unwrap();
    let hub = hub(&server.url(), cache.path(), false);

    let e = hub
        .get(&RepoFile::new(
            RepoKind::Dataset,
            REPO,
            "main",
            "raw/meta_categories/meta_Nope.jsonl",
        ))
        .unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, HubError::NotFound { status: 404, .. }), "{msg}");
    assert!(
        msg.contains(REPO) && msg.contains("meta_Nope.jsonl") && msg.contains("file not found"),
        "{msg}"
    );

    let e = hub
        .get(&RepoFile::new(
            RepoKind::Dataset,
            "someone/else",
            "main",
            PATH,
        ))
        .unwrap_err();
    assert!(e.to_string().contains("repository not found"), "{e}");
    let e = hub.get(&file("v9")).unwrap_err();
    assert!(e.to_string().contains("revision not found"), "{e}");

    let offline = self::hub(&server.url(), cache.path(), true);
    server.clear_requests();
    let e = offline.get(&file("main")).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, HubError::NotCached { .. }), "{msg}");
    assert!(
        msg.contains(REPO) && msg.contains(PATH) && msg.contains("HF_HUB_OFFLINE"),
        "{msg}"
    );
    assert!(server.requests().is_empty());
}

#[test]
fn a_dropped_connection_resumes_with_range() {
    let server = FakeHub::start();
    let bytes = content(20_000);
    server.add_dataset_file(REPO, PATH, bytes.clone(), true);
    server.set_fault(Fault::CutAfter(100_000, 2));
    let cache = tempfile::tempdir().unwrap();
    let got = hub(&server.url(), cache.path(), false)
        .get(&file("main"))
        .unwrap();
    assert_eq!(std::fs::read(got).unwrap(), bytes);
    let gets = gets(&server);
    assert_eq!(gets.len(), 3, "{gets:?}");
    assert!(
        gets[1].ends_with("Range: bytes=100000-") || gets[1].ends_with("bytes=100000-"),
        "{gets:?}"
    );
    assert!(gets[2].ends_with("bytes=200000-"), "{gets:?}");
}

#[test]
fn a_leftover_partial_download_is_resumed_and_verified() {
    let server = FakeHub::start();
    let bytes = content(20_000);
    let sha = sha256_hex(&bytes);
    server.add_dataset_file(REPO, PATH, bytes.clone(), true);
    let cache = tempfile::tempdir().unwrap();
    let blobs = cache
        .path()
        .join("datasets--McAuley-Lab--Amazon-Reviews-2023/blobs");
    std::fs::create_dir_all(&blobs).unwrap();
    std::fs::write(blobs.join(format!("{sha}.incomplete")), &bytes[..123_456]).unwrap();

    let got = hub(&server.url(), cache.path(), false)
        .get(&file("main"))
        .unwrap();
    assert_eq!(std::fs::read(got).unwrap(), bytes);
    assert_eq!(gets(&server), vec![format!("GET /cdn/{sha} bytes=123456-")]);
    assert!(!blobs.join(format!("{sha}.incomplete")).exists());
}

#[test]
fn a_partial_download_with_wrong_bytes_starts_again() {
    let server = FakeHub::start();
    let bytes = content(5_000);
    let sha = sha256_hex(&bytes);
    server.add_dataset_file(REPO, PATH, bytes.clone(), true);
    let cache = tempfile::tempdir().unwrap();
    let blobs = cache
        .path()
        .join("datasets--McAuley-Lab--Amazon-Reviews-2023/blobs");
    std::fs::create_dir_all(&blobs).unwrap();
    std::fs::write(blobs.join(format!("{sha}.incomplete")), vec![b'x'; 1000]).unwrap();

    let got = hub(&server.url(), cache.path(), false)
        .get(&file("main"))
        .unwrap();
    assert_eq!(std::fs::read(got).unwrap(), bytes);
    let gets = gets(&server);
    assert_eq!(gets.len(), 2, "{gets:?}");
    assert!(
        gets[0].ends_with("bytes=1000-") && gets[1] == format!("GET /cdn/{sha}"),
        "{gets:?}"
    );
}

#[test]
fn corrupt_bytes_are_refused_and_never_cached() {
    let server = FakeHub::start();
    let bytes = content(3_000);
    let sha = sha256_hex(&bytes);
    server.add_dataset_file(REPO, PATH, bytes.clone(), true);
    server.set_fault(Fault::Corrupt);
    let cache = tempfile::tempdir().unwrap();
    let hub = hub(&server.url(), cache.path(), false);
    let e = hub.get(&file("main")).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, HubError::Corrupt { .. }), "{msg}");
    assert!(
        msg.contains(REPO) && msg.contains(PATH) && msg.contains("sha256"),
        "{msg}"
    );
    let blobs = cache
        .path()
        .join("datasets--McAuley-Lab--Amazon-Reviews-2023/blobs");
    assert!(!blobs.join(&sha).exists());
    assert!(!blobs.join(format!("{sha}.incomplete")).exists());
    assert!(!cache
        .path()
        .join("datasets--McAuley-Lab--Amazon-Reviews-2023/snapshots")
        .join(COMMIT)
        .join(PATH)
        .exists());

    server.set_fault(Fault::None);
    assert_eq!(
        std::fs::read(hub.get(&file("main")).unwrap()).unwrap(),
        bytes
    );
}

#[test]
fn bytes_beyond_the_announced_size_are_never_written() {
    let server = FakeHub::start();
    let bytes = content(3_000);
    let sha = sha256_hex(&bytes);
    server.add_dataset_file(REPO, PATH, bytes.clone(), true);
    server.set_fault(Fault::Trailing(8 << 20));
    let cache = tempfile::tempdir().unwrap();
    let got = hub(&server.url(), cache.path(), false)
        .get(&file("main"))
        .unwrap();
    assert_eq!(std::fs::read(got).unwrap(), bytes);
    let blobs = cache
        .path()
        .join("datasets--McAuley-Lab--Amazon-Reviews-2023/blobs");
    assert_eq!(
        std::fs::metadata(blobs.join(&sha)).unwrap().len(),
        bytes.len() as u64
    );
}

#[test]
fn an_unreachable_hub_falls_back_to_the_cache() {
    let server = FakeHub::start();
    let bytes = content(100);
    server.add_dataset_file(REPO, PATH, bytes.clone(), true);
    let cache = tempfile::tempdir().unwrap();
    let got = hub(&server.url(), cache.path(), false)
        .get(&file("main"))
        .unwrap();

    // A port nothing listens on.
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    assert_eq!(
        hub(&dead, cache.path(), false).get(&file("main")).unwrap(),
        got
    );
    let e = hub(&dead, tempfile::tempdir().unwrap().path(), false)
        .get(&file("main"))
        .unwrap_err();
    assert!(matches!(e, HubError::Unreachable { .. }), "{e}");
    assert!(e.to_string().contains(PATH), "{e}");
}
