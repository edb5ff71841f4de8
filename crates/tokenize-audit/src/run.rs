//! The audit stage: `items.art` (and the split's `test.art` when present) ->
//! `audit.json` (every figure) and `report.html` (charts and tables, self-contained).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Result;
use pricer_core::ahead::Ahead;
use pricer_core::artifact::ArtifactReader;
use pricer_core::atomic::write_atomic;
use pricer_core::jsonl::file_info;
use pricer_core::manifest::{Counts, InputRef, Manifest};
use pricer_core::stage::{Output, Plan, Stage};
use pricer_core::{obs, Item};
use pricer_tokenizer::{Encoder, EncoderChoice, LoadedTokenizer, TokenizerSource};
use rayon::prelude::*;
use serde::Serialize;

use crate::balance::{balance, Balance, Tally};
use crate::facts::{price_facts, prompt_tokens, tail, PriceFacts, PromptTokens, TailView};
use crate::stats::{price_histogram, Accumulator, ItemStats};
use crate::summary::RunSummary;

pub const STAGE: &str = "audit";
pub const REPORT: &str = "report.html";
pub const AUDIT_JSON: &str = "audit.json";
/// Prompts encoded with every compared tokenizer (the first N items).
pub const DEFAULT_COMPARE_SAMPLE: usize = 1000;
/// Test items whose prices the recipe's author looked at.
pub const TEST_HEAD: usize = 250;
/// The known answer of SPEC section 5, shown in every report.
pub const KNOWN_TAIL_TEXT: &str = " the manufacturer from\n\nPrice is $765.00";

/// The audit stage of a run.
#[derive(Debug, Clone)]
pub struct AuditStage {
    /// The prompt stage's folder (items.art).
    pub items_dir: PathBuf,
    /// The split folder, when the split has run (balancing charts, the test items'
    /// prices).
    pub split_dir: Option<PathBuf>,
    /// The ingest folder, for the run summary's counts and rejects (optional).
    pub ingest_dir: Option<PathBuf>,
    pub out_dir: PathBuf,
    pub recipe_name: String,
    pub recipe: Arc<LoadedTokenizer>,
    /// Other tokenizers, compared on the prompts (loaded from their compiled forms).
    pub compare: Vec<(String, PathBuf)>,
    pub compare_sample: usize,
    /// Items (by position) shown with their last 10 tokens.
    pub views: Vec<usize>,
    /// The compared tokenizers and their price facts, when a runner loaded them ahead of
    /// the run ([`Stage::warm_up`]).
    pub compared: Arc<Ahead<Result<Compared>>>,
    /// Link the run's evaluation (`../eval/report.html`) from the report's menu: the run
    /// has an eval stage.
    pub eval_link: bool,
}

/// Each compared tokenizer, loaded, with its price facts (which need no items).
pub type Compared = Vec<(String, LoadedTokenizer, PriceFacts)>;

impl AuditStage {
    /// Loads the compared tokenizers and their price facts on the stage's threads.
    fn load_compared(&self) -> Result<Compared> {
        self.compare
            .par_iter()
            .map(|(name, path)| load_one(name, path))
            .collect()
    }

    fn split_path(&self, name: &str) -> Option<PathBuf> {
        self.split_dir
            .as_ref()
            .map(|d| d.join(name))
            .filter(|p| p.is_file())
    }

    fn test_path(&self) -> Option<PathBuf> {
        self.split_path("test.art")
    }

    /// The upstream manifests the run summary comes from.
    fn run_summary(&self) -> RunSummary {
        let mut dirs: Vec<(&str, &Path)> = Vec::new();
        if let Some(d) = &self.ingest_dir {
            dirs.push(("ingest", d));
        }
        dirs.push(("prompt", &self.items_dir));
        if let Some(d) = &self.split_dir {
            dirs.push(("split", d));
        }
        crate::summary::read(&dirs)
    }
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
    /// Counts, rejects and settings of the stages before the audit.
    pub run: RunSummary,
    /// The items against the dataset, and train against test (when the split has run).
    pub balance: Option<Balance>,
}

/// The audit's view of a tokenizer: the fast encoder where exact, decoding as
/// `tokenizers` does (token pieces shown as they are, no clean-up).
fn encoder(tok: &LoadedTokenizer) -> Encoder<'_> {
    Encoder::new(tok, EncoderChoice::Fast, false)
}

