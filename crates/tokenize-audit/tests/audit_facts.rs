//! SPEC section 5 facts against the real tokenizer files, and audit.json against the
//! items it describes.

use std::path::{Path, PathBuf};

use pricer_audit::facts::{price_facts, tail};
use pricer_audit::{AuditConfig, BUNDLED_COMPARE};
use pricer_core::artifact::ArtifactReader;
use pricer_core::Item;
use pricer_prompt::tokenizer::{load, LoadedTokenizer};
use pricer_prompt::TokenizerSource;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn tok(rel: &str) -> LoadedTokenizer {
    load(&TokenizerSource::Path(root().join(rel))).unwrap()
}

#[test]
fn llama_3_1_known_tail_and_single_token_prices() {
    let llama = tok("fixtures/tokenizers/llama-3.1/tokenizer.json");
    let t = tail(
        llama.reference().unwrap(),
        " the manufacturer from\n\nPrice is $765.00",
        10,
    )
    .unwrap();
    assert_eq!(
        t.ids,
        [279, 14290, 505, 271, 7117, 374, 400, 22240, 13, 410]
    );
    assert_eq!(t.pieces[7], "765");
    let f = price_facts("Llama 3.1", llama.reference().unwrap()).unwrap();
    assert_eq!((f.single_token, f.prices), (999, 999));
    assert!(f.exceptions.is_empty());
}

#[test]
fn other_tokenizers_split_multi_digit_prices() {
    for (name, rel) in BUNDLED_COMPARE {
        let f = price_facts(name, tok(rel).reference().unwrap()).unwrap();
        assert_eq!(f.single_token, 9, "{name}: only 1..=9 stay one token");
        assert_eq!(f.exceptions.first(), Some(&10), "{name}");
        assert_eq!(f.max_tokens_per_price, 3, "{name}: one token per digit");
    }
}

fn make_items(dir: &Path) -> PathBuf {
    let inputs =
        pricer_ingest::source::resolve(&[root().join("fixtures/data/amazon-2023")]).unwrap();
    pricer_ingest::run(&pricer_ingest::IngestConfig::new(
        inputs,
        dir.join("ingest"),
    ))
    .unwrap();
    let llama = tok("fixtures/tokenizers/llama-3.1/tokenizer.json");
    pricer_prompt::run(
        &pricer_prompt::PromptConfig::new(dir.join("ingest"), dir.join("prompt")),
        &llama,
    )
    .unwrap();
    dir.join("prompt")
}

#[test]
fn audit_json_agrees_with_the_items_and_the_report_has_every_chart() {
    let dir = tempfile::tempdir().unwrap();
    let items_dir = make_items(dir.path());
    let llama = tok("fixtures/tokenizers/llama-3.1/tokenizer.json");
    // A split so that the first test items are reported.
    let split = pricer_split::SplitConfig {
        input: items_dir.clone(),
        out_dir: dir.path().join("split"),
        sample: pricer_split::SampleConfig::default(),
        sizes: pricer_split::SplitSizes {
            train: 700,
            test: 300,
            ..Default::default()
        },
    };
    pricer_split::run(&split).unwrap();
    let cfg = AuditConfig {
        items_dir: items_dir.clone(),
        split_dir: Some(dir.path().join("split")),
        out_dir: dir.path().join("audit"),
        recipe_name: "Llama 3.1".into(),
        recipe: &llama,
        compare: vec![(
            "Qwen3".into(),
            root().join("fixtures/tokenizers/qwen3/tokenizer.json"),
        )],
        compare_sample: 50,
        views: vec![0, 5],
    };
    pricer_audit::run(&cfg).unwrap();
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
