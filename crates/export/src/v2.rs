//! Recipe V2 published as the course publishes it, one Hub dataset folder per part, each
//! in full and "lite" (the first 20,000 / 1,000 / 1,000 of each split):
//!
//! - `items_raw_full/`, `items_raw_lite/` (part 1): title, category, price, full, weight;
//!   splits train / validation / test;
//! - `items_full/`, `items_lite/` (part 2): the same and the LLM's summary;
//! - `items_prompts_full/`, `items_prompts_lite/` (part 3): prompt, completion (the shape
//!   TRL's SFTTrainer reads); splits train / val / test.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use arrow::array::{ArrayRef, Float64Array, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use pricer_core::artifact::header_info;
use pricer_core::artifact::Record;
use pricer_core::atomic::write_atomic;
use pricer_core::manifest::{Counts, InputRef, Manifest};
use pricer_core::stage::{Output, Plan, Stage};
use pricer_core::{obs, recipe_v2, PromptPair, RawItem, SummarizedItem};

use crate::card::SplitInfo;
use crate::hub::{write_split, yaml_header, Table, TERMS};
use crate::parquet_out::hf_features_metadata;

pub const STAGE: &str = "export";
/// Splits of parts 1 and 2 in publishing order, with the artifact of each.
pub const SPLITS: [(&str, &str); 3] = [
    ("train", "train.art"),
    ("validation", "validation.art"),
    ("test", "test.art"),
];
/// Part 3 names its validation split `val`, as the course does.
pub const PROMPT_SPLITS: [(&str, &str); 3] = [
    ("train", "train.art"),
    ("val", "val.art"),
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

const SUMMARIZED: [(&str, &str); 6] = [
    ("title", "string"),
    ("category", "string"),
    ("price", "float64"),
    ("full", "string"),
    ("weight", "float64"),
    ("summary", "string"),
];

fn schema_of(features: &[(&str, &str)]) -> Schema {
    let fields = features.iter().map(|(n, t)| {
        let dt = if *t == "string" {
            DataType::Utf8
        } else {
            DataType::Float64
        };
        Field::new(*n, dt, true)
    });
    let meta = [("huggingface".to_owned(), hf_features_metadata(features))];
    Schema::new(fields.collect::<Vec<_>>()).with_metadata(meta.into_iter().collect())
}

/// The items_full table (part 2).
struct Summarized;

impl Table for Summarized {
    type Record = SummarizedItem;

    fn features(&self) -> Vec<(&'static str, &'static str)> {
        SUMMARIZED.to_vec()
    }

    fn schema(&self) -> Schema {
        schema_of(&SUMMARIZED)
    }

    fn row_bytes(&self, r: &SummarizedItem) -> u64 {
        (r.title.len() + r.category.len() + r.full.len() + r.summary.len()) as u64 + 4 * 4 + 2 * 8
    }

    fn columns(&self, rows: &[SummarizedItem]) -> Vec<ArrayRef> {
        let s = |f: fn(&SummarizedItem) -> &str| -> ArrayRef {
            Arc::new(StringArray::from_iter_values(rows.iter().map(f)))
        };
        let x = |f: fn(&SummarizedItem) -> f64| -> ArrayRef {
            Arc::new(Float64Array::from_iter_values(rows.iter().map(f)))
        };
        vec![
            s(|r| &r.title),
            s(|r| &r.category),
            x(|r| r.price),
            s(|r| &r.full),
            x(|r| r.weight),
            s(|r| &r.summary),
        ]
    }
}

const PROMPTS: [(&str, &str); 2] = [("prompt", "string"), ("completion", "string")];

/// The items_prompts table (part 3).
struct Prompts;

impl Table for Prompts {
    type Record = PromptPair;

    fn features(&self) -> Vec<(&'static str, &'static str)> {
        PROMPTS.to_vec()
    }

    fn schema(&self) -> Schema {
        schema_of(&PROMPTS)
    }

    fn row_bytes(&self, r: &PromptPair) -> u64 {
        (r.prompt.len() + r.completion.len()) as u64 + 2 * 4
    }

    fn columns(&self, rows: &[PromptPair]) -> Vec<ArrayRef> {
        let s = |f: fn(&PromptPair) -> &str| -> ArrayRef {
            Arc::new(StringArray::from_iter_values(rows.iter().map(f)))
        };
        vec![s(|r| &r.prompt), s(|r| &r.completion)]
    }
}

/// One part of the recipe to publish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// items_raw (curate's splits).
    Raw,
    /// items (summarize's splits).
    Summarized,
    /// items_prompts (the prompts stage's splits).
    Prompts,
}

