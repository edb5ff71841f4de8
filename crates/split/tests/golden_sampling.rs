//! The sample, shuffle and split equal the golden vectors made with numpy's legacy
//! RandomState and Python's random (two configurations, 150,000 items).

use std::collections::BTreeMap;
use std::path::Path;

use pricer_split::partition::{partition, shuffled};
use pricer_split::sample::{price_balanced_sample, ItemKey};
use pricer_split::{SampleConfig, SplitSizes};
use serde_json::Value;

fn read_zst(rel: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/golden/sampling")
        .join(rel);
    let raw = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    String::from_utf8(zstd::decode_all(&raw[..]).unwrap()).unwrap()
}

fn items() -> (Vec<ItemKey>, Vec<String>) {
    let mut categories: Vec<String> = Vec::new();
    let mut keys = Vec::new();
    for line in read_zst("items.jsonl.zst").lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        let cat = v["category"].as_str().unwrap();
        let idx = categories.iter().position(|c| c == cat).unwrap_or_else(|| {
            categories.push(cat.to_owned());
            categories.len() - 1
        });
        keys.push(ItemKey {
            price: v["price"].as_f64().unwrap(),
            category: idx as u16,
        });
    }
    (keys, categories)
}

fn indices(v: &Value) -> Vec<u32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as u32)
        .collect()
}

fn check(name: &str) {
    let golden: Value = serde_json::from_str(&read_zst(&format!("{name}.json.zst"))).unwrap();
    let c = &golden["config"];
    let mut weights = BTreeMap::new();
    let mut default_weight = 0.0;
    for (k, w) in c["weights"].as_object().unwrap() {
        if k == "*" {
            default_weight = w.as_f64().unwrap();
        } else {
            weights.insert(k.clone(), w.as_f64().unwrap());
        }
    }
    let cfg = SampleConfig {
        seed: c["seed"].as_u64().unwrap() as u32,
        cap: c["cap"].as_u64().unwrap() as usize,
        keep_from: c["keep_from"].as_u64().unwrap() as u32,
        weights,
        default_weight,
    };
    let (keys, categories) = items();
    let sample = price_balanced_sample(&keys, &categories, &cfg).unwrap();
    assert_eq!(
        sample.len() as u64,
        c["sample_len"].as_u64().unwrap(),
        "{name}: sample size"
    );
    assert!(
        sample == indices(&golden["sample"]),
        "{name}: sample order differs"
    );
    let order = shuffled(sample, c["seed"].as_u64().unwrap());
    assert!(
        order == indices(&golden["shuffled"]),
        "{name}: shuffled order differs"
    );
    let sizes = SplitSizes {
        seed: c["seed"].as_u64().unwrap(),
        train: c["train"].as_u64().unwrap() as usize,
        test: c["test"].as_u64().unwrap() as usize,
        ..SplitSizes::default()
    };
    let p = partition(&sizes, order.len()).unwrap();
    assert!(
        order[..p.train] == indices(&golden["train"])[..],
        "{name}: train differs"
    );
    assert!(
        order[p.train..p.train + p.test] == indices(&golden["test"])[..],
        "{name}: test differs"
    );
}

#[test]
fn seed_default_matches_numpy_and_python() {
    check("seed-default");
}

#[test]
fn small_cap_matches_numpy_and_python() {
    check("small-cap");
}
