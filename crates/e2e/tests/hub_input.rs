//! Raw metadata straight from the Hub (`[input] hub`), against a local server that
//! answers as the Hub's file endpoint does: the same items as the same files read
//! locally, a killed download resumed and verified, a cache shared both ways with the
//! Python `huggingface_hub` client, and clear errors for what is missing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use pricer_e2e::fake_hub::{sha256_hex, FakeHub, Fault, COMMIT};
use pricer_e2e::{bin, dump_items, fixture, root};

const REPO: &str = "McAuley-Lab/Amazon-Reviews-2023";
const CATEGORIES: [&str; 8] = pricer_core::recipe::CLASSIC_CATEGORIES;

fn hub_path(category: &str) -> String {
    format!("raw/meta_categories/meta_{category}.jsonl")
}

/// A fake Hub holding the eight fixture files where the real dataset keeps them.
fn fake_hub() -> FakeHub {
    let hub = FakeHub::start();
    for c in CATEGORIES {
        let bytes = std::fs::read(fixture(&format!("data/amazon-2023/meta_{c}.jsonl"))).unwrap();
        hub.add_dataset_file(REPO, &hub_path(c), bytes, true);
    }
    hub
}

fn categories_toml() -> String {
    let quoted: Vec<String> = CATEGORIES.iter().map(|c| format!("\"{c}\"")).collect();
    format!("categories = [{}]", quoted.join(", "))
}

/// A fixture-sized run reading the categories from `input` (a TOML `[input]` body).
fn config(dir: &Path, name: &str, input: &str) -> PathBuf {
    let tokenizer = fixture("tokenizers/llama-3.1/tokenizer.json");
    let text = format!(
        "[input]\n{input}\n{}\n\n[tokenizer]\npath = {:?}\n\n[split]\ntrain = 700\ntest = 100\n",
        categories_toml(),
        tokenizer.display().to_string()
    );
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text).unwrap();
    path
}

fn hub_env(cmd: &mut Command, server: &FakeHub, cache: &Path, offline: bool) {
    cmd.env("HF_ENDPOINT", server.url())
        .env("HF_HUB_CACHE", cache)
        .env_remove("HF_HOME")
        .env_remove("HF_TOKEN")
        .env_remove("RUST_LOG");
    if offline {
        cmd.env("HF_HUB_OFFLINE", "1");
    } else {
        cmd.env_remove("HF_HUB_OFFLINE");
    }
}

fn pipeline(config: &Path, out: &Path, hub: Option<(&FakeHub, &Path, bool)>) -> Output {
    let mut cmd = Command::new(bin("xtask"));
    cmd.current_dir(root())
        .arg("pipeline")
        .arg("--config")
        .arg(config)
        .arg("--out")
        .arg(out);
    if let Some((server, cache, offline)) = hub {
        hub_env(&mut cmd, server, cache, offline);
    }
    cmd.output().unwrap()
}

