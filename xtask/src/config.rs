//! The run configuration (`--config FILE`, TOML). Every key has the recipe's default;
//! docs/configuration.md is the reference.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use pricer_split::{SampleConfig, SplitSizes};
use serde::{Deserialize, Serialize};

/// The config used when none is given: the bundled fixtures.
pub const FIXTURES_CONFIG: &str = include_str!("../configs/fixtures.toml");

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RunConfig {
    pub input: InputConfig,
    pub tokenizer: TokenizerConfig,
    pub sample: SampleConfig,
    pub split: SplitSizes,
    pub audit: AuditConfig,
    pub export: ExportConfig,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuditConfig {
    /// Compare the bundled Qwen3, Gemma 3 and Llama 2 tokenizers with the recipe's.
    pub compare_bundled: bool,
    /// Prompts (the first N items) encoded with every compared tokenizer.
    pub compare_sample: usize,
    /// Items (by position) shown with their last 10 tokens.
    pub items: Vec<usize>,
}

impl Default for AuditConfig {
    fn default() -> Self {
        AuditConfig {
            compare_bundled: true,
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
    /// Categories read from `data_dir` as meta_<Category>.jsonl[.gz|.zst], in this order,
    /// after `paths`.
    pub categories: Vec<String>,
    pub data_dir: Option<PathBuf>,
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
    /// Largest Parquet shard, in bytes of row data.
    pub max_shard_bytes: u64,
}

impl Default for ExportConfig {
    fn default() -> Self {
        ExportConfig {
            max_shard_bytes: pricer_export::run::DEFAULT_MAX_SHARD_BYTES,
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
        anyhow::ensure!(
            !files.is_empty(),
            "no inputs: set [input] paths or categories + data_dir"
        );
        Ok(files)
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

impl RunConfig {
    pub fn parse(text: &str, origin: &str) -> Result<RunConfig> {
        let cfg: RunConfig =
            toml::from_str(text).with_context(|| format!("{origin}: invalid config"))?;
        cfg.sample
            .validate()
            .map_err(|e| anyhow::anyhow!("{origin}: {e}"))?;
        anyhow::ensure!(
            !(cfg.tokenizer.path.is_some() && cfg.tokenizer.hub.is_some()),
            "{origin}: set either [tokenizer] path or hub, not both"
        );
        anyhow::ensure!(
            cfg.input.categories.is_empty() || cfg.input.data_dir.is_some(),
            "{origin}: [input] categories needs [input] data_dir"
        );
        Ok(cfg)
    }

    pub fn load(path: Option<&Path>) -> Result<RunConfig> {
        match path {
            None => RunConfig::parse(FIXTURES_CONFIG, "xtask/configs/fixtures.toml (default)"),
            Some(p) => {
                let text = std::fs::read_to_string(p)
                    .with_context(|| format!("{}: cannot read config", p.display()))?;
                RunConfig::parse(&text, &p.display().to_string())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_configs_parse_with_recipe_defaults() {
        let fixtures = RunConfig::load(None).unwrap();
        assert_eq!(fixtures.sample, SampleConfig::default());
        assert_eq!(
            (
                fixtures.split.train,
                fixtures.split.test,
                fixtures.split.seed
            ),
            (800, 200, 42)
        );
        let classic =
            RunConfig::parse(include_str!("../configs/classic.toml"), "classic.toml").unwrap();
        assert_eq!(classic.sample, SampleConfig::default());
        assert_eq!(classic.split, SplitSizes::default());
        assert_eq!(classic.input.categories.len(), 8);
    }

    #[test]
    fn unknown_keys_are_refused() {
        assert!(RunConfig::parse("[sample]\nsed = 1\n", "x").is_err());
        assert!(RunConfig::parse("[sample]\nweights = { Automotive = -1.0 }\n", "x").is_err());
    }
}
