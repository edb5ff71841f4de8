//! The export stage: a Hub-ready folder (`hub/`), the full items for Rust and Python
//! users (`items/`), and a manifest.
//!
//! ```text
//! export/
//!   hub/README.md                          dataset card
//!   hub/data/train-00000-of-00001.parquet  text: string, price: float64
//!   hub/data/test-00000-of-00001.parquet   (and validation when the split has one)
//!   items/train.art, items/test.art        full items, pricer's artifact format
//!   items/items.parquet                    every item: category, title, price, prompt, token_count
//!   manifest.json
//! ```

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use pricer_core::artifact::{header_info, verify, ArtifactReader};
use pricer_core::manifest::{fingerprint, Counts, InputRef, Manifest};
use pricer_core::{obs, Item};

use crate::card::{self, Provenance, SplitInfo};
use crate::parquet_out::{
    hub_columns, hub_schema, item_columns, items_schema, TableWriter, BATCH_ROWS,
};

pub const STAGE: &str = "export";
/// Largest Parquet shard, by the rows' in-memory size (as `datasets.push_to_hub`'s
/// `max_shard_size`); compressed files come out smaller.
pub const DEFAULT_MAX_SHARD_BYTES: u64 = 500 * 1000 * 1000;
/// Split names in the order the card lists them.
pub const SPLITS: [&str; 3] = ["train", "test", "validation"];

#[derive(Debug, Clone)]
pub struct ExportConfig {
    /// The split stage's folder (train.art, test.art, validation.art).
    pub split_dir: PathBuf,
    /// The prompt stage's folder (items.art), for the full items table.
    pub items_dir: PathBuf,
    /// The ingest stage's folder, for the card's source table (optional).
    pub ingest_dir: Option<PathBuf>,
    pub out_dir: PathBuf,
    pub max_shard_bytes: u64,
}

impl ExportConfig {
    /// The folders of a run made by `cargo xtask pipeline`.
    pub fn for_run(run: &Path) -> Self {
        ExportConfig {
            split_dir: run.join("split"),
            items_dir: run.join("prompt"),
            ingest_dir: Some(run.join("ingest")),
            out_dir: run.join("export"),
            max_shard_bytes: DEFAULT_MAX_SHARD_BYTES,
        }
    }

    pub fn semantic(&self) -> serde_json::Value {
        serde_json::json!({"max_shard_bytes": self.max_shard_bytes})
    }
}

/// The text a split's Hub row carries.
fn hub_text(split: &str, item: &Item) -> String {
    if split == "train" {
        item.prompt.clone()
    } else {
        item.test_prompt()
    }
}

/// Arrow in-memory bytes of `text: string, price: float64` rows (offsets, data, values).
fn arrow_bytes(rows: u64, text_bytes: u64) -> u64 {
    text_bytes + 4 * (rows + 1) + 8 * rows
}

fn write_hub_split(split: &str, src: &Path, hub: &Path, max_shard_bytes: u64) -> Result<SplitInfo> {
    // Pass 1: sizes, to name the shards `-0000i-of-0000N`.
    let (mut rows, mut text_bytes) = (0u64, 0u64);
    for item in ArtifactReader::<Item>::open(src)? {
        rows += 1;
        text_bytes += hub_text(split, &item?).len() as u64;
    }
    let num_bytes = arrow_bytes(rows, text_bytes);
    let shards = num_bytes.div_ceil(max_shard_bytes.max(1)).max(1);
    let per_shard = rows.div_ceil(shards).max(1);
    let mut files = Vec::new();
    let mut parquet_bytes = 0;
    let mut reader = ArtifactReader::<Item>::open(src)?;
    for shard in 0..shards {
        let name = format!("{split}-{shard:05}-of-{shards:05}.parquet");
        let mut w = TableWriter::create(&hub.join("data").join(&name), hub_schema())?;
        let mut left = per_shard.min(rows - shard * per_shard);
        while left > 0 {
            let take = left.min(BATCH_ROWS as u64) as usize;
            let mut batch = Vec::with_capacity(take);
            for item in reader.by_ref().take(take) {
                let item = item?;
                batch.push((hub_text(split, &item), item.price));
            }
            anyhow::ensure!(batch.len() == take, "{}: ended early", src.display());
            w.write(hub_columns(&batch))?;
            left -= take as u64;
        }
        parquet_bytes += w.finish()?;
        files.push(format!("data/{name}"));
    }
    anyhow::ensure!(
        reader.next().is_none(),
        "{}: more rows than counted",
        src.display()
    );
    Ok(SplitInfo {
        name: split.to_owned(),
        rows,
        num_bytes,
        files,
        parquet_bytes,
    })
}

