//! The eval stage: a run's test split (or a published one) -> per predictor
//! `<name>/predictions.jsonl` (every item: answer, guess, truth, error, colour) and
//! `<name>/rejects.jsonl` (rows of its file that gave no answer), `metrics.json` (every
//! predictor's figures) and `report.html`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use pricer_core::artifact::ArtifactInfo;
use pricer_core::atomic::write_atomic;
use pricer_core::jsonl::{file_info, JsonLinesWriter};
use pricer_core::manifest::{Counts, InputRef, Manifest};
use pricer_core::obs;
use pricer_core::recipe::Recipe;
use pricer_core::stage::{Output, Plan, Stage};
use serde_json::{json, Value};

use crate::config::{valid_name, EvalConfig, Predictor};
use crate::data::{Source, TestItem};
use crate::predictors::{self, Predicted};
use crate::score::{colour, metrics, Answer, Metrics};

pub const STAGE: &str = "eval";
pub const METRICS: &str = "metrics.json";
pub const REPORT: &str = "report.html";
pub const PREDICTIONS: &str = "predictions.jsonl";
pub const REJECTS: &str = "rejects.jsonl";

/// The eval stage of a run.
#[derive(Debug, Clone)]
pub struct EvalStage {
    /// Where the test items come from.
    pub source: Source,
    pub out_dir: PathBuf,
    pub config: EvalConfig,
}

/// One item as a predictor answered it.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub item: usize,
    pub title: String,
    pub truth: f64,
    pub guess: f64,
    pub error: f64,
    pub colour: &'static str,
    /// The answer as given (text, or a number's Python repr); None when there was none.
    pub answer: Option<String>,
}

/// A predictor's results.
#[derive(Debug, Clone)]
pub struct Scored {
    pub name: String,
    pub kind: &'static str,
    pub metrics: Metrics,
    pub calls: u64,
    pub cost: f64,
    pub rejects: usize,
    pub rows: Vec<Row>,
}

impl EvalStage {
    /// Refuses names that cannot be folders, that repeat, or that are the stage's files.
    pub fn check(&self) -> Result<()> {
        if self.config.predictors.is_empty() {
            bail!("[eval] lists no predictors: add [[eval.predictors]] entries (kind = \"random\", \"constant\", \"file\" or \"endpoint\")");
        }
        if self.config.size == Some(0) {
            bail!("[eval] size = 0 scores nothing: give a positive number of test items, or leave it out for the course's");
        }
        let mut seen = BTreeSet::new();
        for p in &self.config.predictors {
            let name = p.name();
            if !valid_name(&name) || [METRICS, REPORT, "manifest.json"].contains(&name.as_str()) {
                bail!("[eval] predictor name {name:?}: use letters, digits, '-', '_' and '.' (at most 64, not starting with '.'), and not a file the stage writes");
            }
            if !seen.insert(name.clone()) {
                bail!("[eval] two predictors are named {name:?}: give each a distinct `name`");
            }
        }
        Ok(())
    }

    fn predict(&self, p: &Predictor, items: &[TestItem]) -> Result<Predicted> {
        let n = items.len();
        Ok(match p {
            Predictor::Random { seed, .. } => Predicted::of(predictors::random(*seed, n)),
            Predictor::Constant { value, .. } => {
                let v = match value {
                    Some(v) => *v,
                    None => self.source.train_mean()?,
                };
                Predicted::of(predictors::constant(v, n))
            }
            Predictor::File { path, .. } => predictors::from_file(path, n)?,
            Predictor::Endpoint(e) => crate::endpoint::predict(e, &p.name(), items)?,
        })
    }

    /// Scores every predictor on the test items.
    pub fn score(&self) -> Result<Vec<(Scored, Vec<predictors::Reject>)>> {
        self.check()?;
        let items = self.source.test_items(self.config.size)?;
        let truths: Vec<f64> = items.iter().map(|i| i.truth).collect();
        let mut out = Vec::new();
        for p in &self.config.predictors {
            let predicted = self.predict(p, &items)?;
            let rows: Vec<Row> = items
                .iter()
                .zip(&predicted.answers)
                .enumerate()
                .map(|(k, (item, answer))| row(k, item, answer.as_ref()))
                .collect();
            let guesses: Vec<f64> = rows.iter().map(|r| r.guess).collect();
            let scored = Scored {
                name: p.name(),
                kind: p.kind(),
                metrics: metrics(&guesses, &truths),
                calls: predicted.calls,
                cost: predicted.cost,
                rejects: predicted.rejects.len(),
                rows,
            };
            out.push((scored, predicted.rejects));
        }
        Ok(out)
    }
}

fn row(item: usize, t: &TestItem, answer: Option<&Answer>) -> Row {
    let guess = answer.map_or(0.0, Answer::guess);
    let error = (guess - t.truth).abs();
    Row {
        item,
        title: t.title.clone(),
        truth: t.truth,
        guess,
        error,
        colour: colour(error, t.truth),
        answer: answer.map(|a| match a {
            Answer::Text(s) => s.clone(),
            Answer::Number(x) => pricer_pycompat::float::float_repr(*x),
        }),
    }
}

