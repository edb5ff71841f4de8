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
