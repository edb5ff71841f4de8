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

use anyhow::{Context, Result};
use pricer_core::artifact::Record;
use pricer_core::atomic::write_atomic;
use pricer_core::manifest::{Counts, InputRef, Manifest};
use pricer_core::obs::thousands;
use pricer_core::stage::{Output, Plan, Stage};
use pricer_core::{obs, recipe_v2, PromptPair, RawItem, SummarizedItem};

use crate::card::SplitInfo;
use crate::columns::{Column, Columns};
use crate::hub::{write_split, yaml_header, Table, TERMS};

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

/// The items_raw table (part 1).
static RAW: [Column<RawItem>; 5] = [
    Column::Text("title", |r| &r.title),
    Column::Text("category", |r| &r.category),
    Column::Number("price", |r| r.price),
    Column::Text("full", |r| &r.full),
    Column::Number("weight", |r| r.weight),
];

/// The items table (part 2): items_raw's columns and the summary.
static SUMMARIZED: [Column<SummarizedItem>; 6] = [
    Column::Text("title", |r| &r.title),
    Column::Text("category", |r| &r.category),
    Column::Number("price", |r| r.price),
    Column::Text("full", |r| &r.full),
    Column::Number("weight", |r| r.weight),
    Column::Text("summary", |r| &r.summary),
];

/// The items_prompts table (part 3).
static PROMPTS: [Column<PromptPair>; 2] = [
    Column::Text("prompt", |r| &r.prompt),
    Column::Text("completion", |r| &r.completion),
];

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

    /// What the part holds, in a sentence (`cutoff`: the run's `[prompts] cutoff`).
    fn about(self, cutoff: usize) -> String {
        match self {
            Part::Raw => "each product's title, category, price, the text assembled from its title, description, \
                          features and details (`full`), and its weight".to_owned(),
            Part::Summarized => "each product's title, category, price, text and weight as in items_raw, and `summary`: \
                                 the text rewritten by an LLM into five short lines (title, category, brand, \
                                 description, details)".to_owned(),
            Part::Prompts => format!("prompt/completion pairs for supervised fine-tuning (the shape TRL's SFTTrainer reads): the \
                              summary cut to {cutoff} Llama 3 tokens framed as a question, and the price as the completion \
                              (rounded to whole dollars for train and val, exact for test)"),
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
    /// The run's text and token limits, which the cards state.
    pub facts: CardFacts,
}

/// The knobs of a run that its cards state in words (the price band is the recipe's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CardFacts {
    /// `[curate] min_chars`: the shortest text kept.
    pub min_chars: usize,
    /// `[curate] total_chars`: texts are cut to this.
    pub total_chars: usize,
    /// `[prompts] cutoff`: summaries are cut to this many tokens.
    pub cutoff: usize,
}

impl Default for CardFacts {
    fn default() -> Self {
        CardFacts {
            min_chars: recipe_v2::MIN_CHARS,
            total_chars: recipe_v2::TOTAL_CHARS,
            cutoff: recipe_v2::CUTOFF,
        }
    }
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

