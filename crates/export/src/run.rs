//! The export stage: a Hub-ready folder (`hub/`), the full items for Rust and Python
//! users (`items/`), and a manifest.
//!
//! ```text
//! export/
//!   hub/README.md                          dataset card
//!   hub/data/train-00000-of-00001.parquet  text: string, price: float64
//!   hub/data/test-00000-of-00001.parquet   (and validation when the split has one)
//!   items/train.art, items/test.art        full items, pricer's artifact format
//!   items/train.pkl, items/test.pkl        the seed's pickles of the course's Item objects
//!   items/items.parquet                    every item: category, title, price, prompt, token_count, details
//!   manifest.json
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use pricer_core::artifact::{header_info, ArtifactInfo, ArtifactReader};
use pricer_core::atomic::{copy_atomic, write_atomic};
use pricer_core::jsonl::FILE_KIND;
use pricer_core::manifest::{Counts, InputRef, Manifest};
use pricer_core::stage::{Output, Plan, Stage};
use pricer_core::{obs, Item};

use crate::card::{self, Provenance, SplitInfo};
use crate::hub::{write_split, Table};
use crate::parquet_out::{
    hub_columns, hub_schema, item_columns, items_schema, TableWriter, BATCH_ROWS,
};

pub const STAGE: &str = "export";
/// Largest Parquet shard, by the rows' in-memory size (as `datasets.push_to_hub`'s
/// `max_shard_size`); compressed files come out smaller.
pub const DEFAULT_MAX_SHARD_BYTES: u64 = 500 * 1000 * 1000;
/// Split names in the order the card lists them.
pub const SPLITS: [&str; 3] = ["train", "test", "validation"];
pub const HUB: &str = "hub";
pub const ITEMS: &str = "items";
/// The audit report, copied beside the card.
pub const REPORT: &str = "report.html";

/// The report as it sits beside the card: its link to the card points at README.md, and
/// the link to the run's evaluation, which is not published with it, is left out.
pub fn report_beside_card(report: &str) -> String {
    report
        .replacen(
            r#"id="card-link" href="../export/hub/README.md""#,
            r#"id="card-link" href="README.md""#,
            1,
        )
        .replacen(
            r#" · <a id="eval-link" href="../eval/report.html">Evaluation</a>"#,
            "",
            1,
        )
}

/// The export stage of a run.
#[derive(Debug, Clone)]
pub struct ExportStage {
    /// The split stage's folder (train.art, test.art, validation.art).
    pub split_dir: PathBuf,
    /// The prompt stage's folder (items.art), for the full items table.
    pub items_dir: PathBuf,
    /// The ingest stage's folder, for the card's source table (optional).
    pub ingest_dir: Option<PathBuf>,
    /// The audit stage's folder: its report.html goes beside the card (optional).
    pub audit_dir: Option<PathBuf>,
    pub out_dir: PathBuf,
    pub max_shard_bytes: u64,
    /// Also write `items/<split>.pkl`: the seed's `train.pkl` and `test.pkl`.
    pub pickles: bool,
}

impl ExportStage {
    /// The folders of a run made by `cargo xtask pipeline`.
    pub fn for_run(run: &Path) -> Self {
        ExportStage {
            split_dir: run.join("split"),
            items_dir: run.join("prompt"),
            ingest_dir: Some(run.join("ingest")),
            audit_dir: Some(run.join("audit")),
            out_dir: run.join("export"),
            max_shard_bytes: DEFAULT_MAX_SHARD_BYTES,
            pickles: true,
        }
    }

    /// The audit's report, when there is one.
    fn report(&self) -> Option<PathBuf> {
        self.audit_dir
            .as_ref()
            .map(|d| d.join(REPORT))
            .filter(|p| p.is_file())
    }