impl Part {
    /// Every part, in publishing order.
    pub const ALL: [Part; 3] = [Part::Raw, Part::Summarized, Part::Prompts];

    /// The stage whose folder holds this part's splits (its manifest names it).
    pub fn stage(self) -> &'static str {
        match self {
            Part::Raw => "curate",
            Part::Summarized => "summarize",
            Part::Prompts => "prompts",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Part::Raw => "items_raw",
            Part::Summarized => "items",
            Part::Prompts => "items_prompts",
        }
    }

    fn splits(self) -> [(&'static str, &'static str); 3] {
        match self {
            Part::Prompts => PROMPT_SPLITS,
            _ => SPLITS,
        }
    }

    fn features(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Part::Raw => &FEATURES,
            Part::Summarized => &SUMMARIZED,
            Part::Prompts => &PROMPTS,
        }
    }

    fn about(self) -> &'static str {
        match self {
            Part::Raw => "each product's title, category, price, the text assembled from its title, description, \
                          features and details (`full`), and its weight",
            Part::Summarized => "each product's title, category, price, text and weight as in items_raw, and `summary`: \
                                 the text rewritten by an LLM into five short lines (title, category, brand, \
                                 description, details)",
            Part::Prompts => "prompt/completion pairs for supervised fine-tuning (the shape TRL's SFTTrainer reads): the \
                              summary cut to 110 Llama 3 tokens framed as a question, and the price as the completion \
                              (rounded to whole dollars for train and val, exact for test)",
        }
    }
}

/// The export stage of a V2 run: every part whose stage ran, in full and lite.
#[derive(Debug, Clone)]
pub struct V2Export {
    /// (part, the folder of the stage that made it), in publishing order.
    pub parts: Vec<(Part, PathBuf)>,
    pub out_dir: PathBuf,
    pub max_shard_bytes: u64,
    /// Sizes of the lite prefixes (train, validation, test).
    pub lite: [u64; 3],
    /// Write only the lite folders (the curation kept only the lite prefixes).
    pub lite_only: bool,
}

impl V2Export {
    /// (folder name, part, source folder, lite) for every folder this run writes.
    fn folders(&self) -> Vec<(String, Part, &Path, bool)> {
        let mut out = Vec::new();
        for (part, dir) in &self.parts {
            if !self.lite_only {
                out.push((format!("{}_full", part.name()), *part, dir.as_path(), false));
            }
            out.push((format!("{}_lite", part.name()), *part, dir.as_path(), true));
        }
        out
    }

    /// What the cards print of the stages that made the parts: settings and figures.
    fn provenance(&self) -> Result<serde_json::Value> {
        let mut out = serde_json::Map::new();
        for (part, dir) in &self.parts {
            let m = Manifest::read(dir)
                .with_context(|| format!("{}: run its stage first", dir.display()))?;
            out.insert(
                part.name().into(),
                serde_json::json!({"stage": m.stage, "config": m.config, "summary": m.summary}),
            );
        }
        Ok(serde_json::Value::Object(out))
    }

    fn card(
        &self,
        name: &str,
        part: Part,
        splits: &[SplitInfo],
        prov: &serde_json::Value,
    ) -> String {
        let mut b = yaml_header(
            &format!("Amazon product prices ({name}, pricer recipe v2)"),
            &["price-prediction", "amazon"],
            part.features(),
            splits,
        );
        b.push_str(&format!(
            "# {name}: Amazon products for price prediction (recipe v2)\n\n"
        ));
        b.push_str(&format!(
            "Products from the Amazon Reviews 2023 metadata, made as the course's December 2025 recipe: {}. \
             Built with pricer, which reproduces the recipe's deterministic parts byte for byte.\n\n",
            part.about()
        ));
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
             2. All items shuffled (Python `random`, seeded); the first item of each exact title kept, then \
             the first of each exact text.\n\
             3. A draw without replacement weighted by the squared min-max-scaled price times a per-category \
             factor (numpy's legacy generator), shuffled again, cut into train, validation and test.\n",
        );
        if part != Part::Raw {
            b.push_str("4. Each text rewritten by an LLM into a five-line summary (the model and settings below).\n");
        }
        if part == Part::Prompts {
            b.push_str("5. Each summary cut to 110 tokens (Llama 3 tokenizer), framed as the question \"What does this cost to the nearest dollar?\" and \"Price is $\".\n");
        }
        b.push('\n');
        for (k, v) in prov.as_object().into_iter().flatten() {
            b.push_str(&format!(
                "- {k} ({} stage): settings `{}`; figures `{}`\n",
                v["stage"].as_str().unwrap_or("?"),
                v["config"],
                v["summary"]
            ));
        }
        b.push_str(&format!(
            "- pricer version: {}\n\n",
            pricer_core::CODE_VERSION
        ));
        b.push_str(TERMS);
        b
    }

