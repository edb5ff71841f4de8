//! The run configuration (`--config FILE`, TOML). Every key has the recipe's default;
//! docs/configuration.md is the reference.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context, Result};
use pricer_core::recipe::Recipe;
use pricer_core::recipe_v2;
use pricer_curate::CurateConfig;
use pricer_split::{SampleConfig, SplitSizes};
use serde::{Deserialize, Serialize};

use crate::configs::ConfigSource;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RunConfig {
    /// Which recipe the run follows (default v1).
    pub recipe: Recipe,
    pub input: InputConfig,
    pub tokenizer: TokenizerConfig,
    /// Recipe v1's price-balanced sample.
    pub sample: SampleConfig,
    pub split: SplitSection,
    /// Recipe v2's parse rules and weighted draw.
    pub curate: CurateSection,
    /// Recipe v2 part 2 (absent: the run stops after part 1).
    pub summarize: Option<pricer_summarize::SummarizeConfig>,
    /// Recipe v2 part 3.
    pub prompts: PromptsSection,
    pub audit: AuditConfig,
    pub export: ExportConfig,
    /// Predictors scored on the test split after export (absent: no evaluation).
    pub eval: Option<pricer_eval::EvalConfig>,
}

/// `[split]`: the same keys for both recipes, with each recipe's defaults.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SplitSection {
    /// `random.seed(seed)` before the shuffle that orders the splits.
    pub seed: Option<u64>,
    pub train: Option<usize>,
    pub test: Option<usize>,
    pub validation: Option<usize>,
    /// v1: take what the sample holds when it is smaller than the sizes.
    pub take_available: Option<bool>,
    /// v2: the published "lite" prefixes of each split.
    pub lite_train: Option<usize>,
    pub lite_validation: Option<usize>,
    pub lite_test: Option<usize>,
}

impl SplitSection {
    /// Recipe v1's sizes.
    pub fn v1(&self) -> SplitSizes {
        let d = SplitSizes::default();
        SplitSizes {
            seed: self.seed.unwrap_or(d.seed),
            train: self.train.unwrap_or(d.train),
            test: self.test.unwrap_or(d.test),
            validation: self.validation.unwrap_or(d.validation),
            take_available: self.take_available.unwrap_or(d.take_available),
        }
    }

    /// Recipe v2's lite sizes (train, validation, test).
    pub fn lite(&self) -> [u64; 3] {
        [
            self.lite_train.unwrap_or(recipe_v2::LITE_TRAIN) as u64,
            self.lite_validation.unwrap_or(recipe_v2::LITE_VALIDATION) as u64,
            self.lite_test.unwrap_or(recipe_v2::LITE_TEST) as u64,
        ]
    }
}

/// `[prompts]` (recipe v2 part 3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PromptsSection {
    /// Summaries with more tokens than this are cut to it.
    pub cutoff: usize,
}

impl Default for PromptsSection {
    fn default() -> Self {
        PromptsSection {
            cutoff: recipe_v2::CUTOFF,
        }
    }
}

/// `[curate]` (recipe v2): the parse rules' knobs and the weighted draw's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CurateSection {
    /// Seed of the first shuffle and of the draw.
    pub seed: u64,
    /// Items drawn from the deduped pool.
    pub sample: usize,
    /// Weight factor per category (others: `default_factor`).
    pub factors: BTreeMap<String, f64>,
    pub default_factor: f64,
    /// Keep an item whose text has at least this many characters.
    pub min_chars: usize,
    /// Each description/features line is cut to this many characters.
    pub each_chars: usize,
    /// The whole text is cut to this many characters.
    pub total_chars: usize,
    /// Keys deleted from details.
    pub removed_keys: Vec<String>,
    /// Also write curate/trace/ (every decision, as the reference writes it).
    pub trace: bool,
    /// Keep only the lite prefixes of each split (the course's `*_lite` datasets).
    pub lite_only: bool,
}

impl Default for CurateSection {
    fn default() -> Self {
        let c = CurateConfig::default();
        let r = pricer_ingest::V2::default();
        CurateSection {
            seed: c.seed,
            sample: c.sample,
            factors: c.factors,
            default_factor: c.default_factor,
            min_chars: r.min_chars,
            each_chars: r.each_chars,
            total_chars: r.total_chars,
            removed_keys: r.removed_keys,
            trace: false,
            lite_only: false,
        }
    }
}

impl RunConfig {
    /// Recipe v2's parse rules.
    pub fn v2_rules(&self) -> pricer_ingest::V2 {
        pricer_ingest::V2 {
            min_chars: self.curate.min_chars,
            each_chars: self.curate.each_chars,
            total_chars: self.curate.total_chars,
            removed_keys: self.curate.removed_keys.clone(),
        }
    }

