//! The curate stage: `items_raw.art` -> `train.art`, `validation.art`, `test.art`
//! (+ `trace/`), `manifest.json`. Pass 1 keeps per-item keys; dedupe, draw and shuffles
//! decide each split item's rank; pass 2 (`pricer_core::reorder`) writes the splits.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use pricer_core::artifact::{ArtifactInfo, ArtifactWriter};
use pricer_core::manifest::{Counts, InputRef, Manifest};
use pricer_core::reorder::{reorder, NOT_SELECTED, WORK_PREFIX};
use pricer_core::stage::{Output, Plan, Stage};
use pricer_core::{obs, RawItem};
use pricer_pycompat::builtins::sum_floats_py312;
use serde_json::json;

use crate::config::CurateConfig;
use crate::dedupe::{dedupe, Pool};
use crate::draw::{draw, Draw};

use crate::keys::{read_keys, Keys};
use crate::trace;

pub const STAGE: &str = "curate";
pub const ITEMS_RAW: &str = "items_raw.art";
/// The split artifacts, in split order.
pub const SPLITS: [(&str, &str); 3] = [
    ("train", "train.art"),
    ("validation", "validation.art"),
    ("test", "test.art"),
];

/// The curate stage of a run.
#[derive(Debug, Clone)]
pub struct CurateStage {
    /// The ingest stage's folder (items_raw.art) or an items_raw.art file.
    pub input: PathBuf,
    pub out_dir: PathBuf,
    pub config: CurateConfig,
    /// Also write trace/ (order.json, weights.json, draw.json, dedup-titles.jsonl).
    pub trace: bool,
    /// How the user sets the knobs, for messages.
    pub knobs: pricer_core::knobs::Knobs,
}

impl CurateStage {
    pub fn items_path(&self) -> PathBuf {
        if self.input.is_dir() {
            self.input.join(ITEMS_RAW)
        } else {
            self.input.clone()
        }
    }

    /// Writes the splits (or their kept prefixes) in shuffled-sample order.
    fn write_splits(
        &self,
        pool: &Pool,
        d: &Draw,
        n: usize,
    ) -> Result<BTreeMap<String, ArtifactInfo>> {
        let mut dest = vec![NOT_SELECTED; n];
        let mut ranges = Vec::new();
        let mut rank = 0;
        for (name, r) in self.config.written() {
            ranges.push((name, rank..rank + r.len()));
            for &k in &d.shuffled[r] {
                dest[pool.pool[k] as usize] = rank as u32;
                rank += 1;
            }
        }
        let total = rank;
        let mut writers = SPLITS
            .iter()
            .map(|(_, file)| ArtifactWriter::<RawItem>::create(self.out_dir.join(file)))
            .collect::<Result<Vec<_>, _>>()?;
        let progress = obs::progress(Some(total as u64), "curate: splits");
        reorder::<RawItem>(
            &self.items_path(),
            &dest,
            total,
            &self.out_dir,
            |rank, item| {
                progress.inc(1);
                let s = ranges
                    .iter()
                    .position(|(_, r)| r.contains(&rank))
                    .context("a rank beyond the splits")?;
                writers[s].write(item)?;
                Ok(())
            },
        )?;
        progress.finish_and_clear();
        let mut out = BTreeMap::new();
        for ((_, file), w) in SPLITS.iter().zip(writers) {
            out.insert((*file).to_owned(), w.finish()?);
        }
        Ok(out)
    }
}

fn per_category<'a>(
    keys: &Keys,
    positions: impl Iterator<Item = &'a u32>,
) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for &p in positions {
        *out.entry(keys.category_of(p).to_owned()).or_insert(0) += 1;
    }
    out
}

/// The figures a user checks first (the reference's summary.json, where they agree).
fn summary(cfg: &CurateConfig, keys: &Keys, pool: &Pool, d: &Draw) -> serde_json::Value {
    let pos = |k: &usize| &pool.pool[*k];
    let mut splits = serde_json::Map::new();
    let mut means = serde_json::Map::new();
    for (name, r) in cfg.splits() {
        let idx = &d.shuffled[r];
        splits.insert(name.into(), json!(per_category(keys, idx.iter().map(pos))));
        // The course computes sum(prices) / len, and Python 3.12's sum compensates.
        let sum = sum_floats_py312(idx.iter().map(|k| keys.price[*pos(k) as usize]));
        means.insert(
            name.into(),
            if idx.is_empty() {
                json!(null)
            } else {
                json!(sum / idx.len() as f64)
            },
        );
    }
    json!({
        "items_in": keys.len(),
        "after_title_dedupe": pool.after_title.len(),
        "after_full_dedupe": pool.pool.len(),
        "pool_per_category": per_category(keys, pool.pool.iter()),
        "price_min": d.price_min,
        "price_max": d.price_max,
        "items_at_min_price": d.items_at_min_price,
        "zero_weight_items": d.zero_weight_items,
        "nonzero_weight_items": pool.pool.len() - d.zero_weight_items,
        "weight_sum": d.weight_sum,
        "draw_rounds": d.rounds.len(),
        "sample": d.drawn.len(),
        "sample_per_category": per_category(keys, d.drawn.iter().map(pos)),
        "split_per_category": splits,
        "mean_price": means,
    })
}

