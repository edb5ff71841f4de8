//! The audit stage: `items.art` (and the split's `test.art` when present) ->
//! `audit.json` (every figure) and `report.html` (charts and tables, self-contained).

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use pricer_core::artifact::{sync_parent, temp_path, verify, ArtifactReader};
use pricer_core::manifest::{fingerprint, Counts, InputRef, Manifest};
use pricer_core::{obs, ArtifactInfo, Item};
use pricer_prompt::tokenizer::LoadedTokenizer;
use serde::Serialize;

use crate::facts::{price_facts, prompt_tokens, tail, PriceFacts, PromptTokens, TailView};
use crate::stats::{price_histogram, Accumulator, ItemStats};
use crate::svg;

pub const STAGE: &str = "audit";
pub const REPORT: &str = "report.html";
pub const AUDIT_JSON: &str = "audit.json";
/// Prompts encoded with every compared tokenizer (the first N items).
pub const DEFAULT_COMPARE_SAMPLE: usize = 1000;
/// Test items whose prices the recipe's author looked at.
pub const TEST_HEAD: usize = 250;
/// The known answer of SPEC section 5, shown in every report.
pub const KNOWN_TAIL_TEXT: &str = " the manufacturer from\n\nPrice is $765.00";

pub struct AuditConfig<'t> {
    pub items_dir: PathBuf,
    /// The split folder, when the split has run (for the test items' prices).
    pub split_dir: Option<PathBuf>,
    pub out_dir: PathBuf,
    pub recipe_name: String,
    pub recipe: &'t LoadedTokenizer,
    /// Other tokenizers, loaded one at a time (Gemma 3's alone takes ~300 MB).
    pub compare: Vec<(String, PathBuf)>,
    pub compare_sample: usize,
    /// Items (by position) shown with their last 10 tokens.
    pub views: Vec<usize>,
}

impl AuditConfig<'_> {
    fn test_path(&self) -> Option<PathBuf> {
        self.split_dir
            .as_ref()
            .map(|d| d.join("test.art"))
            .filter(|p| p.is_file())
    }

    pub fn semantic(&self) -> serde_json::Value {
        serde_json::json!({
            "recipe_tokenizer": self.recipe_name,
            "compare": self.compare.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>(),
            "compare_sample": self.compare_sample,
            "views": self.views,
        })
    }

    fn input_digests(&self) -> Result<Vec<InputRef>> {
        let mut inputs = Vec::new();
        let items = self.items_dir.join("items.art");
        let info = verify(&items)?;
        inputs.push(InputRef {
            path: items.display().to_string(),
            digest: info.digest,
            bytes: info.bytes,
        });
        if let Some(test) = self.test_path() {
            let info = verify(&test)?;
            inputs.push(InputRef {
                path: test.display().to_string(),
                digest: info.digest,
                bytes: info.bytes,
            });
        }
        inputs.push(InputRef {
            path: self.recipe.path.display().to_string(),
            digest: self.recipe.digest.clone(),
            bytes: 0,
        });
        Ok(inputs)
    }
}

/// The fingerprint a run of `cfg` will have.
pub fn fingerprint_of(cfg: &AuditConfig<'_>) -> Result<String> {
    let inputs = cfg.input_digests()?;
    let digests: Vec<&str> = inputs.iter().map(|i| i.digest.as_str()).collect();
    Ok(fingerprint(STAGE, &digests, &cfg.semantic()))
}

#[derive(Debug, Clone, Serialize)]
pub struct TestHead {
    pub items: usize,
    pub mean_price: f64,
    pub prices: crate::stats::Histogram,
}

/// Everything the audit found; written as audit.json.
#[derive(Debug, Clone, Serialize)]
pub struct Audit {
    pub recipe_tokenizer: String,
    pub price_facts: Vec<PriceFacts>,
    pub prompt_tokens: Vec<PromptTokens>,
    pub known_tail: TailView,
    pub item_views: Vec<(usize, TailView)>,
    pub stats: ItemStats,
    pub test_head: Option<TestHead>,
}