    /// The split artifacts to export, in card order: those the split stage's manifest
    /// lists (the files on disk when there is none).
    fn splits(&self) -> Result<Vec<(&'static str, PathBuf)>> {
        let listed = Manifest::read(&self.split_dir).ok().map(|m| m.outputs);
        let mut out = Vec::new();
        for split in SPLITS {
            let name = format!("{split}.art");
            let path = self.split_dir.join(&name);
            let present = match &listed {
                Some(outputs) => outputs.contains_key(&name),
                None => path.is_file(),
            };
            if present {
                out.push((split, path));
            } else {
                anyhow::ensure!(
                    split == "validation",
                    "{}: missing; run the split stage first",
                    path.display()
                );
            }
        }
        Ok(out)
    }
}

/// Recipe V1's Hub rows: the prompt (the test form for test and validation) and the price.
struct V1Rows {
    split: &'static str,
}

impl V1Rows {
    fn text(&self, item: &Item) -> String {
        if self.split == "train" {
            item.prompt.clone()
        } else {
            item.test_prompt()
        }
    }
}

impl Table for V1Rows {
    type Record = Item;

    fn features(&self) -> Vec<(&'static str, &'static str)> {
        vec![("text", "string"), ("price", "float64")]
    }

    fn schema(&self) -> arrow::datatypes::Schema {
        hub_schema()
    }

    fn row_bytes(&self, item: &Item) -> u64 {
        self.text(item).len() as u64 + 4 + 8
    }

    fn columns(&self, rows: &[Item]) -> Vec<arrow::array::ArrayRef> {
        let rows: Vec<(String, f64)> = rows.iter().map(|i| (self.text(i), i.price)).collect();
        hub_columns(&rows)
    }
}

/// A writer thread's result; a panic becomes an error.
fn joined<T>(h: std::thread::ScopedJoinHandle<'_, Result<T>>) -> Result<T> {
    h.join()
        .map_err(|_| anyhow::anyhow!("an export writer thread panicked"))?
}

fn write_items_table(src: &Path, dst: &Path) -> Result<(u64, BTreeMap<String, u64>)> {
    let mut w = TableWriter::create(dst, items_schema())?;
    let mut by_cat = BTreeMap::new();
    let mut n = 0;
    let mut batch = Vec::with_capacity(BATCH_ROWS);
    for item in ArtifactReader::<Item>::open(src)? {
        let item = item?;
        *by_cat.entry(item.category.clone()).or_insert(0) += 1;
        n += 1;
        batch.push(item);
        if batch.len() == BATCH_ROWS {
            w.write(item_columns(&batch))?;
            batch.clear();
        }
    }
    if !batch.is_empty() {
        w.write(item_columns(&batch))?;
    }
    w.finish()?;
    Ok((n, by_cat))
}

/// What the card prints of the stages before export: per-file counts (ingest), the
/// sample and the split settings (split), the tokenizer (prompt). It is part of export's
/// inputs, so a change upstream that leaves the artifacts alike still renews the card.
fn upstream(cfg: &ExportStage) -> serde_json::Value {
    let split_m = Manifest::read(&cfg.split_dir).ok();
    let prompt_m = Manifest::read(&cfg.items_dir).ok();
    let ingest_m = cfg
        .ingest_dir
        .as_deref()
        .and_then(|d| Manifest::read(d).ok());
    serde_json::json!({
        "sources": ingest_m
            .map(|m| m.per_file.iter().map(|f| (f.category.clone(), f.counts.rows_in, f.counts.kept)).collect::<Vec<_>>())
            .unwrap_or_default(),
        "sample": split_m.as_ref().map(|m| serde_json::json!({
            "items": m.summary["sample"],
            "mean_price": m.summary["sample_mean_price"],
            "by_category": m.summary["sample_by_category"],
        })),
        "split_config": split_m.map(|m| m.config).unwrap_or_default(),
        "tokenizer": prompt_m.and_then(|m| m.config["tokenizer"].as_str().map(str::to_owned)).unwrap_or_else(|| "unknown".into()),
    })
}

