//! Recipe V2 part 2 runs for the summarize tests: the fixtures parsed and curated, the
//! stage's arguments against a fake API, and checks of what it wrote.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use pricer_core::artifact::ArtifactReader;
use pricer_core::{RawItem, SummarizedItem};

use crate::fake_openai::{answer_for, start, FakeOpenAi};
use crate::{bin, fixture, run, run_ok};

/// The fixtures parsed with recipe v2's rules into `dir/ingest`.
pub fn ingested_v2(dir: &Path) -> PathBuf {
    let ingest = dir.join("ingest");
    run_ok(
        "pricer-ingest",
        &[
            &"--recipe",
            &"v2",
            &fixture("data/amazon-2023"),
            &"--out",
            &ingest,
        ],
    );
    ingest
}

/// The fixtures parsed and curated (120 items: 100 / 10 / 10).
pub fn curated(dir: &Path) -> PathBuf {
    let ingest = ingested_v2(dir);
    let curate = dir.join("curate");
    run_ok(
        "pricer-curate",
        &[
            &ingest,
            &"--out",
            &curate,
            &"--sample",
            &"120",
            &"--train",
            &"100",
            &"--validation",
            &"10",
            &"--test",
            &"10",
        ],
    );
    curate
}

pub fn texts(curate: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for split in ["train", "validation", "test"] {
        for item in ArtifactReader::<RawItem>::open(curate.join(format!("{split}.art"))).unwrap() {
            out.push(item.unwrap().full);
        }
    }
    out
}

pub fn summarize_args(
    api: &FakeOpenAi,
    curate: &Path,
    out: &Path,
    cache: &Path,
    extra: &[&str],
) -> Vec<std::ffi::OsString> {
    let mut a: Vec<std::ffi::OsString> = vec![
        curate.into(),
        "--out".into(),
        out.into(),
        "--base-url".into(),
        api.base_url().into(),
        "--api-key-env".into(),
        "".into(),
        "--cache".into(),
        cache.into(),
        "--timeout-s".into(),
        "1".into(),
        "--backoff-ms".into(),
        "10".into(),
        "--max-attempts".into(),
        "4".into(),
    ];
    a.extend(extra.iter().map(Into::into));
    a
}

pub fn summarize(args: &[std::ffi::OsString]) -> std::process::Output {
    let refs: Vec<&dyn AsRef<std::ffi::OsStr>> = args.iter().map(|a| a as _).collect();
    run("pricer-summarize", &refs)
}

/// Every summary equals the fake model's answer for its text.
pub fn check_summaries(curate: &Path, out: &Path) {
    for split in ["train", "validation", "test"] {
        let raw: Vec<RawItem> =
            ArtifactReader::<RawItem>::open(curate.join(format!("{split}.art")))
                .unwrap()
                .map(Result::unwrap)
                .collect();
        let got: Vec<SummarizedItem> =
            ArtifactReader::<SummarizedItem>::open(out.join(format!("{split}.art")))
                .unwrap()
                .map(Result::unwrap)
                .collect();
        assert_eq!(raw.len(), got.len(), "{split}");
        for (r, g) in raw.iter().zip(&got) {
            assert_eq!((&g.title, &g.full, g.price), (&r.title, &r.full, r.price));
            assert_eq!(g.summary, answer_for(&r.full));
        }
    }
}

/// Complete answers in the cache's logs.
pub fn cached(cache: &Path) -> usize {
    std::fs::read_dir(cache)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .map(|p| {
            std::fs::read_to_string(p)
                .unwrap()
                .lines()
                .filter(|l| serde_json::from_str::<serde_json::Value>(l).is_ok())
                .count()
        })
        .sum()
}

/// A batch-mode run over the fixtures against a fresh fake API: submitting (50 requests
/// per file, polling without pause) or leaving the files to upload by hand.
pub struct BatchRun {
    /// Holds the run's folder until the test ends.
    pub dir: tempfile::TempDir,
    pub api: FakeOpenAi,
    pub curate: PathBuf,
    pub out: PathBuf,
    pub cache: PathBuf,
    pub args: Vec<std::ffi::OsString>,
    /// Request files the distinct texts make when submitting.
    pub files: u64,
    /// Distinct texts.
    pub unique: usize,
}

/// Requests per file when the stage submits.
const BATCH_SIZE: usize = 50;

impl BatchRun {
    pub fn submitting() -> BatchRun {
        Self::start(&["--batch-size", "50", "--poll-s", "0"])
    }

    pub fn by_hand() -> BatchRun {
        Self::start(&["--no-submit"])
    }

    fn start(extra: &[&str]) -> BatchRun {
        let dir = tempfile::tempdir().unwrap();
        let curate = curated(dir.path());
        let unique = texts(&curate).into_iter().collect::<HashSet<_>>().len();
        let api = start();
        let (out, cache) = (dir.path().join("summarize"), dir.path().join("cache"));
        let mut flags = vec!["--mode", "batch"];
        flags.extend(extra);
        let args = summarize_args(&api, &curate, &out, &cache, &flags);
        BatchRun {
            dir,
            api,
            curate,
            out,
            cache,
            args,
            files: unique.div_ceil(BATCH_SIZE) as u64,
            unique,
        }
    }
}

/// The stage started in the background, its output discarded (to be killed).
pub fn spawn_quiet(args: &[std::ffi::OsString]) -> std::process::Child {
    std::process::Command::new(bin("pricer-summarize"))
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

/// What a run's cost lines say, summed over every `this run sent N requests and
/// received M answers (A in + B out tokens, ...)` in `text`: [N, M, A, B].
pub fn spent_in(text: &str) -> [u64; 4] {
    let number = |s: &str| s.replace(',', "").parse::<u64>().unwrap();
    let mut sum = [0u64; 4];
    for part in text.split("this run sent ").skip(1) {
        let words: Vec<&str> = part.split([' ', '(']).filter(|w| !w.is_empty()).collect();
        // N request(s) and received M answer(s) A in + B out tokens
        let got = [words[0], words[4], words[6], words[9]].map(number);
        for (s, g) in sum.iter_mut().zip(got) {
            *s += g;
        }
    }
    sum
}