fn load_one(name: &str, path: &Path) -> Result<(String, LoadedTokenizer, PriceFacts)> {
    let tok = pricer_tokenizer::load(&TokenizerSource::Path(path.to_owned()))?;
    let facts = price_facts(name, &encoder(&tok))?;
    Ok((name.to_owned(), tok, facts))
}

/// What the one pass over the items collects.
#[derive(Default)]
struct ItemsPass {
    acc: Accumulator,
    tally: Tally,
    sample: Vec<String>,
    views: Vec<(usize, TailView)>,
}

fn read_items(cfg: &AuditStage, recipe: &Encoder) -> Result<ItemsPass> {
    let mut pass = ItemsPass::default();
    let mut n = 0;
    for (pos, item) in ArtifactReader::<Item>::open(cfg.items_dir.join("items.art"))?.enumerate() {
        let item = item?;
        n = pos + 1;
        pass.acc.add(&item);
        pass.tally.add(&item);
        if pos < cfg.compare_sample {
            pass.sample.push(item.prompt.clone());
        }
        if cfg.views.contains(&pos) {
            pass.views.push((pos, tail(recipe, &item.prompt, 10)?));
        }
    }
    for past in cfg.views.iter().filter(|&&v| v >= n) {
        tracing::warn!(
            "[audit] items: item {past} is not shown: the run has {n} items (0 to {})",
            n.saturating_sub(1)
        );
    }
    Ok(pass)
}

/// The first test items' prices.
fn test_head(test: &Path) -> Result<TestHead> {
    let prices: Vec<f64> = ArtifactReader::<Item>::open(test)?
        .take(TEST_HEAD)
        .map(|i| i.map(|i| i.price))
        .collect::<Result<_, _>>()?;
    Ok(TestHead {
        items: prices.len(),
        mean_price: if prices.is_empty() {
            0.0
        } else {
            prices.iter().sum::<f64>() / prices.len() as f64
        },
        prices: price_histogram(&prices, 25.0),
    })
}

pub fn audit(cfg: &AuditStage) -> Result<(Audit, Vec<(f32, f32)>)> {
    let recipe = encoder(&cfg.recipe);
    // The pass over the items (one reader, one core) runs beside the loading of the
    // compared tokenizers and their price facts, which need no items (unless a runner
    // loaded them already, while the earlier stages ran).
    let (pass, compared) = rayon::join(
        || read_items(cfg, &recipe),
        || cfg.compared.take_or(|| cfg.load_compared()),
    );
    let (mut pass, compared) = (pass?, compared?);
    // Then the sample's token counts under every tokenizer, beside the split's passes.
    let prompt_counts = || -> Result<(PriceFacts, Vec<PromptTokens>)> {
        let sample = &pass.sample;
        let (recipe_facts, counts) = rayon::join(
            || price_facts(&cfg.recipe_name, &recipe),
            || {
                std::iter::once((&cfg.recipe_name, encoder(&cfg.recipe)))
                    .chain(compared.iter().map(|(name, tok, _)| (name, encoder(tok))))
                    .collect::<Vec<_>>()
                    .par_iter()
                    .map(|(name, enc)| prompt_tokens(name, enc, sample))
                    .collect::<Result<Vec<_>>>()
            },
        );
        Ok((recipe_facts?, counts?))
    };
    let tally = std::mem::take(&mut pass.tally);
    let split_passes = || -> Result<(Option<TestHead>, Option<Balance>)> {
        let head = cfg.test_path().map(|t| test_head(&t)).transpose()?;
        let bal = match (cfg.split_path("train.art"), cfg.test_path()) {
            (Some(train), Some(test)) => Some(balance(tally, &train, &test)?),
            _ => None,
        };
        Ok((head, bal))
    };
    let (counts, split) = rayon::join(prompt_counts, split_passes);
    let ((recipe_facts, all_tokens), (test_head, balance)) = (counts?, split?);
    let all_facts = std::iter::once(recipe_facts)
        .chain(compared.into_iter().map(|(_, _, facts)| facts))
        .collect();
    let audit = Audit {
        run: cfg.run_summary(),
        balance,
        recipe_tokenizer: cfg.recipe_name.clone(),
        price_facts: all_facts,
        prompt_tokens: all_tokens,
        known_tail: tail(&recipe, KNOWN_TAIL_TEXT, 10)?,
        item_views: pass.views,
        stats: pass.acc.finish(),
        test_head,
    };
    Ok((audit, std::mem::take(&mut pass.acc.points)))
}

