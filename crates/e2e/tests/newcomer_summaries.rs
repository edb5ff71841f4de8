//! What a newcomer met in recipe V2's summaries: an unreachable endpoint retried quietly
//! for many minutes, retries nobody saw, columns lost without a word, knobs named the way
//! the user did not set them, and empty splits passed on as if whole.

use std::time::{Duration, Instant};

use pricer_core::artifact::ArtifactWriter;
use pricer_core::SummarizedItem;
use pricer_e2e::summarize_run::{curated, ingested_v2, summarize, summarize_args};
use pricer_e2e::{fake_openai, py, run, run_ok};

fn text(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn curate_and_the_cost_limit_name_the_flag_given() {
    let dir = tempfile::tempdir().unwrap();
    let ingest = ingested_v2(dir.path());
    let o = run(
        "pricer-curate",
        &[
            &ingest,
            &"--out",
            &dir.path().join("curate"),
            &"--sample",
            &"5000",
            &"--train",
            &"10",
            &"--validation",
            &"1",
            &"--test",
            &"1",
        ],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("lower --sample or raise the category factors"),
        "{err}"
    );
    let curate = curated(dir.path());
    let api = fake_openai::start();
    let out = dir.path().join("summarize");
    let o = summarize(&summarize_args(
        &api,
        &curate,
        &out,
        &dir.path().join("cache"),
        &["--max-cost-usd", "0.0001"],
    ));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("is above --max-cost-usd = 0.0001; nothing was sent"),
        "{err}"
    );
    assert!(
        err.contains("the estimated cost $0.01"),
        "the estimate is in the message: {err}"
    );
    assert_eq!(
        api.chat_requests.load(std::sync::atomic::Ordering::SeqCst),
        0
    );
}

#[test]
fn an_unreachable_endpoint_stops_at_once_and_leaves_no_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let curate = curated(dir.path());
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = dir.path().join("summarize");
    let started = Instant::now();
    let o = run(
        "pricer-summarize",
        &[
            &curate,
            &"--out",
            &out,
            &"--base-url",
            &format!("http://127.0.0.1:{port}/v1"),
            &"--api-key-env",
            &"",
            &"--cache",
            &dir.path().join("cache"),
        ],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?}: {err}",
        started.elapsed()
    );
    assert!(
        err.contains("cannot reach the endpoint") && err.contains("nothing was sent"),
        "{err}"
    );
    for f in ["train.art", "validation.art", "test.art"] {
        assert!(!out.join(f).exists(), "a failed run leaves no {f}");
    }
    // Splits with no records: the next stage refuses instead of writing nothing.
    std::fs::create_dir_all(&out).unwrap();
    for f in ["train.art", "validation.art", "test.art"] {
        ArtifactWriter::<SummarizedItem>::create(out.join(f))
            .unwrap()
            .finish()
            .unwrap();
    }
    let o = run(
        "pricer-prompt",
        &[
            &"--recipe",
            &"v2",
            &out,
            &"--out",
            &dir.path().join("prompts"),
        ],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        err.contains("hold no records, and the prompts stage needs some"),
        "{err}"
    );
}

#[test]
fn retries_are_logged_round_by_round() {
    let dir = tempfile::tempdir().unwrap();
    let curate = curated(dir.path());
    let api = fake_openai::start();
    api.hard_failures
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let out = dir.path().join("summarize");
    let o = summarize(&summarize_args(
        &api,
        &curate,
        &out,
        &dir.path().join("cache"),
        &[],
    ));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    // summarize_args allows 4 attempts.
    for attempt in 2..=4 {
        assert!(
            err.contains(&format!(
                "retrying requests (attempt {attempt} of 4, next in "
            )),
            "{err}"
        );
    }
}

#[test]
fn summaries_from_json_lines_without_some_columns_leave_them_out_of_the_export() {
    let dir = tempfile::tempdir().unwrap();
    let mut rows = String::new();
    for (n, split) in ["train", "validation", "test"]
        .iter()
        .cycle()
        .take(30)
        .enumerate()
    {
        rows.push_str(&format!(
            "{{\"split\": \"{split}\", \"title\": \"Item {n}\", \"price\": {}.5, \"summary\": \"Title: item {n}\\nBrand: x\"}}\n",
            n + 1
        ));
    }
    let from = dir.path().join("summaries.jsonl");
    std::fs::write(&from, rows).unwrap();
    let config = dir.path().join("v2.toml");
    std::fs::write(
        &config,
        format!("recipe = \"v2\"\n[split]\nlite_train = 5\nlite_validation = 2\nlite_test = 2\n[summarize]\nfrom = {from:?}\n"),
    )
    .unwrap();
    let out = dir.path().join("run");
    let o = run_ok(
        "xtask",
        &[&"pipeline", &"--config", &config, &"--out", &out],
    );
    assert!(
        text(&o).contains("lacks category, full, weight"),
        "{}",
        text(&o)
    );
    let columns = py(
        "import sys, pyarrow.parquet as pq, glob\n\
         for f in sorted(glob.glob(sys.argv[1] + '/data/*.parquet')):\n\
         \x20   print(','.join(pq.read_schema(f).names))",
        &[&out.join("export/items_lite")],
    );
    for line in columns.lines() {
        assert_eq!(line, "title,price,summary");
    }
    let card = std::fs::read_to_string(out.join("export/items_lite/README.md")).unwrap();
    assert!(
        card.contains("from a source without category, full, weight"),
        "{card}"
    );
    assert!(!card.contains("name: weight"), "{card}");
}
