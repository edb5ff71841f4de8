//! The audit of recipe V2's prompts (part 3): how many tokens a training example takes
//! (prompt + completion, the figure that decides a fine-tuning run's sequence length),
//! how long the summaries were and how many were cut, and the prices, per split.
//! Writes `audit.json` and a self-contained `report.html`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Result;
use pricer_core::artifact::ArtifactReader;
use pricer_core::atomic::write_atomic;
use pricer_core::jsonl::file_info;
use pricer_core::manifest::{Counts, InputRef, Manifest};
use pricer_core::stage::{Output, Plan, Stage};
use pricer_core::{obs, PromptPair};
use serde::Serialize;

use crate::run::{AUDIT_JSON, REPORT, STAGE};
use crate::stats::{price_histogram, Histogram};
use crate::svg;

/// The prompts stage's splits, in order.
pub const SPLITS: [&str; 3] = ["train", "val", "test"];

/// Figures of one split.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SplitFigures {
    pub split: String,
    pub items: u64,
    pub cut: u64,
    pub prompt_completion_tokens_mean: f64,
    pub prompt_completion_tokens_max: u32,
    pub prompt_completion_tokens: Histogram,
    pub summary_tokens_mean: f64,
    pub summary_tokens: Histogram,
    pub price_mean: f64,
    pub prices: Histogram,
}

fn histogram(counts: &BTreeMap<u32, u64>, width: u32) -> Histogram {
    let mut bins: BTreeMap<u32, u64> = BTreeMap::new();
    for (&v, &n) in counts {
        *bins.entry(v / width * width).or_default() += n;
    }
    let (Some(&lo), Some(&hi)) = (bins.keys().next(), bins.keys().next_back()) else {
        return Histogram::default();
    };
    Histogram {
        bins: (lo..=hi)
            .step_by(width as usize)
            .map(|b| {
                (
                    f64::from(b),
                    f64::from(b + width),
                    bins.get(&b).copied().unwrap_or(0),
                )
            })
            .collect(),
    }
}

fn figures(split: &str, path: &Path) -> Result<SplitFigures> {
    let mut pc: BTreeMap<u32, u64> = BTreeMap::new();
    let mut st: BTreeMap<u32, u64> = BTreeMap::new();
    let mut prices = Vec::new();
    let (mut n, mut cut, mut pc_sum, mut st_sum, mut pc_max) = (0u64, 0u64, 0u64, 0u64, 0u32);
    for p in ArtifactReader::<PromptPair>::open(path)? {
        let p = p?;
        n += 1;
        cut += u64::from(p.cut);
        pc_sum += u64::from(p.prompt_completion_tokens);
        st_sum += u64::from(p.summary_tokens);
        pc_max = pc_max.max(p.prompt_completion_tokens);
        *pc.entry(p.prompt_completion_tokens).or_default() += 1;
        *st.entry(p.summary_tokens).or_default() += 1;
        prices.push(p.price);
    }
    let mean = |s: f64| if n == 0 { 0.0 } else { s / n as f64 };
    Ok(SplitFigures {
        split: split.to_owned(),
        items: n,
        cut,
        prompt_completion_tokens_mean: mean(pc_sum as f64),
        prompt_completion_tokens_max: pc_max,
        prompt_completion_tokens: histogram(&pc, 5),
        summary_tokens_mean: mean(st_sum as f64),
        summary_tokens: histogram(&st, 10),
        price_mean: mean(prices.iter().sum()),
        prices: price_histogram(&prices, 25.0),
    })
}