impl Stage for AuditStage {
    fn name(&self) -> &str {
        STAGE
    }

    fn dir(&self) -> &Path {
        &self.out_dir
    }

    fn inputs(&self) -> Result<Vec<InputRef>> {
        let mut inputs = Vec::new();
        let items = self.items_dir.join("items.art");
        let split = [self.split_path("train.art"), self.test_path()];
        for path in std::iter::once(items).chain(split.into_iter().flatten()) {
            inputs.push(InputRef::of_artifact(&path)?);
        }
        // What the report's header prints from the upstream manifests.
        let up = serde_json::to_string(&self.run_summary())?;
        inputs.push(InputRef {
            path: "counts, rejects and settings of the upstream stages (manifests)".into(),
            digest: pricer_core::digest::bytes_digest(up.as_bytes()),
            bytes: up.len() as u64,
        });
        inputs.push(InputRef {
            path: self.recipe.path.display().to_string(),
            digest: self.recipe.digest.clone(),
            bytes: 0,
        });
        // The compared tokenizers by content: a changed file renews the comparison.
        for (_, path) in &self.compare {
            let (file, digest, bytes) =
                pricer_tokenizer::source::identify(&TokenizerSource::Path(path.clone()))?;
            inputs.push(InputRef {
                path: file.display().to_string(),
                digest,
                bytes,
            });
        }
        Ok(inputs)
    }

    fn config(&self) -> serde_json::Value {
        let mut c = serde_json::json!({
            "recipe_tokenizer": self.recipe_name,
            "compare": self.compare.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>(),
            "compare_sample": self.compare_sample,
            "views": self.views,
        });
        if self.eval_link {
            c["eval_link"] = true.into();
        }
        c
    }

    fn outputs(&self) -> Vec<Output> {
        vec![Output::File(AUDIT_JSON.into()), Output::File(REPORT.into())]
    }

    /// One after the other on the runner's one warm-up thread: beside a running stage,
    /// more threads would only take cores from it.
    fn warm_up(&self) {
        self.compared.warm(|| {
            self.compare
                .iter()
                .map(|(name, path)| load_one(name, path))
                .collect()
        });
    }

    fn run(&self, plan: &Plan) -> Result<Manifest> {
        let (audit, points) = audit(self)?;
        let json = serde_json::to_string_pretty(&audit)? + "\n";
        let report = crate::report::render(&audit, &points, self.eval_link);
        write_atomic(&self.out_dir.join(AUDIT_JSON), json.as_bytes())?;
        write_atomic(&self.out_dir.join(REPORT), report.as_bytes())?;
        let outputs = BTreeMap::from([
            (AUDIT_JSON.to_owned(), file_info(json.as_bytes())),
            (REPORT.to_owned(), file_info(report.as_bytes())),
        ]);
        let mut manifest = plan.manifest(outputs, Counts::all_kept(audit.stats.items));
        manifest.summary = serde_json::json!({
            "items": audit.stats.items,
            "token_count_mean": audit.stats.token_count_mean,
            "token_count_max": audit.stats.token_count_max,
            "price_mean": audit.stats.price_mean,
            "single_token_prices": audit.price_facts.iter().map(|f| (f.tokenizer.clone(), f.single_token)).collect::<BTreeMap<_, _>>(),
        });
        manifest.write(&self.out_dir)?;
        Ok(manifest)
    }

    fn summary(&self, m: &Manifest) -> String {
        let s = &m.summary;
        format!(
            "audit: {} items, tokens mean {:.1} max {}, price mean ${:.2}; single-token prices {} in {:.1} s -> {}",
            obs::thousands(s["items"].as_u64().unwrap_or(0)),
            s["token_count_mean"].as_f64().unwrap_or(0.0),
            s["token_count_max"],
            s["price_mean"].as_f64().unwrap_or(0.0),
            s["single_token_prices"],
            m.wall_seconds,
            self.out_dir.join(REPORT).display()
        )
    }
}
