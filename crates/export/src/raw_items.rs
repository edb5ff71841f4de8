//! Recipe V2 part 1 published as the course publishes it: `items_raw_full/` and
//! `items_raw_lite/` (the first 20,000 / 1,000 / 1,000 of each split), Hub dataset
//! folders with columns title, category, price, full, weight and splits train /
//! validation / test.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use arrow::array::{ArrayRef, Float64Array, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use pricer_core::artifact::header_info;
use pricer_core::atomic::write_atomic;
use pricer_core::manifest::{Counts, InputRef, Manifest};
use pricer_core::stage::{Output, Plan, Stage};
use pricer_core::{obs, recipe_v2, RawItem};

use crate::card::SplitInfo;
use crate::hub::{write_split, yaml_header, Table, TERMS};
use crate::parquet_out::hf_features_metadata;

pub const STAGE: &str = "export";
pub const FULL: &str = "items_raw_full";
pub const LITE: &str = "items_raw_lite";
/// Splits in publishing order, with the curate stage's artifact of each.
pub const SPLITS: [(&str, &str); 3] = [
    ("train", "train.art"),
    ("validation", "validation.art"),
    ("test", "test.art"),
];

/// Sizes of the "lite" prefixes of train, validation and test.
pub const DEFAULT_LITE: [u64; 3] = [
    recipe_v2::LITE_TRAIN as u64,
    recipe_v2::LITE_VALIDATION as u64,
    recipe_v2::LITE_TEST as u64,
];

/// The items_raw table.
struct RawItems;

const FEATURES: [(&str, &str); 5] = [
    ("title", "string"),
    ("category", "string"),
    ("price", "float64"),
    ("full", "string"),
    ("weight", "float64"),
];

impl Table for RawItems {
    type Record = RawItem;

    fn features(&self) -> Vec<(&'static str, &'static str)> {
        FEATURES.to_vec()
    }

    fn schema(&self) -> Schema {
        let fields = FEATURES.iter().map(|(n, t)| {
            let dt = if *t == "string" {
                DataType::Utf8
            } else {
                DataType::Float64
            };
            Field::new(*n, dt, true)
        });
        let meta = [("huggingface".to_owned(), hf_features_metadata(&FEATURES))];
        Schema::new(fields.collect::<Vec<_>>()).with_metadata(meta.into_iter().collect())
    }

    fn row_bytes(&self, r: &RawItem) -> u64 {
        (r.title.len() + r.category.len() + r.full.len()) as u64 + 3 * 4 + 2 * 8
    }

    fn columns(&self, rows: &[RawItem]) -> Vec<ArrayRef> {
        let s = |f: fn(&RawItem) -> &str| -> ArrayRef {
            Arc::new(StringArray::from_iter_values(rows.iter().map(f)))
        };
        let x = |f: fn(&RawItem) -> f64| -> ArrayRef {
            Arc::new(Float64Array::from_iter_values(rows.iter().map(f)))
        };
        vec![
            s(|r| &r.title),
            s(|r| &r.category),
            x(|r| r.price),
            s(|r| &r.full),
            x(|r| r.weight),
        ]
    }
}

/// The export stage of a V2 run (part 1).
#[derive(Debug, Clone)]
pub struct RawItemsExport {
    /// The curate stage's folder (train.art, validation.art, test.art, manifest.json).
    pub curate_dir: PathBuf,
    pub out_dir: PathBuf,
    pub max_shard_bytes: u64,
    /// Sizes of the lite prefixes (train, validation, test).
    pub lite: [u64; 3],
    /// Write only `items_raw_lite/` (the curation kept only the lite prefixes).
    pub lite_only: bool,
}

impl RawItemsExport {
    fn folders(&self) -> Vec<(&'static str, bool)> {
        let mut out = vec![(LITE, true)];
        if !self.lite_only {
            out.insert(0, (FULL, false));
        }
        out
    }

    /// What the cards print of the curation: its settings and figures.
    fn curation(&self) -> Result<serde_json::Value> {
        let m = Manifest::read(&self.curate_dir).with_context(|| {
            format!("{}: run the curate stage first", self.curate_dir.display())
        })?;
        Ok(
            serde_json::json!({"config": m.config, "summary": m.summary, "ingest": m.inputs.first().map(|i| &i.digest)}),
        )
    }