/// The V2 audit stage of a run.
#[derive(Debug, Clone)]
pub struct V2AuditStage {
    /// The prompts stage's folder (train.art, val.art, test.art).
    pub prompts_dir: PathBuf,
    pub out_dir: PathBuf,
    /// Link the run's evaluation (`../eval/report.html`): the run has an eval stage.
    pub eval_link: bool,
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The link to the run's evaluation, under the title.
const EVAL_NAV: &str = "<nav><a id=\"eval-link\" href=\"../eval/report.html\">Evaluation</a></nav>";

/// The report: per split, the token and price distributions, with their numbers.
pub fn render(splits: &[SplitFigures]) -> String {
    let mut h = String::from(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>pricer audit (recipe v2)</title><style>\
         body{font-family:sans-serif;max-width:1500px;margin:24px auto;padding:0 16px;color:#222}\
         table{border-collapse:collapse;margin:8px 0 20px}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}\
         th{background:#f4f4f4}.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(480px,1fr));gap:16px}\
         .chart{border:1px solid #ddd;max-width:100%;height:auto}</style></head><body>",
    );
    h.push_str("<h1>pricer audit (recipe v2): prompts</h1><table><tr><th>split</th><th>items</th><th>summaries cut to the limit</th>\
                <th>prompt + completion tokens, mean</th><th>max</th><th>summary tokens, mean</th><th>price mean</th></tr>");
    for s in splits {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{:.1}</td><td>{}</td><td>{:.1}</td><td>${:.2}</td></tr>",
            esc(&s.split),
            s.items,
            s.cut,
            s.prompt_completion_tokens_mean,
            s.prompt_completion_tokens_max,
            s.summary_tokens_mean,
            s.price_mean
        );
    }
    h.push_str("</table><div class=\"charts\">");
    for (i, s) in splits.iter().enumerate() {
        h.push_str(&svg::histogram(
            &format!("chart-pc-tokens-{}", s.split),
            &format!("Tokens of prompt + completion ({})", s.split),
            "tokens (Llama 3)",
            "items",
            &s.prompt_completion_tokens.bins,
            svg::PALETTE[i % svg::PALETTE.len()],
        ));
        h.push_str(&svg::histogram(
            &format!("chart-prices-{}", s.split),
            &format!("Prices ({})", s.split),
            "price ($, bins of $25)",
            "items",
            &s.prices.bins,
            svg::PALETTE[(i + 3) % svg::PALETTE.len()],
        ));
    }
    h.push_str("</div></body></html>\n");
    h
}

impl Stage for V2AuditStage {
    fn name(&self) -> &str {
        STAGE
    }

    fn dir(&self) -> &Path {
        &self.out_dir
    }

    fn inputs(&self) -> Result<Vec<InputRef>> {
        let paths: Vec<PathBuf> = SPLITS
            .iter()
            .map(|s| self.prompts_dir.join(format!("{s}.art")))
            .collect();
        InputRef::of_some_records(&paths, self.name())
    }

    fn config(&self) -> serde_json::Value {
        let mut c = serde_json::json!({"recipe": "v2"});
        if self.eval_link {
            c["eval_link"] = true.into();
        }
        c
    }

    fn outputs(&self) -> Vec<Output> {
        vec![Output::File(AUDIT_JSON.into()), Output::File(REPORT.into())]
    }

    fn run(&self, plan: &Plan) -> Result<Manifest> {
        let splits: Vec<SplitFigures> = SPLITS
            .iter()
            .map(|s| figures(s, &self.prompts_dir.join(format!("{s}.art"))))
            .collect::<Result<_>>()?;
        let json = serde_json::to_string_pretty(&serde_json::json!({"splits": splits}))? + "\n";
        let mut report = render(&splits);
        if self.eval_link {
            let at = report.find("</h1>").map_or(0, |i| i + "</h1>".len());
            report.insert_str(at, EVAL_NAV);
        }
        write_atomic(&self.out_dir.join(AUDIT_JSON), json.as_bytes())?;
        write_atomic(&self.out_dir.join(REPORT), report.as_bytes())?;
        let outputs = BTreeMap::from([
            (AUDIT_JSON.to_owned(), file_info(json.as_bytes())),
            (REPORT.to_owned(), file_info(report.as_bytes())),
        ]);
        let n: u64 = splits.iter().map(|s| s.items).sum();
        let mut m = plan.manifest(outputs, Counts::all_kept(n));
        m.summary = serde_json::json!(splits
            .iter()
            .map(|s| (s.split.clone(), serde_json::json!({"items": s.items, "cut": s.cut, "prompt_completion_tokens_mean": s.prompt_completion_tokens_mean, "prompt_completion_tokens_max": s.prompt_completion_tokens_max})))
            .collect::<serde_json::Map<_, _>>());
        m.write(&self.out_dir)?;
        Ok(m)
    }

    fn summary(&self, m: &Manifest) -> String {
        let parts: Vec<String> = SPLITS
            .iter()
            .map(|s| {
                let f = &m.summary[*s];
                format!(
                    "{s} {} (prompt + completion tokens mean {:.1}, max {})",
                    obs::thousands(f["items"].as_u64().unwrap_or(0)),
                    f["prompt_completion_tokens_mean"].as_f64().unwrap_or(0.0),
                    f["prompt_completion_tokens_max"]
                )
            })
            .collect();
        format!(
            "audit: {} in {:.1} s -> {}",
            parts.join(", "),
            m.wall_seconds,
            self.out_dir.join(REPORT).display()
        )
    }
}
