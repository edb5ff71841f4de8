//! Recipe V2 part 1 against every part-1 golden file of ../shared/golden/v2 (copied to
//! fixtures/golden/v2), through the binaries: the parse of three folders, the parse of
//! the 32,000-row bench corpus in the course's category order, and three curations.

use std::path::{Path, PathBuf};
use std::process::Command;

use pricer_e2e::{
    assert_same_lines, dump, fixture, golden_v2, golden_v2_sha256, root, run_ok, sha256_hex,
};

const COURSE_ORDER: &str = "Automotive,Electronics,Office_Products,Tools_and_Home_Improvement,\
                            Cell_Phones_and_Accessories,Toys_and_Games,Appliances,Musical_Instruments";

/// `pricer-ingest --recipe v2` of `inputs` into `out`; checks items and rejects.
fn parse(args: &[&dyn AsRef<std::ffi::OsStr>], out: &Path, items: &str, rejects: &str) {
    let mut all: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![&"--recipe", &"v2", &"--out", &out];
    all.extend_from_slice(args);
    run_ok("pricer-ingest", &all);
    let got = dump(out);
    assert_same_lines(items, &got, &golden_v2(items));
    let got = std::fs::read(out.join("rejects.jsonl")).unwrap();
    assert_same_lines(rejects, &got, &golden_v2(rejects));
}

/// Every golden file copied into fixtures/ is the one the reference wrote (its sha256 in
/// the reference's SHA256SUMS; the pool, stored there gzipped, is checked by its use).
#[test]
fn the_copied_goldens_are_the_references() {
    let sums = String::from_utf8(golden_v2("SHA256SUMS")).unwrap();
    let mut checked = 0;
    for line in sums.lines() {
        let name = line.split_once("  ").unwrap().1.trim_start_matches("./");
        let stored = ["", ".zst"]
            .iter()
            .any(|ext| fixture(&format!("golden/v2/{name}{ext}")).is_file());
        if stored {
            assert_eq!(
                sha256_hex(&golden_v2(name)),
                golden_v2_sha256(name),
                "{name}"
            );
            checked += 1;
        } else if name.starts_with("edge-v2/") {
            let bytes = std::fs::read(fixture(&format!("data/{name}"))).unwrap();
            assert_eq!(sha256_hex(&bytes), golden_v2_sha256(name), "{name}");
            checked += 1;
        }
    }
    // 39 in all: the nine split files are rebuilt from the pool and checked where they
    // are used, and the pool is stored uncompressed-then-zstd rather than gzip.
    assert_eq!(checked, 29, "golden files checked");
}

#[test]
fn parse_matches_the_goldens_of_three_folders() {
    let dir = tempfile::tempdir().unwrap();
    for (name, folder) in [
        ("amazon-2023", "data/amazon-2023"),
        ("edge", "data/edge"),
        ("edge-v2", "data/edge-v2"),
    ] {
        parse(
            &[&fixture(folder)],
            &dir.path().join(name),
            &format!("items_raw-{name}.jsonl"),
            &format!("rejects-{name}.jsonl"),
        );
    }
}

/// The reference's split files are the pool file's lines of the split's items: rebuild
/// them from the golden pool, draw and order, and prove them golden by their sha256.
fn expected_split(
    cfg: &str,
    pool_lines: &[&[u8]],
    split: &str,
    range: std::ops::Range<usize>,
) -> Vec<u8> {
    let order: serde_json::Value =
        serde_json::from_slice(&golden_v2(&format!("curate/{cfg}/order.json"))).unwrap();
    let draw: serde_json::Value =
        serde_json::from_slice(&golden_v2(&format!("curate/{cfg}/draw.json"))).unwrap();
    let deduped = order["deduped"].as_array().unwrap();
    let mut out = Vec::new();
    for k in &draw["shuffled_sample"].as_array().unwrap()[range] {
        let pos = deduped[k.as_u64().unwrap() as usize].as_u64().unwrap() as usize;
        out.extend_from_slice(pool_lines[pos]);
        out.push(b'\n');
    }
    assert_eq!(
        sha256_hex(&out),
        golden_v2_sha256(&format!("curate/{cfg}/{split}.jsonl")),
        "{cfg}/{split}"
    );
    out
}

/// Runs pricer-curate on `items` with `args` and checks every golden file of `cfg`.
fn curate(items: &Path, out: &Path, cfg: &str, args: &[&str], pool: &[u8], sizes: [usize; 3]) {
    let mut all: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![&items, &"--out", &out, &"--trace"];
    for a in args {
        all.push(a);
    }
    run_ok("pricer-curate", &all);
    for f in [
        "order.json",
        "weights.json",
        "draw.json",
        "dedup-titles.jsonl",
    ] {
        let got = std::fs::read(out.join("trace").join(f)).unwrap();
        assert_same_lines(
            &format!("{cfg}/{f}"),
            &got,
            &golden_v2(&format!("curate/{cfg}/{f}")),
        );
    }
    let pool_lines: Vec<&[u8]> = pool
        .strip_suffix(b"\n")
        .unwrap()
        .split(|&b| b == b'\n')
        .collect();
    let mut at = 0;
    for ((split, file), n) in [("train", "train"), ("val", "validation"), ("test", "test")]
        .into_iter()
        .zip(sizes)
    {
        let want = expected_split(cfg, &pool_lines, split, at..at + n);
        at += n;
        assert_same_lines(
            &format!("{cfg}/{split}"),
            &dump(&out.join(format!("{file}.art"))),
            &want,
        );
    }
    check_summary(out, cfg);
}