pub fn audit(cfg: &AuditConfig<'_>) -> Result<(Audit, Vec<(f32, f32)>)> {
    let mut acc = Accumulator::default();
    let mut sample: Vec<String> = Vec::new();
    let mut views = Vec::new();
    for (pos, item) in ArtifactReader::<Item>::open(cfg.items_dir.join("items.art"))?.enumerate() {
        let item = item?;
        acc.add(&item);
        if pos < cfg.compare_sample {
            sample.push(item.prompt.clone());
        }
        if cfg.views.contains(&pos) {
            views.push((pos, tail(cfg.recipe.reference()?, &item.prompt, 10)?));
        }
    }
    // One tokenizer in memory at a time; the work on each runs in parallel.
    let (f, p) = rayon::join(
        || price_facts(&cfg.recipe_name, cfg.recipe.reference()?),
        || prompt_tokens(&cfg.recipe_name, cfg.recipe.reference()?, &sample),
    );
    let (mut price_facts_all, mut prompt_tokens_all) = (vec![f?], vec![p?]);
    for (name, path) in &cfg.compare {
        let tok =
            pricer_prompt::tokenizer::load(&pricer_prompt::TokenizerSource::Path(path.clone()))?;
        let (f, p) = rayon::join(
            || price_facts(name, tok.reference()?),
            || prompt_tokens(name, tok.reference()?, &sample),
        );
        price_facts_all.push(f?);
        prompt_tokens_all.push(p?);
    }
    let (price_facts, prompt_tokens): (Vec<PriceFacts>, Vec<PromptTokens>) =
        (price_facts_all, prompt_tokens_all);
    let test_head = match cfg.test_path() {
        Some(test) => {
            let prices: Vec<f64> = ArtifactReader::<Item>::open(test)?
                .take(TEST_HEAD)
                .map(|i| i.map(|i| i.price))
                .collect::<Result<_, _>>()?;
            Some(TestHead {
                items: prices.len(),
                mean_price: if prices.is_empty() {
                    0.0
                } else {
                    prices.iter().sum::<f64>() / prices.len() as f64
                },
                prices: price_histogram(&prices, 25.0),
            })
        }
        None => None,
    };
    let audit = Audit {
        recipe_tokenizer: cfg.recipe_name.clone(),
        price_facts,
        prompt_tokens,
        known_tail: tail(cfg.recipe.reference()?, KNOWN_TAIL_TEXT, 10)?,
        item_views: views,
        stats: acc.finish(),
        test_head,
    };
    Ok((audit, std::mem::take(&mut acc.points)))
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn tail_table(v: &TailView) -> String {
    let mut s = String::from("<table class=\"tail\"><tr><th>id</th>");
    for id in &v.ids {
        let _ = write!(s, "<td>{id}</td>");
    }
    s.push_str("</tr><tr><th>piece</th>");
    for p in &v.pieces {
        let _ = write!(s, "<td><code>{}</code></td>", esc(&format!("{p:?}")));
    }
    s.push_str("</tr></table>");
    s
}

/// The report: every chart and table in one HTML file with no external references.
pub fn render_report(a: &Audit, points: &[(f32, f32)]) -> String {
    let s = &a.stats;
    let mut charts = vec![
        svg::scatter(
            "chart-scatter",
            &if (points.len() as u64) < s.items {
                format!(
                    "Prompt length vs price ({} items, {} of them plotted at random, r = {:.3})",
                    s.items,
                    points.len(),
                    s.chars_price_correlation
                )
            } else {
                format!(
                    "Prompt length vs price ({} items, r = {:.3})",
                    s.items, s.chars_price_correlation
                )
            },
            "prompt length (characters)",
            "price ($)",
            points,
        ),
        svg::histogram(
            "chart-tokens",
            "Tokens per prompt",
            "tokens (Llama 3.1)",
            "items",
            &s.token_counts.bins,
            svg::PALETTE[0],
        ),
        svg::histogram(
            "chart-prices",
            "Prices",
            "price ($, bins of $10)",
            "items",
            &s.prices.bins,
            svg::PALETTE[1],
        ),
        svg::bars(
            "chart-category-bars",
            "Items per category",
            "items",
            &s.categories,
        ),
        svg::donut(
            "chart-category-donut",
            "Share of items per category",
            &s.categories,
        ),
    ];
    if let Some(t) = &a.test_head {
        charts.push(svg::histogram(
            "chart-test-prices",
            &format!(
                "Prices of the first {} test items (mean ${:.2})",
                t.items, t.mean_price
            ),
            "price ($, bins of $25)",
            "items",
            &t.prices.bins,
            svg::PALETTE[4],
        ));
    }
    let mut h = String::new();
    h.push_str("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>pricer audit</title><style>\
        body{font-family:sans-serif;max-width:1500px;margin:24px auto;padding:0 16px;color:#222}\
        table{border-collapse:collapse;margin:8px 0 20px}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}\
        th{background:#f4f4f4}.tail td{font-size:12px}.charts{display:flex;flex-wrap:wrap;gap:16px}\
        .chart{border:1px solid #ddd;max-width:100%;height:auto}pre{background:#f7f7f7;padding:8px;white-space:pre-wrap}\
        </style></head><body>");
    let _ = write!(
        h,
        "<h1>pricer audit</h1><p>{} items; tokens per prompt mean {:.1}, max {}; price mean ${:.2}, max ${:.2}; \
         prompt length vs price r = {:.3}.</p>",
        s.items, s.token_count_mean, s.token_count_max, s.price_mean, s.price_max, s.chars_price_correlation
    );
    h.push_str("<h2>Charts</h2><div class=\"charts\">");
    for c in &charts {
        h.push_str(c);
    }
    h.push_str("</div><h2>Prices as tokens</h2><p>Tokens that a price 1..=999 takes where prompts show it (<code>Price is $N.00</code>).</p>");
    h.push_str("<table><tr><th>tokenizer</th><th>single-token prices</th><th>mean tokens per price</th><th>max</th><th>price stays one token?</th><th>first exceptions</th></tr>");
    for f in &a.price_facts {
        let ex: Vec<String> = f.exceptions.iter().take(10).map(u32::to_string).collect();
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{} of {}</td><td>{:.2}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&f.tokenizer),
            f.single_token,
            f.prices,
            f.mean_tokens_per_price,
            f.max_tokens_per_price,
            if f.exceptions.is_empty() { "yes" } else { "no" },
            ex.join(", ")
        );
    }
    h.push_str("</table><h2>Tokens per prompt, side by side</h2>");
    h.push_str(
        "<table><tr><th>tokenizer</th><th>prompts</th><th>mean tokens</th><th>max tokens</th></tr>",
    );
    for p in &a.prompt_tokens {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{:.1}</td><td>{}</td></tr>",
            esc(&p.tokenizer),
            p.prompts,
            p.mean_tokens,
            p.max_tokens
        );
    }
    h.push_str(
        "</table><h2>Items per category</h2><table><tr><th>category</th><th>items</th></tr>",
    );
    for (c, n) in &s.categories {
        let _ = write!(h, "<tr><td>{}</td><td>{n}</td></tr>", esc(c));
    }
    h.push_str("</table><h2>The last tokens of a prompt</h2>");
    let _ = write!(
        h,
        "<p>Known answer (SPEC 5): <code>{}</code></p>{}",
        esc(&format!("{:?}", a.known_tail.text)),
        tail_table(&a.known_tail)
    );
    for (pos, v) in &a.item_views {
        let _ = write!(
            h,
            "<h3>Item {pos}</h3><pre>{}</pre>{}",
            esc(&v.text),
            tail_table(v)
        );
    }
    h.push_str("</body></html>\n");
    h
}

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = temp_path(path);
    fs::write(&tmp, bytes).with_context(|| format!("{}: cannot write", tmp.display()))?;
    fs::rename(&tmp, path)
        .with_context(|| format!("{}: cannot rename into place", path.display()))?;
    sync_parent(path);
    Ok(())
}