    fn write_part<T: Table>(
        &self,
        table: &T,
        part: Part,
        src: &Path,
        dir: &Path,
        lite: bool,
    ) -> Result<Vec<SplitInfo>>
    where
        T::Record: Record,
    {
        let mut splits = Vec::new();
        for (k, (split, file)) in part.splits().iter().enumerate() {
            let limit = lite.then_some(self.lite[k]);
            splits.push(write_split(
                table,
                split,
                &src.join(file),
                dir,
                self.max_shard_bytes,
                limit,
            )?);
        }
        Ok(splits)
    }
}

impl Stage for V2Export {
    fn name(&self) -> &str {
        STAGE
    }

    fn dir(&self) -> &Path {
        &self.out_dir
    }

    /// Every part's split artifacts, and what the cards print of their stages (by digest).
    fn inputs(&self) -> Result<Vec<InputRef>> {
        let mut inputs = Vec::new();
        for (part, dir) in &self.parts {
            for (_, file) in part.splits() {
                let path = dir.join(file);
                let info = header_info(&path)?;
                inputs.push(InputRef {
                    path: path.display().to_string(),
                    digest: info.digest,
                    bytes: info.bytes,
                });
            }
        }
        let prov = self.provenance()?.to_string();
        inputs.push(InputRef {
            path: "settings and figures of the stages that made the parts".into(),
            digest: pricer_core::digest::bytes_digest(prov.as_bytes()),
            bytes: prov.len() as u64,
        });
        Ok(inputs)
    }

    fn config(&self) -> serde_json::Value {
        serde_json::json!({
            "parts": self.parts.iter().map(|(p, _)| p.name()).collect::<Vec<_>>(),
            "max_shard_bytes": self.max_shard_bytes,
            "lite": self.lite,
            "lite_only": self.lite_only,
        })
    }

    fn outputs(&self) -> Vec<Output> {
        self.folders()
            .into_iter()
            .map(|(f, ..)| Output::Folder(f))
            .collect()
    }

    fn run(&self, plan: &Plan) -> Result<Manifest> {
        let prov = self.provenance()?;
        let mut outputs = BTreeMap::new();
        let mut summary = serde_json::Map::new();
        for (folder, part, src, lite) in self.folders() {
            let dir = self.out_dir.join(&folder);
            if dir.exists() {
                std::fs::remove_dir_all(&dir)
                    .with_context(|| format!("{}: cannot clear", dir.display()))?;
            }
            let splits = match part {
                Part::Raw => self.write_part(&RawItems, part, src, &dir, lite)?,
                Part::Summarized => self.write_part(&Summarized, part, src, &dir, lite)?,
                Part::Prompts => self.write_part(&Prompts, part, src, &dir, lite)?,
            };
            write_atomic(
                &dir.join("README.md"),
                self.card(&folder, part, &splits, &prov).as_bytes(),
            )?;
            outputs.extend(crate::run::files_under(&self.out_dir, &folder)?);
            let rows: Vec<serde_json::Value> = splits
                .iter()
                .map(|s| serde_json::json!([s.name, s.rows]))
                .collect();
            summary.insert(folder, serde_json::Value::Array(rows));
        }
        let rows: u64 = summary
            .values()
            .flat_map(|v| v.as_array().into_iter().flatten())
            .filter_map(|r| r[1].as_u64())
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
        let folders: Vec<String> = self
            .folders()
            .into_iter()
            .map(|(folder, ..)| {
                let splits: Vec<String> = m.summary[&folder]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|r| {
                        format!(
                            "{} {}",
                            r[0].as_str().unwrap_or("?"),
                            obs::thousands(r[1].as_u64().unwrap_or(0))
                        )
                    })
                    .collect();
                format!("{folder} ({})", splits.join(", "))
            })
            .collect();
        format!(
            "export: {} in {:.1} s -> {}; upload a folder with: huggingface-cli upload <user>/<name> {}/<folder> . --repo-type dataset",
            folders.join(", "),
            m.wall_seconds,
            self.out_dir.display(),
            self.out_dir.display()
        )
    }
}
