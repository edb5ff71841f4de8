//! `[eval]`: how many test items to score and the predictors to score on them.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// The evaluation of a run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EvalConfig {
    /// Test items scored (the first ones; default: the course's, 250 for V1 and 200 for
    /// V2, or the whole test split when smaller).
    pub size: Option<usize>,
    /// The predictors, in the leaderboard's order (`[[eval.predictors]]`).
    pub predictors: Vec<Predictor>,
}

/// A predictor (`kind = "random" | "constant" | "file"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Predictor {
    /// The course's random baseline: `random.seed(seed)`, then `random.randrange(1,
    /// 1000)` per item in test order.
    Random {
        #[serde(default)]
        name: Option<String>,
        #[serde(default = "default_seed")]
        seed: u64,
    },
    /// The course's constant baseline: the training prices' mean (or `value`).
    Constant {
        #[serde(default)]
        name: Option<String>,
        #[serde(default)]
        value: Option<f64>,
    },
    /// Predictions made elsewhere: JSON lines (`{"item": 0, "prediction": "$12"}`), CSV
    /// (a header with `item` and `prediction`) or Parquet (columns `item` and
    /// `prediction`), matched by item index from 0.
    File {
        #[serde(default)]
        name: Option<String>,
        path: PathBuf,
    },
    /// A model behind any OpenAI-compatible endpoint, asked once per item (answers kept
    /// in the cache, so a rerun asks nothing again).
    Endpoint(Box<crate::endpoint::EndpointConfig>),
}

fn default_seed() -> u64 {
    42
}

impl Predictor {
    /// Its name in the leaderboard and its folder: the one given, else the kind (a
    /// file's stem for a file).
    pub fn name(&self) -> String {
        match self {
            Predictor::Random { name, .. } => name.clone().unwrap_or_else(|| "random".into()),
            Predictor::Constant { name, .. } => name.clone().unwrap_or_else(|| "constant".into()),
            Predictor::File { name, path } => name.clone().unwrap_or_else(|| {
                path.file_stem()
                    .map_or_else(|| "file".into(), |s| s.to_string_lossy().into_owned())
            }),
            Predictor::Endpoint(e) => e.name.clone().unwrap_or_else(|| {
                e.model
                    .chars()
                    .map(|c| {
                        if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                            c
                        } else {
                            '-'
                        }
                    })
                    .collect::<String>()
                    .trim_start_matches('.')
                    .chars()
                    .take(64)
                    .collect()
            }),
        }
    }

    /// What its results depend on, for the stage's fingerprint: its settings and name,
    /// not where a file lies (the file's digest is an input) nor how requests travel.
    pub fn semantic(&self) -> serde_json::Value {
        if let Predictor::Endpoint(e) = self {
            return serde_json::json!({"kind": "endpoint", "name": self.name(), "asks": e.semantic()});
        }
        let mut v = serde_json::to_value(self).unwrap_or_default();
        if let Some(o) = v.as_object_mut() {
            o.remove("path");
            o.insert("name".into(), self.name().into());
        }
        v
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Predictor::Random { .. } => "random",
            Predictor::Constant { .. } => "constant",
            Predictor::File { .. } => "file",
            Predictor::Endpoint(_) => "endpoint",
        }
    }
}

/// Whether `name` can be a predictor's folder: letters, digits, `-`, `_`, `.` (not
/// starting with a dot), at most 64 bytes.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}