pub fn run(cfg: &AuditConfig<'_>) -> Result<(Manifest, Audit)> {
    let started = Instant::now();
    let _span = tracing::info_span!("audit").entered();
    let inputs = cfg.input_digests()?;
    fs::create_dir_all(&cfg.out_dir)
        .with_context(|| format!("{}: cannot create", cfg.out_dir.display()))?;
    let (audit, points) = audit(cfg)?;
    let json = serde_json::to_string_pretty(&audit)? + "\n";
    let report = render_report(&audit, &points);
    write_atomic(&cfg.out_dir.join(AUDIT_JSON), json.as_bytes())?;
    write_atomic(&cfg.out_dir.join(REPORT), report.as_bytes())?;
    let file_info = |bytes: &[u8]| ArtifactInfo {
        record_type: "file".into(),
        count: 0,
        digest: pricer_core::digest::bytes_digest(bytes),
        bytes: bytes.len() as u64,
    };
    let outputs = [
        (AUDIT_JSON.to_owned(), file_info(json.as_bytes())),
        (REPORT.to_owned(), file_info(report.as_bytes())),
    ]
    .into_iter()
    .collect();
    let counts = Counts {
        rows_in: audit.stats.items,
        kept: audit.stats.items,
        ..Counts::default()
    };
    let mut manifest = Manifest::for_stage(STAGE, inputs, cfg.semantic(), outputs, counts, started);
    manifest.summary = serde_json::json!({
        "items": audit.stats.items,
        "token_count_mean": audit.stats.token_count_mean,
        "token_count_max": audit.stats.token_count_max,
        "price_mean": audit.stats.price_mean,
        "single_token_prices": audit.price_facts.iter().map(|f| (f.tokenizer.clone(), f.single_token)).collect::<std::collections::BTreeMap<_, _>>(),
    });
    manifest.write(&cfg.out_dir)?;
    Ok((manifest, audit))
}

pub fn summary_line(m: &Manifest, out_dir: &Path) -> String {
    let s = &m.summary;
    format!(
        "audit: {} items, tokens mean {:.1} max {}, price mean ${:.2}; single-token prices {} in {:.1} s -> {}",
        obs::thousands(s["items"].as_u64().unwrap_or(0)),
        s["token_count_mean"].as_f64().unwrap_or(0.0),
        s["token_count_max"],
        s["price_mean"].as_f64().unwrap_or(0.0),
        s["single_token_prices"],
        m.wall_seconds,
        out_dir.join(REPORT).display()
    )
}
