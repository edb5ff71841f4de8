//! audit.json against the items it describes, and the report's charts, through the binary.

use pricer_core::artifact::ArtifactReader;
use pricer_core::Item;
use pricer_e2e::{fixture, ingest_and_prompt, run_ok};

#[test]
fn audit_json_agrees_with_the_items_and_the_report_has_every_chart() {
    let dir = tempfile::tempdir().unwrap();
    let items_dir = ingest_and_prompt(&[fixture("data/amazon-2023")], dir.path(), 2, 1 << 20);
    // A split so that the first test items are reported.
    let split = dir.path().join("split");
    run_ok(
        "pricer-split",
        &[
            &items_dir, &"--out", &split, &"--train", &"700", &"--test", &"300",
        ],
    );
    let qwen = format!(
        "Qwen3={}",
        fixture("tokenizers/qwen3/tokenizer.json").display()
    );
    run_ok(
        "pricer-audit",
        &[
            &items_dir,
            &"--split",
            &split,
            &"--out",
            &dir.path().join("audit"),
            &"--compare",
            &qwen,
            &"--no-bundled",
            &"--compare-sample",
            &"50",
            &"--item",
            &"0",
            &"--item",
            &"5",
        ],
    );
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("audit/audit.json")).unwrap(),
    )
    .unwrap();

    let items: Vec<Item> = ArtifactReader::<Item>::open(items_dir.join("items.art"))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let n = items.len() as f64;
    let s = &json["stats"];
    assert_eq!(s["items"].as_u64().unwrap(), items.len() as u64);
    let token_mean = items.iter().map(|i| f64::from(i.token_count)).sum::<f64>() / n;
    assert!((s["token_count_mean"].as_f64().unwrap() - token_mean).abs() < 1e-9);
    assert_eq!(
        s["token_count_max"].as_u64().unwrap(),
        u64::from(items.iter().map(|i| i.token_count).max().unwrap())
    );
    let price_mean = items.iter().map(|i| i.price).sum::<f64>() / n;
    assert!((s["price_mean"].as_f64().unwrap() - price_mean).abs() < 1e-9);
    let automotive = items.iter().filter(|i| i.category == "Automotive").count() as u64;
    let cats = s["categories"].as_array().unwrap();
    assert!(cats
        .iter()
        .any(|c| c[0] == "Automotive" && c[1].as_u64() == Some(automotive)));
    let hist_total: u64 = s["prices"]["bins"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b[2].as_u64().unwrap())
        .sum();
    assert_eq!(hist_total, items.len() as u64);
    // Pearson r of prompt characters and price, computed independently.
    let xs: Vec<f64> = items
        .iter()
        .map(|i| i.prompt.chars().count() as f64)
        .collect();
    let ys: Vec<f64> = items.iter().map(|i| i.price).collect();
    let (mx, my) = (xs.iter().sum::<f64>() / n, ys.iter().sum::<f64>() / n);
    let cov: f64 = xs.iter().zip(&ys).map(|(x, y)| (x - mx) * (y - my)).sum();
    let r = cov
        / (xs.iter().map(|x| (x - mx).powi(2)).sum::<f64>().sqrt()
            * ys.iter().map(|y| (y - my).powi(2)).sum::<f64>().sqrt());
    assert!((s["chars_price_correlation"].as_f64().unwrap() - r).abs() < 1e-9);
    // The first 250 test items.
    let test: Vec<Item> = ArtifactReader::<Item>::open(dir.path().join("split/test.art"))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let head_mean = test.iter().take(250).map(|i| i.price).sum::<f64>() / 250.0;
    assert!((json["test_head"]["mean_price"].as_f64().unwrap() - head_mean).abs() < 1e-9);
    // The views show the last 10 tokens of the chosen items.
    assert_eq!(json["item_views"][1][0], 5);
    assert_eq!(
        json["item_views"][1][1]["ids"].as_array().unwrap().len(),
        10
    );

    let report = std::fs::read_to_string(dir.path().join("audit/report.html")).unwrap();
    for id in [
        "chart-scatter",
        "chart-tokens",
        "chart-prices",
        "chart-category-bars",
        "chart-category-donut",
        "chart-test-prices",
    ] {
        assert!(
            report.contains(&format!("id=\"{id}\"")),
            "report lacks {id}"
        );
    }
    // Self-contained: nothing is fetched (the SVG namespace URI is a name, not a fetch).
    assert!(
        !report.contains("src=\"http") && !report.contains("href=\"http"),
        "report references the network"
    );
    assert!(report.contains("Prompt length vs price") && report.contains("Tokens per prompt"));
}