/// A writer thread's result; a panic becomes an error.
fn joined<T>(h: std::thread::ScopedJoinHandle<'_, Result<T>>) -> Result<T> {
    h.join()
        .map_err(|_| anyhow::anyhow!("an export writer thread panicked"))?
}

/// Copies a verified artifact byte for byte (temp file + rename).
fn copy_artifact(src: &Path, dst: &Path) -> Result<()> {
    if let Some(dir) = dst.parent() {
        fs::create_dir_all(dir).with_context(|| format!("{}: cannot create", dir.display()))?;
    }
    let tmp = pricer_core::artifact::temp_path(dst);
    let copied = fs::copy(src, &tmp)
        .and_then(|_| pricer_core::artifact::sync_file(&fs::File::open(&tmp)?))
        .with_context(|| format!("{}: cannot copy {} there", tmp.display(), src.display()));
    if let Err(e) = copied {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    fs::rename(&tmp, dst)
        .with_context(|| format!("{}: cannot rename into place", dst.display()))?;
    pricer_core::artifact::sync_parent(dst);
    Ok(())
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

fn provenance(cfg: &ExportConfig, items: u64, by_cat: BTreeMap<String, u64>) -> Provenance {
    let split_m = Manifest::read(&cfg.split_dir).ok();
    let prompt_m = Manifest::read(&cfg.items_dir).ok();
    let ingest_m = cfg
        .ingest_dir
        .as_deref()
        .and_then(|d| Manifest::read(d).ok());
    Provenance {
        sources: ingest_m
            .map(|m| {
                m.per_file
                    .iter()
                    .map(|f| (f.category.clone(), f.counts.rows_in, f.counts.kept))
                    .collect()
            })
            .unwrap_or_default(),
        items_by_category: by_cat,
        items,
        sample: split_m.as_ref().map(|m| {
            serde_json::json!({
                "items": m.summary["sample"],
                "mean_price": m.summary["sample_mean_price"],
                "by_category": m.summary["sample_by_category"],
            })
        }),
        split_config: split_m.map(|m| m.config).unwrap_or_default(),
        tokenizer: prompt_m
            .and_then(|m| m.config["tokenizer"].as_str().map(str::to_owned))
            .unwrap_or_else(|| "unknown".into()),
        code_version: pricer_core::CODE_VERSION.into(),
    }
}

/// The artifacts export reads, in fingerprint order: the splits present, then the items.
fn input_paths(cfg: &ExportConfig) -> Result<Vec<(Option<&'static str>, PathBuf)>> {
    let mut out = Vec::new();
    for split in SPLITS {
        let src = cfg.split_dir.join(format!("{split}.art"));
        if src.is_file() {
            out.push((Some(split), src));
        } else {
            anyhow::ensure!(
                split == "validation",
                "{}: missing; run the split stage first",
                src.display()
            );
        }
    }
    out.push((None, cfg.items_dir.join("items.art")));
    Ok(out)
}

/// The fingerprint a run of `cfg` will have.
pub fn fingerprint_of(cfg: &ExportConfig) -> Result<String> {
    let mut digests = Vec::new();
    for (_, path) in input_paths(cfg)? {
        digests.push(verify(&path)?.digest);
    }
    let refs: Vec<&str> = digests.iter().map(String::as_str).collect();
    Ok(fingerprint(STAGE, &refs, &cfg.semantic()))
}

pub fn run(cfg: &ExportConfig) -> Result<Manifest> {
    let started = Instant::now();
    let _span = tracing::info_span!("export").entered();
    let hub = cfg.out_dir.join("hub");
    // Shards of an earlier export with another shard count must not linger.
    let data = hub.join("data");
    if data.is_dir() {
        fs::remove_dir_all(&data).with_context(|| format!("{}: cannot clear", data.display()))?;
    }
    let mut inputs = Vec::new();
    let mut sources = Vec::new();
    for split in SPLITS {
        let src = cfg.split_dir.join(format!("{split}.art"));
        if !src.is_file() {
            anyhow::ensure!(
                split == "validation",
                "{}: missing; run the split stage first",
                src.display()
            );
            continue;
        }
        // Read whole by the hub writer, whose reader checks the body at the end; the
        // copy into items/ is made only after that.
        let info = header_info(&src)?;
        inputs.push(InputRef {
            path: src.display().to_string(),
            digest: info.digest.clone(),
            bytes: info.bytes,
        });
        sources.push((split, src, info.count));
    }
    let items_src = cfg.items_dir.join("items.art");
    let info = header_info(&items_src)?;
    inputs.push(InputRef {
        path: items_src.display().to_string(),
        digest: info.digest.clone(),
        bytes: info.bytes,
    });
    // Every output file is independent of the others: write them side by side.
    let jobs = sources.len() + 1;
    let (splits, items_table) = std::thread::scope(|scope| {
        let hub_jobs: Vec<_> = sources
            .iter()
            .map(|(split, src, _)| {
                let hub = &hub;
                scope.spawn(move || -> Result<SplitInfo> {
                    let s = write_hub_split(split, src, hub, cfg.max_shard_bytes)?;
                    copy_artifact(src, &cfg.out_dir.join("items").join(format!("{split}.art")))?;
                    Ok(s)
                })
            })
            .collect();
        let items_src = &items_src;
        let items_job = scope
            .spawn(move || write_items_table(items_src, &cfg.out_dir.join("items/items.parquet")));
        let splits: Result<Vec<SplitInfo>> = hub_jobs.into_iter().map(joined).collect();
        (splits, joined(items_job))
    });
    let splits = splits?;
    for (s, (_, _, count)) in splits.iter().zip(&sources) {
        anyhow::ensure!(s.rows == *count, "{}: row counts disagree", s.name);
    }
    let rows_out: u64 = splits.iter().map(|s| s.rows).sum();
    let (items, by_cat) = items_table?;
    let mut outputs = BTreeMap::new();

    let card_text = card::render(&splits, &provenance(cfg, items, by_cat));
    let card_path = hub.join("README.md");
    let tmp = pricer_core::artifact::temp_path(&card_path);
    fs::write(&tmp, &card_text).with_context(|| format!("{}: cannot write", tmp.display()))?;
    fs::rename(&tmp, &card_path)?;

    for rel in hub_files(&cfg.out_dir)? {
        let path = cfg.out_dir.join(&rel);
        let bytes = fs::metadata(&path)?.len();
        let digest = pricer_core::digest::file_digest(&path)?;
        outputs.insert(
            rel,
            pricer_core::ArtifactInfo {
                record_type: "file".into(),
                count: 0,
                digest,
                bytes,
            },
        );
    }
    let config = cfg.semantic();
    let counts = Counts {
        rows_in: rows_out,
        kept: rows_out,
        ..Counts::default()
    };
    let mut manifest = Manifest::for_stage(STAGE, inputs, config, outputs, counts, started);
    manifest.summary = serde_json::json!({
        "splits": splits.iter().map(|s| serde_json::json!({"name": s.name, "rows": s.rows, "files": s.files})).collect::<Vec<_>>(),
        "items": items,
    });
    manifest.threads = jobs;
    manifest.write(&cfg.out_dir)?;
    Ok(manifest)
}

/// Every file export wrote, relative to its folder, sorted.
pub fn hub_files(out_dir: &Path) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for sub in ["hub", "hub/data", "items"] {
        let dir = out_dir.join(sub);
        if !dir.is_dir() {
            continue;
        }
        for e in fs::read_dir(&dir)? {
            let e = e?;
            if e.file_type()?.is_file() && !e.file_name().to_string_lossy().contains(".tmp-") {
                out.push(format!("{sub}/{}", e.file_name().to_string_lossy()));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// The command that uploads the Hub folder with the Hub's own CLI.
pub fn upload_command(out_dir: &Path) -> String {
    format!(
        "huggingface-cli upload <user>/<dataset-name> {} . --repo-type dataset",
        out_dir.join("hub").display()
    )
}

pub fn summary_line(m: &Manifest, out_dir: &Path) -> String {
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
        out_dir.join("hub").display(),
        m.outputs.len(),
        m.wall_seconds,
        upload_command(out_dir)
    )
}