    fn card(&self, name: &str, splits: &[SplitInfo], curation: &serde_json::Value) -> String {
        let mut b = yaml_header(
            &format!("Amazon product prices ({name}, pricer recipe v2)"),
            &["price-prediction", "amazon"],
            &FEATURES,
            splits,
        );
        b.push_str(&format!(
            "# {name}: Amazon products for price prediction (recipe v2)\n\n"
        ));
        b.push_str(
            "Products from the Amazon Reviews 2023 metadata, curated as the course's December 2025 recipe \
             (`items_raw`): each product's title, category, price, the text assembled from its title, \
             description, features and details, and its weight. Built with pricer, which reproduces the \
             recipe byte for byte.\n\n",
        );
        b.push_str("```python\nfrom datasets import load_dataset\nds = load_dataset(\"<user>/<this-dataset>\")\n```\n\n");
        b.push_str("## Splits\n\n| split | rows | files |\n|---|---|---|\n");
        for s in splits {
            b.push_str(&format!(
                "| {} | {} | {} |\n",
                s.name,
                s.rows,
                s.files.join(", ")
            ));
        }
        b.push_str(
            "\n## How it was made\n\n\
             1. Rows kept when the price is between $0.50 and $999.49, the details parse, and the text (title, \
             description and features as Python reprs, details as JSON, product codes removed) has at least \
             600 characters (cut to 4,000).\n\
             2. All items shuffled (Python `random`, seed below); the first item of each exact title kept, then \
             the first of each exact text.\n\
             3. A draw without replacement weighted by the squared min-max-scaled price times a per-category \
             factor (numpy's legacy generator), shuffled again, cut into train, validation and test.\n\n",
        );
        let s = &curation["summary"];
        b.push_str(&format!(
            "- Items after parsing: {}; after title dedupe: {}; after text dedupe: {}; drawn: {}\n",
            s["items_in"], s["after_title_dedupe"], s["after_full_dedupe"], s["sample"]
        ));
        b.push_str(&format!("- Curation settings: `{}`\n", curation["config"]));
        b.push_str(&format!(
            "- pricer version: {}\n\n",
            pricer_core::CODE_VERSION
        ));
        b.push_str(TERMS);
        b
    }
}

impl Stage for RawItemsExport {
    fn name(&self) -> &str {
        STAGE
    }

    fn dir(&self) -> &Path {
        &self.out_dir
    }

    /// The split artifacts, and what the cards print of the curation (by digest).
    fn inputs(&self) -> Result<Vec<InputRef>> {
        let mut inputs = Vec::new();
        for (_, file) in SPLITS {
            let path = self.curate_dir.join(file);
            let info = header_info(&path)?;
            inputs.push(InputRef {
                path: path.display().to_string(),
                digest: info.digest,
                bytes: info.bytes,
            });
        }
        let curation = self.curation()?.to_string();
        inputs.push(InputRef {
            path: format!(
                "{} (settings and figures)",
                Manifest::path_in(&self.curate_dir).display()
            ),
            digest: pricer_core::digest::bytes_digest(curation.as_bytes()),
            bytes: curation.len() as u64,
        });
        Ok(inputs)
    }

    fn config(&self) -> serde_json::Value {
        serde_json::json!({"max_shard_bytes": self.max_shard_bytes, "lite": self.lite, "lite_only": self.lite_only})
    }

    fn outputs(&self) -> Vec<Output> {
        self.folders()
            .into_iter()
            .map(|(f, _)| Output::Folder(f.into()))
            .collect()
    }

    fn run(&self, plan: &Plan) -> Result<Manifest> {
        let curation = self.curation()?;
        let mut outputs = BTreeMap::new();
        let mut summary = serde_json::Map::new();
        for (folder, lite) in self.folders() {
            let dir = self.out_dir.join(folder);
            if dir.exists() {
                std::fs::remove_dir_all(&dir)
                    .with_context(|| format!("{}: cannot clear", dir.display()))?;
            }
            let mut splits = Vec::new();
            for (k, (split, file)) in SPLITS.iter().enumerate() {
                let limit = lite.then_some(self.lite[k]);
                let src = self.curate_dir.join(file);
                splits.push(write_split(
                    &RawItems,
                    split,
                    &src,
                    &dir,
                    self.max_shard_bytes,
                    limit,
                )?);
            }
            write_atomic(
                &dir.join("README.md"),
                self.card(folder, &splits, &curation).as_bytes(),
            )?;
            outputs.extend(crate::run::files_under(&self.out_dir, folder)?);
            summary.insert(
                folder.into(),
                serde_json::json!(splits
                    .iter()
                    .map(|s| (s.name.clone(), s.rows))
                    .collect::<BTreeMap<_, _>>()),
            );
        }
        let rows: u64 = summary
            .values()
            .flat_map(|v| v.as_object().into_iter().flat_map(|o| o.values()))
            .filter_map(|v| v.as_u64())
            .sum();
        let mut manifest = plan.manifest(
            outputs,
            Counts {
                rows_in: rows,
                kept: rows,
                ..Counts::default()
            },
        );
        manifest.summary = serde_json::Value::Object(summary);
        manifest.write(&self.out_dir)?;
        Ok(manifest)
    }

    fn summary(&self, m: &Manifest) -> String {
        let folders: Vec<String> = m
            .summary
            .as_object()
            .into_iter()
            .flatten()
            .map(|(folder, splits)| {
                let splits: Vec<String> = SPLITS
                    .iter()
                    .map(|(s, _)| {
                        format!("{s} {}", obs::thousands(splits[*s].as_u64().unwrap_or(0)))
                    })
                    .collect();
                format!("{folder} ({})", splits.join(", "))
            })
            .collect();
        format!(
            "export: {} in {:.1} s -> {}; upload a folder with: huggingface-cli upload <user>/<name> {} . --repo-type dataset",
            folders.join(", "),
            m.wall_seconds,
            self.out_dir.display(),
            self.out_dir.join(LITE).display()
        )
    }
}