fn provenance(up: &serde_json::Value, items: u64, by_cat: BTreeMap<String, u64>) -> Provenance {
    Provenance {
        sources: serde_json::from_value(up["sources"].clone()).unwrap_or_default(),
        items_by_category: by_cat,
        items,
        sample: Some(up["sample"].clone()).filter(|v| !v.is_null()),
        split_config: up["split_config"].clone(),
        tokenizer: up["tokenizer"].as_str().unwrap_or("unknown").to_owned(),
        code_version: pricer_core::CODE_VERSION.into(),
        report: false,
    }
}

/// Items in the full table, and items per category.
type ItemsTable = (u64, BTreeMap<String, u64>);

/// Writes every output file side by side (each is independent of the others).
fn write_all(
    cfg: &ExportStage,
    splits: &[(&'static str, PathBuf)],
    items_src: &Path,
) -> Result<(Vec<SplitInfo>, ItemsTable)> {
    let hub = cfg.out_dir.join(HUB);
    let (splits, items_table) = std::thread::scope(|scope| {
        let hub_jobs: Vec<_> = splits
            .iter()
            .map(|(split, src)| {
                let hub = &hub;
                scope.spawn(move || -> Result<Option<SplitInfo>> {
                    let s = write_split(
                        &V1Rows { split },
                        split,
                        src,
                        hub,
                        cfg.max_shard_bytes,
                        None,
                    )?;
                    // Copied only after the hub writer has read it whole (and checked it).
                    let items = cfg.out_dir.join(ITEMS);
                    copy_atomic(src, &items.join(format!("{split}.art")))?;
                    if cfg.pickles {
                        crate::pickles::write_pickle(src, &items.join(format!("{split}.pkl")))?;
                    }
                    Ok(s)
                })
            })
            .collect();
        let items_job = scope.spawn(move || {
            write_items_table(items_src, &cfg.out_dir.join(ITEMS).join("items.parquet"))
        });
        let splits: Result<Vec<Option<SplitInfo>>> = hub_jobs.into_iter().map(joined).collect();
        let splits = splits.map(|s| s.into_iter().flatten().collect::<Vec<_>>());
        (splits, joined(items_job))
    });
    Ok((splits?, items_table?))
}

/// Every file under `out_dir/sub` (recursively, temporaries left out), by its path
/// relative to `out_dir`, with its digest.
pub fn files_under(out_dir: &Path, sub: &str) -> Result<BTreeMap<String, ArtifactInfo>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![out_dir.join(sub)];
    while let Some(dir) = stack.pop() {
        if !dir.is_dir() {
            continue;
        }
        for e in
            std::fs::read_dir(&dir).with_context(|| format!("{}: cannot list", dir.display()))?
        {
            let e = e.with_context(|| format!("{}: cannot list", dir.display()))?;
            let path = e.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if e.file_name()
                .to_string_lossy()
                .contains(pricer_core::atomic::TEMP_MARK)
            {
                continue;
            }
            let digest = pricer_core::digest::file_digest(&path)
                .with_context(|| format!("{}: cannot read", path.display()))?;
            let info = ArtifactInfo {
                record_type: FILE_KIND.into(),
                count: 0,
                digest,
                bytes: e
                    .metadata()
                    .with_context(|| format!("{}: cannot read", path.display()))?
                    .len(),
            };
            let rel = path.strip_prefix(out_dir).unwrap_or(&path);
            out.insert(rel.to_string_lossy().into_owned(), info);
        }
    }
    Ok(out)
}

impl Stage for ExportStage {
    fn name(&self) -> &str {
        STAGE
    }

    fn dir(&self) -> &Path {
        &self.out_dir
    }

    /// The split artifacts present, the items, and what the card prints of the stages
    /// before (by digest).
    fn inputs(&self) -> Result<Vec<InputRef>> {
        let items = self.items_dir.join("items.art");
        let splits: Vec<PathBuf> = self.splits()?.into_iter().map(|(_, p)| p).collect();
        let mut inputs = InputRef::of_some_records(&splits, STAGE)?;
        inputs.push(InputRef::of_artifact(&items)?);
        if let Some(report) = self.report() {
            inputs.push(InputRef {
                path: report.display().to_string(),
                digest: pricer_core::digest::file_digest(&report)
                    .with_context(|| format!("{}: cannot read", report.display()))?,
                bytes: std::fs::metadata(&report).map(|m| m.len()).unwrap_or(0),
            });
        }
        let up = upstream(self).to_string();
        inputs.push(InputRef {
            path: "settings the dataset card prints (ingest, split, prompt manifests)".into(),
            digest: pricer_core::digest::bytes_digest(up.as_bytes()),
            bytes: up.len() as u64,
        });
        Ok(inputs)
    }

    fn config(&self) -> serde_json::Value {
        serde_json::json!({"max_shard_bytes": self.max_shard_bytes, "pickles": self.pickles})
    }

    fn outputs(&self) -> Vec<Output> {
        vec![Output::Folder(HUB.into()), Output::Folder(ITEMS.into())]
    }

    fn run(&self, plan: &Plan) -> Result<Manifest> {
        // The stage owns these folders: what an earlier export left (shards of another
        // count, a validation split) must not outlive this run.
        for sub in [HUB, ITEMS] {
            let dir = self.out_dir.join(sub);
            if dir.exists() {
                std::fs::remove_dir_all(&dir)
                    .with_context(|| format!("{}: cannot clear", dir.display()))?;
            }
        }
        let sources = self.splits()?;
        let items_src = self.items_dir.join("items.art");
        let (splits, (items, by_cat)) = write_all(self, &sources, &items_src)?;
        for (s, (_, src)) in splits.iter().zip(&sources) {
            let want = header_info(src)?.count;
            anyhow::ensure!(s.rows == want, "{}: row counts disagree", s.name);
        }
        let report = self.report();
        if let Some(src) = &report {
            let text = std::fs::read_to_string(src)
                .with_context(|| format!("{}: cannot read", src.display()))?;
            write_atomic(
                &self.out_dir.join(HUB).join(REPORT),
                report_beside_card(&text).as_bytes(),
            )?;
        }
        let mut prov = provenance(&upstream(self), items, by_cat);
        prov.report = report.is_some();
        let card_text = card::render(&splits, &prov);
        write_atomic(
            &self.out_dir.join(HUB).join("README.md"),
            card_text.as_bytes(),
        )?;
        let rows_out: u64 = splits.iter().map(|s| s.rows).sum();
        let counts = Counts::all_kept(rows_out);
        let mut outputs = files_under(&self.out_dir, HUB)?;
        outputs.extend(files_under(&self.out_dir, ITEMS)?);
        let mut manifest = plan.manifest(outputs, counts);
        manifest.summary = serde_json::json!({
            "splits": splits.iter().map(|s| serde_json::json!({"name": s.name, "rows": s.rows, "files": s.files})).collect::<Vec<_>>(),
            "items": items,
        });
        manifest.threads = sources.len() + 1;
        manifest.write(&self.out_dir)?;
        Ok(manifest)
    }

    fn summary(&self, m: &Manifest) -> String {
        let splits: Vec<String> = m.summary["splits"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|s| {
                        format!(
                            "{} {}",
                            s["name"].as_str().unwrap_or("?"),
                            obs::thousands(s["rows"].as_u64().unwrap_or(0))
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        format!(
            "export: {} to {} ({} files) in {:.1} s; upload with: {}",
            splits.join(", "),
            self.out_dir.join(HUB).display(),
            m.outputs.len(),
            m.wall_seconds,
            upload_command(&self.out_dir)
        )
    }
}

/// The command that uploads the Hub folder with the Hub's own CLI.
pub fn upload_command(out_dir: &Path) -> String {
    format!(
        "huggingface-cli upload <user>/<dataset-name> {} . --repo-type dataset",
        out_dir.join("hub").display()
    )
}