/// A prediction line: the item, what was answered (null when nothing was), the guess
/// read from it, the truth, the error and its colour.
fn prediction_line(r: &Row) -> Value {
    json!({
        "item": r.item,
        "title": r.title,
        "answer": r.answer,
        "guess": r.guess,
        "truth": r.truth,
        "error": r.error,
        "colour": r.colour,
    })
}

fn write_jsonl(path: &Path, lines: impl Iterator<Item = Value>) -> Result<ArtifactInfo> {
    let mut w = JsonLinesWriter::create(path)?;
    for v in lines {
        w.write_value(&v)?;
    }
    Ok(w.finish()?)
}

/// A recipe as the config names it.
pub fn recipe_name(recipe: Recipe) -> &'static str {
    match recipe {
        Recipe::V1 => "v1",
        Recipe::V2 => "v2",
    }
}

/// `metrics.json`: the source, and per predictor its figures, calls, cost and rejects.
pub fn metrics_json(recipe: Recipe, source: &str, scored: &[Scored]) -> Value {
    json!({
        "recipe": recipe_name(recipe),
        "source": source,
        "predictors": scored.iter().map(|s| json!({
            "name": s.name,
            "kind": s.kind,
            "metrics": s.metrics,
            "calls": s.calls,
            "cost": s.cost,
            "rejects": s.rejects,
        })).collect::<Vec<_>>(),
    })
}

impl Stage for EvalStage {
    fn name(&self) -> &str {
        STAGE
    }

    fn dir(&self) -> &Path {
        &self.out_dir
    }

    fn inputs(&self) -> Result<Vec<InputRef>> {
        self.check()?;
        let mut inputs = self.source.inputs()?;
        for p in &self.config.predictors {
            if let Predictor::File { path, .. } = p {
                inputs.push(InputRef::of_file(path)?);
            }
        }
        Ok(inputs)
    }

    fn config(&self) -> Value {
        json!({
            "source": self.source.describe(),
            "size": self.config.size,
            "predictors": self.config.predictors.iter().map(Predictor::semantic).collect::<Vec<_>>(),
        })
    }

    fn outputs(&self) -> Vec<Output> {
        let mut out = vec![Output::File(METRICS.into()), Output::File(REPORT.into())];
        out.extend(
            self.config
                .predictors
                .iter()
                .map(|p| Output::Folder(p.name())),
        );
        out
    }

    fn run(&self, plan: &Plan) -> Result<Manifest> {
        let scored = self.score()?;
        let mut outputs = BTreeMap::new();
        let mut counts = Counts::default();
        for (s, rejects) in &scored {
            let dir = self.out_dir.join(&s.name);
            std::fs::create_dir_all(&dir)?;
            let lines = s.rows.iter().map(prediction_line);
            outputs.insert(
                format!("{}/{PREDICTIONS}", s.name),
                write_jsonl(&dir.join(PREDICTIONS), lines)?,
            );
            let rj = rejects
                .iter()
                .map(|r| serde_json::to_value(r).unwrap_or(Value::Null));
            outputs.insert(
                format!("{}/{REJECTS}", s.name),
                write_jsonl(&dir.join(REJECTS), rj)?,
            );
            for r in rejects {
                counts.reject(r.reason);
            }
        }
        let scored: Vec<Scored> = scored.into_iter().map(|(s, _)| s).collect();
        let recipe = self.source.recipe()?;
        let json =
            serde_json::to_string_pretty(&metrics_json(recipe, &self.source.describe(), &scored))?
                + "\n";
        let report = crate::report::render(recipe, &scored);
        write_atomic(&self.out_dir.join(METRICS), json.as_bytes())?;
        write_atomic(&self.out_dir.join(REPORT), report.as_bytes())?;
        outputs.insert(METRICS.to_owned(), file_info(json.as_bytes()));
        outputs.insert(REPORT.to_owned(), file_info(report.as_bytes()));
        counts.kept = scored.first().map_or(0, |s| s.metrics.size as u64);
        counts.rows_in += counts.kept;
        let items = counts.kept;
        let mut manifest = plan.manifest(outputs, counts);
        manifest.summary = json!({
            "items": items,
            "predictors": scored.iter().map(|s| json!({"name": s.name, "average_error": s.metrics.average_error, "calls": s.calls})).collect::<Vec<_>>(),
        });
        manifest.write(&self.out_dir)?;
        Ok(manifest)
    }

    fn summary(&self, m: &Manifest) -> String {
        let s = &m.summary;
        let board: Vec<String> = s["predictors"]
            .as_array()
            .map(|ps| {
                ps.iter()
                    .map(|p| {
                        format!(
                            "{} ${:.2}",
                            p["name"].as_str().unwrap_or("?"),
                            p["average_error"].as_f64().unwrap_or(f64::NAN)
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        format!(
            "eval: {} test items, average error {} in {:.1} s -> {}",
            obs::thousands(s["items"].as_u64().unwrap_or(0)),
            board.join(", "),
            m.wall_seconds,
            self.out_dir.join(REPORT).display()
        )
    }
}
