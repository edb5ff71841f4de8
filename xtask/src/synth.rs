//! `cargo xtask synth`: a deterministic large corpus in the raw metadata format, remixed
//! from the fixture rows (for benchmarks and tests on a fresh clone). The mix follows
//! real category files: about half the rows have no price, some have too little text,
//! a few lines are malformed.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use pricer_core::recipe::CLASSIC_CATEGORIES;
use pricer_pycompat::json::{self, dumps, write_str_unicode, Value};

use pricer_core::rng::SplitMix64;

/// Texts to remix, from the fixture rows.
#[derive(Default)]
struct Pool {
    titles: Vec<String>,
    descriptions: Vec<String>,
    features: Vec<Vec<String>>,
    details: Vec<String>,
    words: Vec<String>,
}

fn strings(v: &Value<'_>) -> Vec<String> {
    match v {
        Value::Array(items) => items
            .iter()
            .filter_map(|i| match i {
                Value::Str(s) => s.as_str().map(str::to_owned),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn load_pool(dir: &Path) -> Result<Pool> {
    let mut pool = Pool::default();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    paths.sort();
    for path in paths
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
    {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("{}: cannot read", path.display()))?;
        for line in text.lines() {
            let Ok(Value::Object(fields)) = json::loads(line) else {
                continue;
            };
            for (k, v) in &fields {
                match (k.as_str(), v) {
                    (Some("title"), Value::Str(s)) => {
                        pool.titles.extend(s.as_str().map(str::to_owned))
                    }
                    (Some("description"), v) => pool
                        .descriptions
                        .extend(strings(v).into_iter().filter(|s| !s.is_empty())),
                    (Some("features"), v) => {
                        let f = strings(v);
                        if !f.is_empty() {
                            pool.features.push(f);
                        }
                    }
                    (Some("details"), v @ Value::Object(entries)) if !entries.is_empty() => {
                        pool.details.push(dumps(v))
                    }
                    _ => {}
                }
            }
        }
    }
    let mut words: Vec<String> = pool
        .titles
        .iter()
        .flat_map(|t| t.split(' '))
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect();
    words.sort();
    words.dedup();
    pool.words = words;
    anyhow::ensure!(
        !pool.titles.is_empty() && !pool.details.is_empty(),
        "{}: no rows to remix",
        dir.display()
    );
    Ok(pool)
}

/// A new text from sentences of real ones, some words swapped, so rows do not repeat.
fn remix(rng: &mut SplitMix64, pool: &Pool, texts: &[&str]) -> String {
    let mut sentences: Vec<&str> = texts
        .iter()
        .flat_map(|t| t.split(". "))
        .filter(|s| !s.is_empty())
        .collect();
    for i in (1..sentences.len()).rev() {
        sentences.swap(i, rng.modulo(i + 1));
    }
    let keep = 2 + rng.modulo(10);
    let mut out = Vec::new();
    for s in sentences.into_iter().take(keep) {
        let words: Vec<String> = s
            .split(' ')
            .map(|w| {
                let u = rng.unit();
                if u < 0.08 {
                    rng.pick(&pool.words).clone()
                } else if u < 0.10 {
                    format!(
                        "{}{}",
                        1 + rng.modulo(5000),
                        rng.pick(&["", "mm", " inch", "W", "V", "-Pack"])
                    )
                } else {
                    w.to_owned()
                }
            })
            .collect();
        out.push(words.join(" "));
    }
    out.join(". ")
}

fn push_str_json(out: &mut String, s: &str) {
    write_str_unicode(s, out);
}

fn row(rng: &mut SplitMix64, pool: &Pool, category: &str) -> String {
    if rng.unit() < 0.001 {
        return "{\"title\": \"broken line\", \"price\": 1".into();
    }
    let mut words: Vec<&str> = rng.pick(&pool.titles).split(' ').collect();
    for i in (1..words.len()).rev() {
        words.swap(i, rng.modulo(i + 1));
    }
    let extra = rng.pick(&pool.words).clone();
    if rng.unit() < 0.5 {
        let at = rng.modulo(words.len() + 1);
        words.insert(at, &extra);
    }
    let mut out = String::with_capacity(4096);
    out.push_str("{\"main_category\": ");
    push_str_json(&mut out, &category.replace('_', " "));
    out.push_str(", \"title\": ");
    push_str_json(&mut out, &words.join(" "));
    out.push_str(&format!(
        ", \"average_rating\": {:.1}, \"rating_number\": {}",
        1.0 + 4.0 * rng.unit(),
        rng.modulo(5000)
    ));
    let u = rng.unit();
    let price = if u < 0.50 {
        "null".to_owned()
    } else if u < 0.51 {
        format!(
            "{:?}",
            rng.pick(&["", "None", "from 9.99", "$12.00", " 19.99 "])
        )
    } else {
        let z =
            (-2.0 * (1.0 - rng.unit()).ln()).sqrt() * (std::f64::consts::TAU * rng.unit()).cos();
        let p = ((3.4 + 1.3 * z).exp().clamp(0.01, 4000.0) * 100.0).round() / 100.0;
        pricer_pycompat::float::float_repr(if rng.unit() < 0.98 {
            p
        } else {
            p.trunc() + 0.5
        })
    };
    let kind = rng.unit();
    let (mut description, mut features, mut details) = (Vec::new(), Vec::new(), "{}".to_owned());
    if kind < 0.15 {
        features = rng.pick(&pool.features).iter().take(1).cloned().collect();
    } else {
        if rng.unit() < 0.8 {
            let texts: Vec<&str> = (0..3)
                .map(|_| rng.pick(&pool.descriptions).as_str())
                .collect();
            description.push(remix(rng, pool, &texts));
        }
        if rng.unit() < 0.7 {
            let f = rng.pick(&pool.features).clone();
            features = f.iter().map(|t| remix(rng, pool, &[t.as_str()])).collect();
        }
        details = rng.pick(&pool.details).clone();
    }
    for (key, list) in [("features", &features), ("description", &description)] {
        out.push_str(&format!(", \"{key}\": ["));
        for (i, s) in list.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            push_str_json(&mut out, s);
        }
        out.push(']');
    }
    out.push_str(&format!(", \"price\": {price}, \"images\": [], \"videos\": [], \"store\": \"Acme\", \"categories\": ["));
    push_str_json(&mut out, category);
    out.push_str(&format!(
        "], \"details\": {details}, \"parent_asin\": \"B{:09}\", \"bought_together\": null}}",
        rng.modulo(1_000_000_000)
    ));
    out
}

/// Writes `rows` rows per classic category into `out` (gzip when asked).
pub fn run(source: &Path, out: &Path, rows: usize, seed: u64, gzip: bool) -> Result<()> {
    let pool = load_pool(source)?;
    std::fs::create_dir_all(out)?;
    for (i, cat) in CLASSIC_CATEGORIES.iter().enumerate() {
        let mut rng = SplitMix64(seed * 1000 + i as u64);
        let path = out.join(format!("meta_{cat}.jsonl{}", if gzip { ".gz" } else { "" }));
        let file = BufWriter::with_capacity(
            1 << 20,
            File::create(&path).with_context(|| format!("{}: cannot create", path.display()))?,
        );
        let mut w: Box<dyn Write> = if gzip {
            Box::new(flate2::write::GzEncoder::new(
                file,
                flate2::Compression::fast(),
            ))
        } else {
            Box::new(file)
        };
        for _ in 0..rows {
            writeln!(w, "{}", row(&mut rng, &pool, cat))?;
        }
        w.flush()?;
        drop(w);
    }
    println!(
        "synth: {rows} rows x {} categories -> {}",
        CLASSIC_CATEGORIES.len(),
        out.display()
    );
    Ok(())
}