fn read_items(path: &std::path::Path) -> Vec<Item> {
    ArtifactReader::<Item>::open(path)
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// Per $10 bin counts, computed here from the artifacts.
fn bins(items: &[&Item]) -> Vec<u64> {
    let mut out = Vec::new();
    for i in items {
        let b = (i.price / 10.0).floor() as usize;
        if out.len() <= b {
            out.resize(b + 1, 0);
        }
        out[b] += 1;
    }
    out
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

fn check_comparison(c: &serde_json::Value, a: &[&Item], b: &[&Item]) {
    let (ba, bb) = (bins(a), bins(b));
    let got = c["bins"].as_array().unwrap();
    assert_eq!(got.len(), ba.len().max(bb.len()));
    for (i, bin) in got.iter().enumerate() {
        assert_eq!(bin["low"].as_f64().unwrap(), i as f64 * 10.0);
        assert_eq!(
            bin["a"].as_u64().unwrap(),
            ba.get(i).copied().unwrap_or(0),
            "bin {i}"
        );
        assert_eq!(
            bin["b"].as_u64().unwrap(),
            bb.get(i).copied().unwrap_or(0),
            "bin {i}"
        );
    }
    assert_eq!(c["totals"][0].as_u64().unwrap(), a.len() as u64);
    assert_eq!(c["totals"][1].as_u64().unwrap(), b.len() as u64);
    let mean = |s: &[&Item]| s.iter().map(|i| i.price).sum::<f64>() / s.len() as f64;
    assert!(close(c["mean_price"][0].as_f64().unwrap(), mean(a)));
    assert!(close(c["mean_price"][1].as_f64().unwrap(), mean(b)));
}

/// A run whose sample is really drawn down (cap 2 below $150), so before and after
/// differ; every balancing figure in audit.json is recomputed here from the artifacts,
/// and the run summary from the stages' manifests.
#[test]
fn balancing_figures_agree_with_the_split_artifacts() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("balance.toml");
    std::fs::write(
        &config,
        format!(
            "[input]\npaths = [{:?}]\n[sample]\ncap = 2\nkeep_from = 150\n[split]\ntrain = 300\ntest = 60\n",
            fixture("data/amazon-2023").display().to_string()
        ),
    )
    .unwrap();
    let run = dir.path().join("run");
    run_ok(
        "xtask",
        &[&"pipeline", &"--config", &config, &"--out", &run],
    );
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run.join("audit/audit.json")).unwrap()).unwrap();
    let items = read_items(&run.join("prompt/items.art"));
    let train = read_items(&run.join("split/train.art"));
    let test = read_items(&run.join("split/test.art"));
    let all: Vec<&Item> = items.iter().collect();
    let dataset: Vec<&Item> = train.iter().chain(&test).collect();
    let b = &json["balance"];
    check_comparison(&b["prices"], &all, &dataset);
    check_comparison(
        &b["train_test"],
        &train.iter().collect::<Vec<_>>(),
        &test.iter().collect::<Vec<_>>(),
    );
    assert_ne!(bins(&all), bins(&dataset), "this run should balance");

    let mut order: Vec<&str> = Vec::new();
    for i in &items {
        if !order.contains(&i.category.as_str()) {
            order.push(&i.category);
        }
    }
    let rows = b["categories"].as_array().unwrap();
    assert_eq!(rows.len(), order.len());
    for (row, cat) in rows.iter().zip(order) {
        assert_eq!(row["category"], cat);
        let of = |s: &[&Item]| -> (u64, f64) {
            let v: Vec<f64> = s
                .iter()
                .filter(|i| i.category == cat)
                .map(|i| i.price)
                .collect();
            (v.len() as u64, v.iter().sum::<f64>())
        };
        let ((n, ns), (d, ds)) = (of(&all), of(&dataset));
        assert_eq!(row["items"].as_u64().unwrap(), n);
        assert_eq!(row["dataset"].as_u64().unwrap(), d);
        assert!(close(
            row["items_share"].as_f64().unwrap(),
            n as f64 / all.len() as f64
        ));
        assert!(close(
            row["dataset_share"].as_f64().unwrap(),
            d as f64 / dataset.len() as f64
        ));
        assert!(close(
            row["items_mean_price"].as_f64().unwrap(),
            ns / n as f64
        ));
        let want = if d == 0 { 0.0 } else { ds / d as f64 };
        assert!(close(row["dataset_mean_price"].as_f64().unwrap(), want));
    }

    // The summary is the manifests' counts, rejects and settings.
    let run_s = &json["run"];
    let mut rejects = 0;
    for (i, stage) in ["ingest", "prompt", "split"].iter().enumerate() {
        let m: serde_json::Value =
            serde_json::from_slice(&std::fs::read(run.join(stage).join("manifest.json")).unwrap())
                .unwrap();
        let row = &run_s["stages"][i];
        assert_eq!(row["stage"], *stage);
        for k in ["rows_in", "kept", "rejected"] {
            assert_eq!(row[k], m["counts"][k], "{stage} {k}");
        }
        assert_eq!(run_s["settings"][stage], m["config"]);
        for (reason, n) in m["counts"]["rejected_by_reason"].as_object().unwrap() {
            assert!(run_s["rejects"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["stage"] == *stage
                    && r["reason"] == reason.as_str()
                    && r["rows"] == *n));
            rejects += 1;
        }
    }
    assert_eq!(run_s["rejects"].as_array().unwrap().len(), rejects);
    assert_eq!(run_s["sample"].as_u64().unwrap(), 836);
    assert_eq!(run_s["train"].as_u64().unwrap(), 300);
    assert_eq!(run_s["test"].as_u64().unwrap(), 60);
}

/// The pipeline loads the compared tokenizers ahead, while the earlier stages run
/// (`Stage::warm_up`); the audit binary loads them in its run. Both must write the same bytes.
#[test]
fn an_audit_warmed_up_by_the_pipeline_equals_the_binarys() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    run_ok("xtask", &[&"pipeline", &"--out", &run]);
    let alone = dir.path().join("alone");
    run_ok(
        "pricer-audit",
        &[
            &run.join("prompt"),
            &"--split",
            &run.join("split"),
            &"--ingest",
            &run.join("ingest"),
            &"--out",
            &alone,
            &"--link-eval",
        ],
    );
    for name in ["audit.json", "report.html"] {
        assert!(
            std::fs::read(run.join("audit").join(name)).unwrap()
                == std::fs::read(alone.join(name)).unwrap(),
            "{name} differs"
        );
    }
    let fingerprint = |d: &std::path::Path| {
        let m: serde_json::Value =
            serde_json::from_slice(&std::fs::read(d.join("manifest.json")).unwrap()).unwrap();
        m["fingerprint"].clone()
    };
    assert_eq!(fingerprint(&run.join("audit")), fingerprint(&alone));
}