    /// Recipe v2's curation: `[curate]`'s draw and `[split]`'s sizes (the course's split
    /// seed is the curation's seed unless `[split] seed` says otherwise).
    pub fn v2_curation(&self) -> CurateConfig {
        let d = CurateConfig::default();
        CurateConfig {
            seed: self.curate.seed,
            sample: self.curate.sample,
            factors: self.curate.factors.clone(),
            default_factor: self.curate.default_factor,
            split_seed: self.split.seed.unwrap_or(self.curate.seed),
            train: self.split.train.unwrap_or(d.train),
            validation: self.split.validation.unwrap_or(d.validation),
            test: self.split.test.unwrap_or(d.test),
            keep: self
                .curate
                .lite_only
                .then(|| self.split.lite().map(|n| n as usize)),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuditConfig {
    /// Compare the bundled Qwen3, Gemma 3 and Llama 2 tokenizers with the recipe's.
    pub compare_bundled: bool,
    /// Other tokenizers to compare, NAME = "path/to/tokenizer.json" (after the bundled).
    pub compare: std::collections::BTreeMap<String, PathBuf>,
    /// Prompts (the first N items) encoded with every compared tokenizer.
    pub compare_sample: usize,
    /// Items (by position) shown with their last 10 tokens.
    pub items: Vec<usize>,
}

impl Default for AuditConfig {
    fn default() -> Self {
        AuditConfig {
            compare_bundled: true,
            compare: Default::default(),
            compare_sample: pricer_tokenize_audit::run::DEFAULT_COMPARE_SAMPLE,
            items: vec![0, 1, 2],
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct InputConfig {
    /// Raw metadata files or folders, read in the order given (folders in byte-sorted
    /// file-name order).
    pub paths: Vec<PathBuf>,
    /// Categories read from `data_dir` as `meta_<Category>.jsonl[.gz|.zst]`, or from the
    /// `hub` repo, in this order, after `paths`.
    pub categories: Vec<String>,
    pub data_dir: Option<PathBuf>,
    /// A Hub dataset repo holding the categories' files (e.g. the classic
    /// McAuley-Lab/Amazon-Reviews-2023), resolved through the Hugging Face cache.
    pub hub: Option<String>,
    /// The `hub` revision: a branch, tag or commit id (default main).
    pub revision: Option<String>,
    /// A category's file in the `hub` repo (default
    /// raw/meta_categories/meta_{category}.jsonl).
    pub pattern: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TokenizerConfig {
    /// A local tokenizer.json (or its folder, or a .zst beside it).
    pub path: Option<PathBuf>,
    /// A Hub model id resolved through the Hugging Face cache (and HF_TOKEN).
    pub hub: Option<String>,
    /// transformers' clean_up_tokenization_spaces after decoding (the recipe: true).
    pub clean_up_spaces: bool,
}

impl Default for TokenizerConfig {
    fn default() -> Self {
        TokenizerConfig {
            path: None,
            hub: None,
            clean_up_spaces: true,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ExportConfig {
    /// `datasets`' `max_shard_size`: int(num_bytes / this) + 1 Parquet shards per split.
    pub max_shard_bytes: u64,
    /// v1: also write items/train.pkl and items/test.pkl, the seed's pickles.
    pub pickles: bool,
}

impl Default for ExportConfig {
    fn default() -> Self {
        ExportConfig {
            max_shard_bytes: pricer_export::run::DEFAULT_MAX_SHARD_BYTES,
            pickles: true,
        }
    }
}

impl InputConfig {
    /// The raw files this config names, in run order: `paths`, then `categories` from
    /// `data_dir`.
    pub fn files(&self) -> Result<Vec<pricer_ingest::inputs::InputFile>> {
        let mut files = pricer_ingest::inputs::resolve(&self.paths)?;
        if let Some(dir) = &self.data_dir {
            files.extend(pricer_ingest::inputs::resolve_categories(
                dir,
                &self.categories,
            )?);
        }
        if let Some(hub) = self.hub_input() {
            let mut client = pricer_hub::Hub::from_env();
            client.stop = Some(|| pricer_core::cancel::check().is_err());
            files.extend(pricer_ingest::inputs::resolve_hub(
                &client,
                &hub,
                &self.categories,
            )?);
        }
        anyhow::ensure!(
            !files.is_empty(),
            "no inputs: set [input] paths, or categories with data_dir or hub"
        );
        Ok(files)
    }

    /// The Hub source of the categories, when `hub` is set.
    pub fn hub_input(&self) -> Option<pricer_ingest::inputs::HubInput> {
        use pricer_ingest::inputs::{HubInput, DEFAULT_PATTERN};
        Some(HubInput {
            repo: self.hub.clone()?,
            revision: self.revision.clone().unwrap_or_else(|| "main".into()),
            pattern: self
                .pattern
                .clone()
                .unwrap_or_else(|| DEFAULT_PATTERN.into()),
        })
    }
}

impl TokenizerConfig {
    pub fn source(&self) -> pricer_tokenizer::TokenizerSource {
        use pricer_tokenizer::TokenizerSource;
        match (&self.path, &self.hub) {
            (Some(p), _) => TokenizerSource::Path(p.clone()),
            (None, Some(model)) => TokenizerSource::Hub(model.clone()),
            (None, None) => TokenizerSource::Bundled,
        }
    }
}

/// The sections that belong to the other recipe.
pub fn foreign_sections(recipe: Recipe) -> &'static [&'static str] {
    match recipe {
        Recipe::V1 => &["curate", "summarize", "prompts"],
        Recipe::V2 => &["sample", "audit"],
    }
}

impl RunConfig {
    /// The config as TOML: every key of its recipe's sections, with its value.
    pub fn to_toml(&self) -> Result<String> {
        let mut table = toml::Table::try_from(self)?;
        for s in foreign_sections(self.recipe) {
            table.remove(*s);
        }
        Ok(toml::to_string(&table)?)
    }

    pub fn parse(text: &str, origin: &str) -> Result<RunConfig> {
        let table: toml::Table =
            toml::from_str(text).with_context(|| format!("{origin}: invalid config"))?;
        let cfg: RunConfig = table
            .clone()
            .try_into()
            .with_context(|| format!("{origin}: invalid config"))?;
        let others = foreign_sections(cfg.recipe);
        let own = if cfg.recipe == Recipe::V1 { "v2" } else { "v1" };
        if let Some(other) = others.iter().find(|s| table.contains_key(**s)) {
            anyhow::bail!(
                "{origin}: [{other}] belongs to recipe {own}, and this run's recipe is {:?} (set recipe = \"{own}\" or remove the section)",
                cfg.recipe
            );
        }
        match cfg.recipe {
            Recipe::V1 => cfg.sample.validate(),
            Recipe::V2 => cfg.v2_curation().validate(),
        }
        .map_err(|e| anyhow::anyhow!("{origin}: {e}"))?;
        anyhow::ensure!(
            !(cfg.tokenizer.path.is_some() && cfg.tokenizer.hub.is_some()),
            "{origin}: set either [tokenizer] path or hub, not both"
        );
        let input = &cfg.input;
        anyhow::ensure!(
            input.categories.is_empty() || input.data_dir.is_some() || input.hub.is_some(),
            "{origin}: [input] categories needs [input] data_dir or hub"
        );
        anyhow::ensure!(
            !(input.data_dir.is_some() && input.hub.is_some()),
            "{origin}: set either [input] data_dir or hub, not both"
        );
        anyhow::ensure!(
            input.hub.is_some() || (input.revision.is_none() && input.pattern.is_none()),
            "{origin}: [input] revision and pattern belong to [input] hub"
        );
        if let Some(hub) = input.hub_input() {
            if let Some(c) = input.categories.first() {
                hub.path_of(c)
                    .map_err(|e| anyhow::anyhow!("{origin}: {e}"))?;
            }
        }
        Ok(cfg)
    }

    /// The config `source` gives, its relative paths found ([`RunConfig::resolve_paths`])
    /// and every file it names checked ([`RunConfig::check_paths`]), so that a wrong path
    /// stops the run before its first stage, naming the key.
    pub fn load(source: &ConfigSource) -> Result<RunConfig> {
        let (text, origin) = source.text()?;
        let mut cfg = RunConfig::parse(&text, &origin)?;
        cfg.resolve_paths();
        cfg.check_paths()
            .map_err(|e| anyhow::anyhow!("{origin}: {e}"))?;
        Ok(cfg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_configs_parse_with_recipe_defaults() {
        let fixtures = RunConfig::load(&ConfigSource::default()).unwrap();
        assert_eq!(fixtures.sample, SampleConfig::default());
        let sizes = fixtures.split.v1();
        assert_eq!((sizes.train, sizes.test, sizes.seed), (800, 200, 42));
        let classic =
            RunConfig::parse(include_str!("../configs/classic.toml"), "classic.toml").unwrap();
        assert_eq!(classic.sample, SampleConfig::default());
        assert_eq!(classic.split.v1(), SplitSizes::default());
        assert_eq!(classic.input.categories.len(), 8);
        // The course's runs go from nothing, as the classic one does: the same eight
        // files from the Hub, in the course's order.
        for (name, text) in [
            ("v2.toml", include_str!("../configs/v2.toml")),
            ("v2-lite.toml", include_str!("../configs/v2-lite.toml")),
        ] {
            let v2 = RunConfig::parse(text, name).unwrap();
            assert_eq!(v2.input.categories, classic.input.categories, "{name}");
            assert_eq!(v2.input.hub, classic.input.hub, "{name}");
            assert_eq!(v2.input.data_dir, None, "{name}");
        }
        assert_eq!(
            classic.input.hub.as_deref(),
            Some("McAuley-Lab/Amazon-Reviews-2023")
        );
    }

    #[test]
    fn unknown_keys_are_refused() {
        assert!(RunConfig::parse("[sample]\nsed = 1\n", "x").is_err());
        assert!(RunConfig::parse("[sample]\nweights = { Automotive = -1.0 }\n", "x").is_err());
    }
}
