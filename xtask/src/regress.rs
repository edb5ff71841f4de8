//! `cargo xtask regress`: run the pipeline on the fixtures and compare every artifact
//! digest and headline figure with fixtures/expected/regress.json; `--bless` rewrites it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use pricer_core::manifest::Manifest;
use serde_json::{json, Value};

use pricer_pipeline::runner::Print;
use pricer_pipeline::{ConfigSource, RunOptions};

pub const EXPECTATIONS: &str = "fixtures/expected/regress.json";
pub const RUN_DIR: &str = "target/regress-run";
/// The runs regress makes: the default fixtures run, the edge rows that sit on every
/// rule's boundary (so that a changed constant shows), and recipe v2 on the fixtures.
const RUNS: [(&str, &str); 3] = [
    ("fixtures", "fixtures"),
    ("edge", "edge"),
    ("v2", "v2-fixtures"),
];

/// What regress compares for one stage: outputs (count, digest), counts, summary.
fn stage_record(m: &Manifest) -> Value {
    let outputs: BTreeMap<&String, Value> = m
        .outputs
        .iter()
        .map(|(k, v)| (k, json!({"count": v.count, "digest": v.digest})))
        .collect();
    json!({"outputs": outputs, "counts": m.counts, "summary": m.summary, "config": m.config})
}

fn flatten(prefix: &str, v: &Value, out: &mut BTreeMap<String, Value>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                flatten(
                    &if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    },
                    v,
                    out,
                );
            }
        }
        other => {
            out.insert(prefix.to_owned(), other.clone());
        }
    }
}

/// Differences, per run and stage in run order (`order`: each run's stage names), as
/// readable lines `run/stage: key: ...`.
pub fn compare(expected: &Value, actual: &Value, order: &[(String, Vec<String>)]) -> Vec<String> {
    let mut lines = Vec::new();
    compare_stage("recipe", &expected["recipe"], &actual["recipe"], &mut lines);
    for (run, stages) in order {
        let mut names = stages.clone();
        if let Some(e) = expected[run].as_object() {
            names.extend(e.keys().filter(|k| !stages.contains(k)).cloned());
        }
        for stage in names {
            compare_stage(
                &format!("{run}/{stage}"),
                &expected[run][&stage],
                &actual[run][&stage],
                &mut lines,
            );
        }
    }
    lines
}

fn compare_stage(name: &str, expected: &Value, actual: &Value, lines: &mut Vec<String>) {
    {
        let (mut e, mut a) = (BTreeMap::new(), BTreeMap::new());
        flatten("", expected, &mut e);
        flatten("", actual, &mut a);
        let keys: std::collections::BTreeSet<&String> = e.keys().chain(a.keys()).collect();
        for k in keys {
            match (e.get(k), a.get(k)) {
                (Some(x), Some(y)) if x == y => {}
                (Some(x), Some(y)) => lines.push(format!("{name}: {k}: expected {x}, got {y}")),
                (Some(x), None) => lines.push(format!("{name}: {k}: expected {x}, now missing")),
                (None, Some(y)) => lines.push(format!("{name}: {k}: new, got {y}")),
                (None, None) => {}
            }
        }
    }
}

pub fn run(bless: bool, expectations: Option<PathBuf>) -> Result<()> {
    let expectations = expectations.unwrap_or_else(|| PathBuf::from(EXPECTATIONS));
    let root = Path::new(RUN_DIR);
    if root.exists() {
        std::fs::remove_dir_all(root)
            .with_context(|| format!("{}: cannot clear", root.display()))?;
    }
    std::fs::create_dir_all(root)?;
    let mut actual = serde_json::Map::new();
    let mut order = Vec::new();
    for (run, config) in RUNS {
        let out = root.join(run);
        let opts = RunOptions {
            config: ConfigSource::from_arg(config),
            out: out.clone(),
            force: true,
            ..RunOptions::default()
        };
        let report = pricer_pipeline::run(&opts, &mut Print)?;
        println!("{}", report.closing_line());
        let outcomes = report.stages;
        let mut stages = serde_json::Map::new();
        for o in &outcomes {
            let m = Manifest::read(&out.join(&o.stage))?;
            stages.insert(o.stage.clone(), stage_record(&m));
        }
        actual.insert(run.to_owned(), Value::Object(stages));
        order.push((
            run.to_owned(),
            outcomes.into_iter().map(|o| o.stage).collect(),
        ));
    }
    actual.insert(
        "recipe".into(),
        serde_json::from_str(&pricer_core::recipe::constants_json())?,
    );
    let actual = Value::Object(actual);
    if bless {
        std::fs::write(&expectations, serde_json::to_string_pretty(&actual)? + "\n")
            .with_context(|| format!("{}: cannot write", expectations.display()))?;
        println!("regress: blessed {}", expectations.display());
        return Ok(());
    }
    let text = std::fs::read_to_string(&expectations).with_context(|| {
        format!(
            "{}: cannot read; run `cargo xtask regress --bless` to create it",
            expectations.display()
        )
    })?;
    let expected: Value = serde_json::from_str(&text)?;
    let diffs = compare(&expected, &actual, &order);
    if diffs.is_empty() {
        println!(
            "regress: every artifact digest and headline figure matches {}",
            expectations.display()
        );
        return Ok(());
    }
    let first = diffs[0].split(':').next().unwrap_or("?").to_owned();
    let shown = 40;
    eprintln!(
        "regress: {} differences from {}:",
        diffs.len(),
        expectations.display()
    );
    for d in diffs.iter().take(shown) {
        eprintln!("  {d}");
    }
    if diffs.len() > shown {
        eprintln!("  ... and {} more", diffs.len() - shown);
    }
    eprintln!(
        "The first stage that differs is {first}: the change is there (later stages differ because their inputs did).\n\
         If the change is intended, run `cargo xtask regress --bless` and commit {}.",
        expectations.display()
    );
    bail!("regress failed: {first} and later stages differ from the committed expectations")
}