fn counts(keys: &Keys, pool: &Pool, d: &Draw, kept: usize) -> Counts {
    let n = keys.len();
    let reasons = [
        ("duplicate_title", n - pool.after_title.len()),
        ("duplicate_text", pool.after_title.len() - pool.pool.len()),
        ("not_drawn", pool.pool.len() - d.drawn.len()),
        ("beyond_written_splits", d.drawn.len() - kept),
    ];
    Counts {
        rows_in: n as u64,
        kept: kept as u64,
        rejected: (n - kept) as u64,
        rejected_by_reason: reasons
            .into_iter()
            .filter(|(_, k)| *k > 0)
            .map(|(r, k)| (r.to_owned(), k as u64))
            .collect(),
    }
}

impl Stage for CurateStage {
    fn name(&self) -> &str {
        STAGE
    }

    fn dir(&self) -> &Path {
        &self.out_dir
    }

    fn inputs(&self) -> Result<Vec<InputRef>> {
        Ok(vec![InputRef::of_records(&self.items_path(), STAGE)?])
    }

    fn config(&self) -> serde_json::Value {
        json!({"curate": self.config, "trace": self.trace})
    }

    fn outputs(&self) -> Vec<Output> {
        let mut out: Vec<Output> = SPLITS
            .iter()
            .map(|(_, f)| Output::File((*f).into()))
            .collect();
        if self.trace {
            out.push(Output::Folder(trace::DIR.into()));
        }
        out
    }

    fn temporaries(&self) -> Vec<&'static str> {
        vec![WORK_PREFIX]
    }

    fn run(&self, plan: &Plan) -> Result<Manifest> {
        self.config.validate().map_err(anyhow::Error::msg)?;
        let items = self.items_path();
        let (digests, keys) = read_keys(&items)?;
        let pool = dedupe(&digests, self.config.seed);
        drop(digests);
        let d = draw(&pool.pool, &keys, &self.config, self.knobs)
            .with_context(|| format!("weighted draw from {}", items.display()))?;
        pricer_core::atomic::create_dir(&self.out_dir)?;
        let mut outputs = BTreeMap::new();
        if self.trace {
            outputs.extend(trace::write_decisions(&self.out_dir, &pool, &d)?);
            let titles = trace::write_titles(&items, &self.out_dir, &pool, keys.len())?;
            outputs.insert(trace::TITLES.to_owned(), titles);
        }
        outputs.extend(self.write_splits(&pool, &d, keys.len())?);
        let kept: usize = self.config.written().iter().map(|(_, r)| r.len()).sum();
        let mut manifest = plan.manifest(outputs, counts(&keys, &pool, &d, kept));
        manifest.summary = summary(&self.config, &keys, &pool, &d);
        manifest.write(&self.out_dir)?;
        Ok(manifest)
    }

    fn summary(&self, m: &Manifest) -> String {
        let s = &m.summary;
        let n = |k: &str| obs::thousands(s[k].as_u64().unwrap_or(0));
        let split = |k: &str| {
            obs::thousands(
                s["split_per_category"][k]
                    .as_object()
                    .map_or(0, |o| o.values().filter_map(|v| v.as_u64()).sum()),
            )
        };
        format!(
            "curate: {} items -> {} after title dedupe -> {} after text dedupe -> sample {} ({} draw rounds, weights sum {}) -> train {}, validation {}, test {} in {:.1} s -> {}",
            n("items_in"),
            n("after_title_dedupe"),
            n("after_full_dedupe"),
            n("sample"),
            s["draw_rounds"],
            s["weight_sum"],
            split("train"),
            split("validation"),
            split("test"),
            m.wall_seconds,
            self.out_dir.display()
        )
    }
}