/// The manifest's figures equal the reference's summary.json where both have them.
fn check_summary(out: &Path, cfg: &str) {
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    let want: serde_json::Value =
        serde_json::from_slice(&golden_v2(&format!("curate/{cfg}/summary.json"))).unwrap();
    let s = &m["summary"];
    for k in [
        "items_in",
        "after_title_dedupe",
        "after_full_dedupe",
        "pool_per_category",
        "price_min",
        "price_max",
        "items_at_min_price",
        "zero_weight_items",
        "nonzero_weight_items",
        "draw_rounds",
        "sample_per_category",
    ] {
        assert_eq!(s[k], want[k], "{cfg}: {k}");
    }
    assert_eq!(
        s["weight_sum"], want["weight_sum_numpy"],
        "{cfg}: weight sum"
    );
    for (ours, theirs) in [("train", "train"), ("validation", "val"), ("test", "test")] {
        assert_eq!(
            s["split_per_category"][ours], want["split_per_category"][theirs],
            "{cfg}: {ours}"
        );
        assert_eq!(
            s["mean_price"][ours], want["mean_price"][theirs],
            "{cfg}: mean of {ours}"
        );
    }
}

/// The bench corpus the pool golden was parsed from (8 x 4,000 rows, generator seed 11),
/// regenerated from the fixtures and checked against the golden checksums.
fn bench_corpus(dir: &Path) -> PathBuf {
    let corpus = dir.join("corpus");
    let status = Command::new(std::env::var("PRICER_PYTHON").unwrap_or_else(|_| "python3".into()))
        .arg(root().join("xtask/tools/make_corpus.py"))
        .args([fixture("data/amazon-2023").as_os_str(), corpus.as_os_str()])
        .args(["--rows", "4000", "--seed", "11"])
        .stdout(std::process::Stdio::null())
        .status()
        .expect("python3 runs xtask/tools/make_corpus.py");
    assert!(status.success());
    let sums = String::from_utf8(golden_v2("curate/pool/corpus.sha256")).unwrap();
    for line in sums.lines() {
        let (sum, name) = line.split_once("  ").unwrap();
        assert_eq!(
            sha256_hex(&std::fs::read(corpus.join(name)).unwrap()),
            sum,
            "{name}"
        );
    }
    corpus
}

#[test]
fn the_pool_and_three_curations_match_the_goldens() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = bench_corpus(dir.path());
    let pool_dir = dir.path().join("pool");
    parse(
        &[&"--data-dir", &corpus, &"--categories", &COURSE_ORDER],
        &pool_dir,
        "curate/pool/items_raw.jsonl",
        "curate/pool/rejects.jsonl",
    );
    let pool = golden_v2("curate/pool/items_raw.jsonl");
    curate(
        &pool_dir,
        &dir.path().join("seed42"),
        "seed42",
        &[
            "--seed",
            "42",
            "--sample",
            "3000",
            "--train",
            "2600",
            "--validation",
            "200",
            "--test",
            "200",
        ],
        &pool,
        [2600, 200, 200],
    );
    // `--keep` (the lite prefixes, as its help writes them) keeps the first lines of each
    // split and nothing else.
    let lite = dir.path().join("seed42-lite");
    run_ok(
        "pricer-curate",
        &[
            &pool_dir,
            &"--out",
            &lite,
            &"--seed",
            &"42",
            &"--sample",
            &"3000",
            &"--train",
            &"2600",
            &"--validation",
            &"200",
            &"--test",
            &"200",
            &"--keep",
            &"100,10,10",
        ],
    );
    for (file, n) in [("train", 100), ("validation", 10), ("test", 10)] {
        let full = dump(&dir.path().join("seed42").join(format!("{file}.art")));
        let head: Vec<&[u8]> = full.split_inclusive(|&b| b == b'\n').take(n).collect();
        assert_eq!(
            dump(&lite.join(format!("{file}.art"))),
            head.concat(),
            "{file}"
        );
    }
    curate(
        &pool_dir,
        &dir.path().join("seed7"),
        "seed7-knobs",
        &[
            "--seed",
            "7",
            "--sample",
            "2000",
            "--train",
            "1500",
            "--validation",
            "250",
            "--test",
            "250",
            "--factor",
            "Automotive=0",
            "--factor",
            "Electronics=2",
            "--factor",
            "Tools_and_Home_Improvement=0.25",
            "--default-factor",
            "0.75",
        ],
        &pool,
        [1500, 250, 250],
    );
    let edge = dir.path().join("edge-v2");
    run_ok(
        "pricer-ingest",
        &[
            &"--recipe",
            &"v2",
            &fixture("data/edge-v2"),
            &"--out",
            &edge,
        ],
    );
    curate(
        &edge,
        &dir.path().join("curate-edge"),
        "edge-v2",
        &[
            "--seed",
            "42",
            "--sample",
            "40",
            "--train",
            "30",
            "--validation",
            "5",
            "--test",
            "5",
        ],
        &golden_v2("items_raw-edge-v2.jsonl"),
        [30, 5, 5],
    );
}