    fn card(&self, name: &str, part: Part, written: &Written, prov: &serde_json::Value) -> String {
        let (features, splits) = (&written.features, &written.splits);
        let mut b = yaml_header(
            &format!("Amazon product prices ({name}, pricer recipe v2)"),
            &["price-prediction", "amazon"],
            features,
            splits,
        );
        b.push_str(&format!(
            "# {name}: Amazon products for price prediction (recipe v2)\n\n"
        ));
        b.push_str(&format!(
            "Products from the Amazon Reviews 2023 metadata, made as the course's December 2025 recipe: {}. \
             Built with pricer, which reproduces the recipe's deterministic parts byte for byte.\n\n",
            part.about(self.facts.cutoff)
        ));
        if !written.left_out.is_empty() {
            b.push_str(&format!(
                "The summaries came from a source without {}: {} left out here rather than published empty.\n\n",
                written.left_out.join(", "),
                if written.left_out.len() == 1 { "that column is" } else { "those columns are" }
            ));
        }
        b.push_str("```python\nfrom datasets import load_dataset\nds = load_dataset(\"<user>/<this-dataset>\")\n```\n\n");
        b.push_str("## Splits\n\n| split | rows | files |\n|---|---|---|\n");
        for s in splits.iter() {
            b.push_str(&format!(
                "| {} | {} | {} |\n",
                s.name,
                s.rows,
                s.files.join(", ")
            ));
        }
        b.push_str(
            &format!("\n## How it was made\n\n\
             1. Rows kept when the price is between ${:.2} and ${:.2}, the details parse, and the text (title, \
             description and features as Python reprs, details as JSON, product codes removed) has at least \
             {} characters (cut to {}).\n\
             2. All items shuffled (Python `random`, seeded); the first item of each exact title kept, then \
             the first of each exact text.\n\
             3. A draw without replacement weighted by the squared min-max-scaled price times a per-category \
             factor (numpy's legacy generator), shuffled again, cut into train, validation and test.\n",
            recipe_v2::MIN_PRICE,
            recipe_v2::MAX_PRICE,
            thousands(self.facts.min_chars as u64),
            thousands(self.facts.total_chars as u64),
        ));
        if part != Part::Raw {
            b.push_str("4. Each text rewritten by an LLM into a five-line summary (the model and settings below).\n");
        }
        if part == Part::Prompts {
            b.push_str(&format!(
                "5. Each summary cut to {} tokens (Llama 3 tokenizer), framed as the question \"{}\" and \"{}\".\n",
                self.facts.cutoff,
                recipe_v2::QUESTION,
                recipe_v2::PRICE_PREFIX
            ));
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

    fn write_part<R: Record + Sync>(
        &self,
        table: &Columns<R>,
        all: &'static [Column<R>],
        (part, src): (Part, &Path),
        dir: &Path,
        lite: bool,
    ) -> Result<Written> {
        let mut splits = Vec::new();
        for (k, (split, file)) in part.splits().iter().enumerate() {
            let limit = lite.then_some(self.lite[k]);
            splits.extend(write_split(
                table,
                split,
                &src.join(file),
                dir,
                self.max_shard_bytes,
                limit,
            )?);
        }
        Ok(Written {
            features: table.features(),
            left_out: table.left_out(all),
            splits,
        })
    }

    /// Writes one folder's Parquet files: every column of its part, but for summaries
    /// from a source that lacked some (the summarize stage's `columns`).
    fn write_folder(
        &self,
        part: Part,
        src: &Path,
        dir: &Path,
        lite: bool,
        prov: &serde_json::Value,
    ) -> Result<Written> {
        let at = (part, src);
        match part {
            Part::Raw => self.write_part(&Columns::all(&RAW), &RAW, at, dir, lite),
            Part::Summarized => {
                let columns = &prov[part.name()]["summary"]["columns"];
                let table = match columns.as_array() {
                    Some(had) => Columns::some(&SUMMARIZED, |c| had.iter().any(|h| h == c)),
                    None => Columns::all(&SUMMARIZED),
                };
                self.write_part(&table, &SUMMARIZED, at, dir, lite)
            }
            Part::Prompts => self.write_part(&Columns::all(&PROMPTS), &PROMPTS, at, dir, lite),
        }
    }
}

/// What one folder's table holds.
struct Written {
    features: Vec<(&'static str, &'static str)>,
    /// Columns of the part that the source lacked.
    left_out: Vec<&'static str>,
    splits: Vec<SplitInfo>,
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
            let paths: Vec<PathBuf> = part.splits().iter().map(|(_, f)| dir.join(f)).collect();
            inputs.extend(InputRef::of_some_records(&paths, STAGE)?);
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
        let mut c = serde_json::json!({
            "parts": self.parts.iter().map(|(p, _)| p.name()).collect::<Vec<_>>(),
            "max_shard_bytes": self.max_shard_bytes,
            "lite": self.lite,
            "lite_only": self.lite_only,
        });
        // Only when they differ from the recipe's, so that the default run keeps its
        // fingerprint.
        if self.facts != CardFacts::default() {
            let f = &self.facts;
            c["card_facts"] = serde_json::json!({"min_chars": f.min_chars, "total_chars": f.total_chars, "cutoff": f.cutoff});
        }
        c
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
            let written = self.write_folder(part, src, &dir, lite, &prov)?;
            write_atomic(
                &dir.join("README.md"),
                self.card(&folder, part, &written, &prov).as_bytes(),
            )?;
            let splits = written.splits;
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
        let mut manifest = plan.manifest(outputs, Counts::all_kept(rows));
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
