//! The items a run's predictors are scored on: the first `size` items of a test split,
//! with what each predictor may be shown, and the training prices' mean (the constant
//! baseline's guess).
//!
//! From a run, recipe V1: `split/test.art` (the test prompt ends with `Price is $`),
//! `split/train.art`. Recipe V2: `prompts/test.art` (the prompt a fine-tuned model
//! completes) with `summarize/test.art` (the title and the summary a frontier model is
//! shown), `prompts/train.art`. From a published split: see [`crate::published`].

use std::path::{Path, PathBuf};

use anyhow::{ensure, Result};
use pricer_core::artifact::ArtifactReader;
use pricer_core::manifest::InputRef;
use pricer_core::recipe::Recipe;
use pricer_core::{Item, PromptPair, SummarizedItem};
use pricer_pycompat::builtins::sum_floats_py312;

use crate::published;

/// One item to predict.
#[derive(Debug, Clone, PartialEq)]
pub struct TestItem {
    pub title: String,
    /// The price to guess.
    pub truth: f64,
    /// The prompt a completion model continues (V1: the test prompt; V2: the item's
    /// `prompt`).
    pub prompt: String,
    /// V2: the LLM summary a chat model is shown.
    pub summary: Option<String>,
}

/// Where the test items come from.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// A run's folder and its recipe.
    Run { recipe: Recipe, dir: PathBuf },
    /// A published dataset in the Hub's layout (`data/test-*.parquet`, and
    /// `data/train-*.parquet` for the constant baseline).
    Published { dir: PathBuf },
}

impl Source {
    /// The recipe whose course figures apply: a run's, or inferred from a published
    /// split's columns (`text`: V1).
    pub fn recipe(&self) -> Result<Recipe> {
        match self {
            Source::Run { recipe, .. } => Ok(*recipe),
            Source::Published { dir } => published::recipe(dir),
        }
    }

    /// What the stage reads, for its fingerprint.
    pub fn inputs(&self) -> Result<Vec<InputRef>> {
        match self {
            Source::Run { recipe, dir } => run_artifacts(*recipe, dir)
                .iter()
                .map(|p| InputRef::of_records(p, crate::run::STAGE))
                .collect(),
            Source::Published { dir } => published::files(dir)?
                .iter()
                .map(|p| InputRef::of_file(p))
                .collect(),
        }
    }

    /// The source in the stage's config and in metrics.json.
    pub fn describe(&self) -> String {
        match self {
            Source::Run { recipe, .. } => format!("run ({})", crate::run::recipe_name(*recipe)),
            Source::Published { dir } => format!("published: {}", dir.display()),
        }
    }

    /// The first `size` test items (None: the course's default, or the whole split
    /// when it is smaller); a given size the split cannot fill is refused.
    pub fn test_items(&self, size: Option<usize>) -> Result<Vec<TestItem>> {
        let want = size.unwrap_or(default_size(self.recipe()?));
        let (items, place) = match self {
            Source::Run { recipe, dir } => (run_test_items(*recipe, dir, want)?, dir),
            Source::Published { dir } => (published::test_items(dir, want)?, dir),
        };
        ensure!(
            size.is_none_or(|s| items.len() == s),
            "{}: the test split holds {} items, fewer than the {want} to score; lower [eval] size",
            place.display(),
            items.len()
        );
        ensure!(
            !items.is_empty(),
            "{}: the test split holds no items",
            place.display()
        );
        Ok(items)
    }

    /// The mean of the training prices as Python's `sum(prices) / len(prices)` gives it.
    pub fn train_mean(&self) -> Result<f64> {
        let (prices, place) = match self {
            Source::Run { recipe, dir } => (run_train_prices(*recipe, dir)?, dir),
            Source::Published { dir } => (published::train_prices(dir)?, dir),
        };
        ensure!(!prices.is_empty(), "{}: no training items", place.display());
        Ok(sum_floats_py312(prices.iter().copied()) / prices.len() as f64)
    }
}

/// The artifacts a run's evaluation reads.
fn run_artifacts(recipe: Recipe, run: &Path) -> Vec<PathBuf> {
    match recipe {
        Recipe::V1 => vec![run.join("split/test.art"), run.join("split/train.art")],
        Recipe::V2 => vec![
            run.join("prompts/test.art"),
            run.join("summarize/test.art"),
            run.join("prompts/train.art"),
        ],
    }
}

fn run_test_items(recipe: Recipe, run: &Path, want: usize) -> Result<Vec<TestItem>> {
    Ok(match recipe {
        Recipe::V1 => ArtifactReader::<Item>::open(run.join("split/test.art"))?
            .take(want)
            .map(|i| {
                let i = i?;
                Ok(TestItem {
                    prompt: i.test_prompt(),
                    title: i.title,
                    truth: i.price,
                    summary: None,
                })
            })
            .collect::<Result<_>>()?,
        Recipe::V2 => {
            let pairs = ArtifactReader::<PromptPair>::open(run.join("prompts/test.art"))?;
            let summaries = ArtifactReader::<SummarizedItem>::open(run.join("summarize/test.art"))?;
            pairs
                .zip(summaries)
                .take(want)
                .map(|(p, s)| {
                    let (p, s) = (p?, s?);
                    Ok(TestItem {
                        title: s.title,
                        truth: p.price,
                        prompt: p.prompt,
                        summary: Some(s.summary),
                    })
                })
                .collect::<Result<_>>()?
        }
    })
}

fn run_train_prices(recipe: Recipe, run: &Path) -> Result<Vec<f64>> {
    Ok(match recipe {
        Recipe::V1 => ArtifactReader::<Item>::open(run.join("split/train.art"))?
            .map(|i| i.map(|i| i.price))
            .collect::<Result<_, _>>()?,
        Recipe::V2 => ArtifactReader::<PromptPair>::open(run.join("prompts/train.art"))?
            .map(|i| i.map(|i| i.price))
            .collect::<Result<_, _>>()?,
    })
}

/// The course's default number of items to score: 250 in V1's `Tester`, 200 in V2's.
pub fn default_size(recipe: Recipe) -> usize {
    match recipe {
        Recipe::V1 => 250,
        Recipe::V2 => 200,
    }
}