fn ok(out: Output) -> Output {
    assert!(
        out.status.success(),
        "failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn items(run: &Path) -> (String, String) {
    (
        dump_items(&run.join("split/train.art")),
        dump_items(&run.join("split/test.art")),
    )
}

fn python() -> String {
    std::env::var("PRICER_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// The Python client's `hf_hub_download` of the categories' files on `cache`.
fn python_download(server: &FakeHub, cache: &Path, offline: bool) -> BTreeMap<String, String> {
    let mut cmd = Command::new(python());
    cmd.arg(root().join("crates/e2e/tests/py/hub_cache.py"))
        .arg(REPO)
        .args(CATEGORIES.iter().map(|c| hub_path(c)));
    hub_env(&mut cmd, server, cache, offline);
    let out = cmd.env("HF_HUB_DISABLE_TELEMETRY", "1").output().unwrap();
    assert!(
        out.status.success(),
        "huggingface_hub failed (this test needs a Python with huggingface_hub: set PRICER_PYTHON; cargo xtask ci makes target/py-venv):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn hub_input_gives_the_items_of_the_same_files_read_locally() {
    let dir = tempfile::tempdir().unwrap();
    let server = fake_hub();
    let cache = dir.path().join("hf-cache");
    let local = config(
        dir.path(),
        "local",
        &format!(
            "data_dir = {:?}",
            fixture("data/amazon-2023").display().to_string()
        ),
    );
    let hub = config(dir.path(), "hub", &format!("hub = {REPO:?}"));
    ok(pipeline(&local, &dir.path().join("local"), None));
    ok(pipeline(
        &hub,
        &dir.path().join("hub"),
        Some((&server, &cache, false)),
    ));
    let want = items(&dir.path().join("local"));
    assert!(!want.0.is_empty());
    assert_eq!(items(&dir.path().join("hub")), want);

    // The manifest digests the files read: the same as the local files'.
    let manifest = |run: &str| -> serde_json::Value {
        let p = dir.path().join(run).join("ingest/manifest.json");
        serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
    };
    let digests = |m: &serde_json::Value| -> Vec<String> {
        m["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["digest"].as_str().unwrap().to_owned())
            .collect()
    };
    let (hub_m, local_m) = (manifest("hub"), manifest("local"));
    assert_eq!(digests(&hub_m), digests(&local_m));
    let first = hub_m["inputs"][0]["path"].as_str().unwrap();
    assert!(
        first.contains(&format!("snapshots/{COMMIT}/raw/meta_categories/")),
        "{first}"
    );

    // Run again: cached, so one metadata request per file and no download; the stages
    // are skipped as for local files.
    server.clear_requests();
    let again = ok(pipeline(
        &hub,
        &dir.path().join("hub"),
        Some((&server, &cache, false)),
    ));
    let reqs = server.requests();
    assert_eq!(reqs.len(), 8, "{reqs:?}");
    assert!(reqs.iter().all(|r| r.starts_with("HEAD ")), "{reqs:?}");
    let says = String::from_utf8_lossy(&again.stdout).to_string()
        + &String::from_utf8_lossy(&again.stderr);
    assert!(says.contains("skip"), "{says}");

    // The Python client sees pricer's downloads, offline.
    server.clear_requests();
    let paths = python_download(&server, &cache, true);
    assert!(server.requests().is_empty());
    for c in CATEGORIES {
        let p = &paths[&hub_path(c)];
        assert!(p.starts_with(cache.to_str().unwrap()), "{p}");
        assert_eq!(
            std::fs::read(p).unwrap(),
            std::fs::read(fixture(&format!("data/amazon-2023/meta_{c}.jsonl"))).unwrap()
        );
    }
}

/// Recipe v2 reads its input as v1 does (its shipped configs use `hub`): the same items,
/// dedupe, draw and splits as from the same files read locally.
#[test]
fn a_v2_run_from_the_hub_curates_what_the_same_local_files_give() {
    let dir = tempfile::tempdir().unwrap();
    let server = fake_hub();
    let cache = dir.path().join("hf-cache");
    let v2 = |name: &str, input: &str| {
        let text = format!(
            "recipe = \"v2\"\n\n[input]\n{input}\n{}\n\n[curate]\nsample = 600\n\n\
             [split]\ntrain = 500\nvalidation = 50\ntest = 50\n\
             lite_train = 100\nlite_validation = 10\nlite_test = 10\n",
            categories_toml()
        );
        let path = dir.path().join(format!("{name}.toml"));
        std::fs::write(&path, text).unwrap();
        path
    };
    let local = v2(
        "local",
        &format!(
            "data_dir = {:?}",
            fixture("data/amazon-2023").display().to_string()
        ),
    );
    let hub = v2("hub", &format!("hub = {REPO:?}"));
    let (local_run, hub_run) = (dir.path().join("local"), dir.path().join("hub"));
    ok(pipeline(&local, &local_run, None));
    ok(pipeline(&hub, &hub_run, Some((&server, &cache, false))));
    for f in [
        "ingest/items_raw.art",
        "ingest/rejects.jsonl",
        "curate/train.art",
        "curate/validation.art",
        "curate/test.art",
    ] {
        let want = std::fs::read(local_run.join(f)).unwrap();
        assert!(want.len() > 100, "{f}");
        assert!(
            std::fs::read(hub_run.join(f)).unwrap() == want,
            "{f} differs"
        );
    }
}

#[test]
fn an_offline_run_reads_what_the_python_client_downloaded_without_a_request() {
    let dir = tempfile::tempdir().unwrap();
    let server = fake_hub();
    let cache = dir.path().join("hf-cache");
    let paths = python_download(&server, &cache, false);
    assert_eq!(paths.len(), 8);
    server.clear_requests();

    let hub = config(dir.path(), "hub", &format!("hub = {REPO:?}"));
    ok(pipeline(
        &hub,
        &dir.path().join("offline"),
        Some((&server, &cache, true)),
    ));
    assert!(server.requests().is_empty(), "{:?}", server.requests());

    // And a run pinned to the commit makes none even online.
    let pinned = config(
        dir.path(),
        "pinned",
        &format!("hub = {REPO:?}\nrevision = {COMMIT:?}"),
    );
    ok(pipeline(
        &pinned,
        &dir.path().join("pinned"),
        Some((&server, &cache, false)),
    ));
    assert!(server.requests().is_empty(), "{:?}", server.requests());

    let local = config(
        dir.path(),
        "local",
        &format!(
            "data_dir = {:?}",
            fixture("data/amazon-2023").display().to_string()
        ),
    );
    ok(pipeline(&local, &dir.path().join("local"), None));
    let want = items(&dir.path().join("local"));
    assert_eq!(items(&dir.path().join("offline")), want);
    assert_eq!(items(&dir.path().join("pinned")), want);
}

#[test]
fn a_killed_download_resumes_and_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let server = fake_hub();
    let cache = dir.path().join("hf-cache");
    let category = "Automotive";
    let bytes = std::fs::read(fixture(&format!("data/amazon-2023/meta_{category}.jsonl"))).unwrap();
    let sha = sha256_hex(&bytes);
    let half = bytes.len() / 2;
    server.set_fault(Fault::StallAfter(half));

    let ingest = |out: &Path| {
        let mut cmd = Command::new(bin("pricer-ingest"));
        cmd.current_dir(root())
            .args(["--hub", REPO, "--categories", category, "--out"])
            .arg(out)
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        hub_env(&mut cmd, &server, &cache, false);
        cmd
    };
    let mut child = ingest(&dir.path().join("a")).spawn().unwrap();
    let blobs = cache.join("datasets--McAuley-Lab--Amazon-Reviews-2023/blobs");
    let partial = blobs.join(format!("{sha}.incomplete"));
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::fs::metadata(&partial).map_or(0, |m| m.len()) < half as u64 {
        assert!(Instant::now() < deadline, "the download never reached half");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    // Nothing a later run would accept: no blob, no snapshot entry.
    assert!(!blobs.join(&sha).exists());
    let pointer = cache
        .join("datasets--McAuley-Lab--Amazon-Reviews-2023/snapshots")
        .join(COMMIT)
        .join(hub_path(category));
    assert!(!pointer.exists());

    server.set_fault(Fault::None);
    server.clear_requests();
    let out = ingest(&dir.path().join("b")).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let gets: Vec<String> = server
        .requests()
        .into_iter()
        .filter(|r| r.starts_with("GET"))
        .collect();
    assert_eq!(gets, vec![format!("GET /cdn/{sha} bytes={half}-")]);
    assert_eq!(std::fs::read(&pointer).unwrap(), bytes);
    assert!(!partial.exists());

    // The candidates are those of the local file.
    let local = dir.path().join("local");
    let out = Command::new(bin("pricer-ingest"))
        .current_dir(root())
        .arg(fixture(&format!("data/amazon-2023/meta_{category}.jsonl")))
        .arg("--out")
        .arg(&local)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        std::fs::read(dir.path().join("b/candidates.art")).unwrap(),
        std::fs::read(local.join("candidates.art")).unwrap()
    );
}

#[test]
fn missing_files_are_clear_errors_online_and_offline() {
    let dir = tempfile::tempdir().unwrap();
    let server = fake_hub();
    let cache = dir.path().join("hf-cache");
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        format!(
            "[input]\nhub = {REPO:?}\ncategories = [\"Appliances\", \"Garden_Gnomes\"]\n[split]\ntrain = 10\ntest = 2\n"
        ),
    )
    .unwrap();
    let out = pipeline(
        &bad,
        &dir.path().join("online"),
        Some((&server, &cache, false)),
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(REPO)
            && err.contains("raw/meta_categories/meta_Garden_Gnomes.jsonl")
            && err.contains("404"),
        "{err}"
    );

    let empty = dir.path().join("empty-cache");
    server.clear_requests();
    let out = pipeline(
        &bad,
        &dir.path().join("offline"),
        Some((&server, &empty, true)),
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(REPO)
            && err.contains("raw/meta_categories/meta_Appliances.jsonl")
            && err.contains("HF_HUB_OFFLINE"),
        "{err}"
    );
    assert!(server.requests().is_empty());
}

#[test]
fn a_tokenizer_from_the_hub_gives_the_bundled_copys_items() {
    let dir = tempfile::tempdir().unwrap();
    let server = FakeHub::start();
    let json = zstd::decode_all(
        &std::fs::read(fixture("tokenizers/llama-3.1/tokenizer.json.zst")).unwrap()[..],
    )
    .unwrap();
    server.add_model_file("meta-llama/Llama-3.1-8B", "tokenizer.json", json, true);
    let cache = dir.path().join("hf-cache");
    let ingest = dir.path().join("ingest");
    let out = Command::new(bin("pricer-ingest"))
        .current_dir(root())
        .arg(fixture("data/amazon-2023/meta_Appliances.jsonl"))
        .arg("--out")
        .arg(&ingest)
        .output()
        .unwrap();
    assert!(out.status.success());
    let prompt = |out_dir: &Path, hub: bool| {
        let mut cmd = Command::new(bin("pricer-prompt"));
        cmd.current_dir(root())
            .arg(&ingest)
            .arg("--out")
            .arg(out_dir);
        if hub {
            cmd.args(["--tokenizer-hub", "meta-llama/Llama-3.1-8B"]);
            hub_env(&mut cmd, &server, &cache, false);
        }
        ok(cmd.output().unwrap());
    };
    prompt(&dir.path().join("bundled"), false);
    prompt(&dir.path().join("hub"), true);
    assert_eq!(
        dump_items(&dir.path().join("hub/items.art")),
        dump_items(&dir.path().join("bundled/items.art"))
    );
    assert!(cache
        .join("models--meta-llama--Llama-3.1-8B/snapshots")
        .join(COMMIT)
        .join("tokenizer.json")
        .is_file());
}
