//! The summarize stage: the curated splits -> the same items with an LLM summary each
//! (`train.art`, `validation.art`, `test.art`), or the published summaries (`from`).
//!
//! Every answer lives in the response cache (content-addressed, shared by runs), so a
//! rerun, a resumed run after a kill or a run over an overlapping sample requests only
//! what the cache lacks. The stage finishes only when every item has a summary: failed
//! or empty answers are listed in `failures.jsonl` with reasons, never written as
//! summaries, and requested again on the next run.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use pricer_core::artifact::{ArtifactReader, ArtifactWriter};
use pricer_core::cli::Stopped;
use pricer_core::jsonl::JsonLinesWriter;
use pricer_core::manifest::{Counts, InputRef, Manifest};
use pricer_core::obs::plural;
use pricer_core::stage::{Output, Plan, Stage};
use pricer_core::{obs, RawItem, SummarizedItem};

use crate::batch;
use crate::config::{Mode, SummarizeConfig};
use crate::from;
use crate::request::{Failure, Key, Spent};
use pricer_llm::Cache;
use pricer_llm::{online, Job};

pub const STAGE: &str = "summarize";
pub const FAILURES: &str = "failures.jsonl";
/// With `from`: the rows of the source that give no item, with reasons.
pub const REJECTS: &str = "rejects.jsonl";
/// The curated splits read, and the summarized splits written (same names).
pub const SPLITS: [&str; 3] = ["train.art", "validation.art", "test.art"];

/// Submissions in one batch-mode run: the first, and again for what expired batches
/// left undone. A failed or cancelled batch ends the run's submitting; its requests go
/// into new files on the next run.
pub const BATCH_ROUNDS: u32 = 3;

/// The summarize stage of a run.
#[derive(Debug, Clone)]
pub struct SummarizeStage {
    /// The curate stage's folder.
    pub input: PathBuf,
    pub out_dir: PathBuf,
    pub config: SummarizeConfig,
    /// How the user set the cost limit, for messages: `[summarize] max_cost_usd` in a
    /// run config, `--max-cost-usd` on the command line.
    pub max_cost_knob: &'static str,
    /// How the user lists batch results: `[summarize] results` or `--results`.
    pub results_knob: &'static str,
}

impl SummarizeStage {
    /// The stage as a run config describes it.
    pub fn new(input: PathBuf, out_dir: PathBuf, config: SummarizeConfig) -> SummarizeStage {
        SummarizeStage {
            input,
            out_dir,
            config,
            max_cost_knob: "[summarize] max_cost_usd",
            results_knob: "[summarize] results",
        }
    }
}

/// The curated items of every split, in order.
fn items(input: &Path) -> impl Iterator<Item = Result<(usize, RawItem)>> + Send + '_ {
    SPLITS.iter().enumerate().flat_map(move |(s, file)| {
        let reader = ArtifactReader::<RawItem>::open(input.join(file));
        let (ok, err) = match reader {
            Ok(r) => (Some(r), None),
            Err(e) => (None, Some(Err(anyhow::Error::from(e)))),
        };
        err.into_iter().chain(
            ok.into_iter()
                .flatten()
                .map(move |r| r.map(|i| (s, i)).map_err(anyhow::Error::from)),
        )
    })
}

/// What the cache lacks (each text once): the items in all, the keys to request, and
/// their estimated input tokens (4 bytes a token).
fn todo(
    cfg: &SummarizeConfig,
    input: &Path,
    cache: &Cache,
    in_flight: &HashSet<Key>,
) -> Result<(u64, HashSet<Key>, u64)> {
    let (mut items_total, mut bytes) = (0u64, 0u64);
    let mut todo = HashSet::new();
    for r in items(input) {
        let (_, item) = r?;
        items_total += 1;
        let k = crate::request::key(cfg, &item.full);
        if !cache.contains(&k) && !in_flight.contains(&k) && todo.insert(k) {
            bytes += (cfg.system_prompt.len() + item.full.len()) as u64;
        }
    }
    Ok((items_total, todo, bytes / 4))
}

/// The requests for `todo`, re-read from the splits, each text once.
fn jobs<'a>(
    cfg: &'a SummarizeConfig,
    input: &'a Path,
    mut todo: HashSet<Key>,
) -> impl Iterator<Item = Result<Job>> + Send + 'a {
    items(input).filter_map(move |r| match r {
        Err(e) => Some(Err(e)),
        Ok((_, item)) => {
            let key = crate::request::key(cfg, &item.full);
            todo.remove(&key).then(|| {
                Ok(Job {
                    key,
                    body: crate::request::body(cfg, &item.full),
                })
            })
        }
    })
}

/// The summarized splits written, the items written, and the items without a summary
/// (split, position, reason).
type Written = (
    BTreeMap<String, pricer_core::ArtifactInfo>,
    u64,
    Vec<(usize, u64, String)>,
);

impl SummarizeStage {
    /// Prints what the run will send and cost; refuses above `max_cost_usd`. `waiting`:
    /// requests in batches submitted earlier, already paid for and only waited for.
    fn estimate(&self, items: u64, todo: u64, in_tokens: u64, waiting: u64) -> Result<()> {
        let c = &self.config;
        let out_tokens = todo * c.expected_output_tokens;
        let cost = (in_tokens as f64 * c.input_price_per_million
            + out_tokens as f64 * c.output_price_per_million)
            / 1e6;
        let waiting = if waiting > 0 {
            format!(
                "; {} in batches submitted earlier, waited for",
                plural(waiting, "request", "requests")
            )
        } else {
            String::new()
        };
        eprintln!(
            "summarize: {} items, {} already answered in the cache; {} to send to {} at {} ({:?} mode): about {} input and {} output tokens, estimated ${cost:.2} at ${}/M in, ${}/M out{waiting}",
            obs::thousands(items),
            obs::thousands(items - todo),
            plural(todo, "request", "requests"),
            c.model,
            c.base_url,
            c.mode,
            obs::thousands(in_tokens),
            obs::thousands(out_tokens),
            c.input_price_per_million,
            c.output_price_per_million
        );
        if let Some(max) = c.max_cost_usd.filter(|&m| cost > m) {
            bail!(
                "the estimated cost ${cost:.2} is above {} = {max}; nothing was sent",
                self.max_cost_knob
            );
        }
        Ok(())
    }

    /// Asks for every summary the cache lacks; returns the failures and what was spent.
    fn request_missing(&self, cache: &mut Cache) -> Result<(Vec<(Key, Failure)>, Spent)> {
        let cfg = &self.config;
        let mut failures = Vec::new();
        let mut spent = Spent::default();
        for path in &cfg.results {
            let read = batch::ingest_results(path, cache)?;
            failures.extend(read.failures);
            spent += read.spent;
        }
        if cfg.mode == Mode::Batch {
            self.request_batches(cache, &mut failures, &mut spent)?;
            return Ok((failures, spent));
        }
        let (items, todo, in_tokens) = todo(cfg, &self.input, cache, &HashSet::new())?;
        self.estimate(items, todo.len() as u64, in_tokens, 0)?;
        if !todo.is_empty() {
            let n = todo.len() as u64;
            let (f, s) = online::run(
                &cfg.transport(),
                pricer_llm::Route::Chat,
                jobs(cfg, &self.input, todo),
                n,
                cache,
            )?;
            failures.extend(f);
            spent += s;
        }
        Ok((failures, spent))
    }

    /// Batch mode: request files for what the cache lacks and no pending batch holds,
    /// submitted with the pending ones and waited for; again at once for what expired
    /// batches left undone, up to [`BATCH_ROUNDS`] times.
    fn request_batches(
        &self,
        cache: &mut Cache,
        failures: &mut Vec<(Key, Failure)>,
        spent: &mut Spent,
    ) -> Result<()> {
        let cfg = &self.config;
        for round in 1..=BATCH_ROUNDS {
            let pending = batch::pending(cache)?;
            let in_flight: HashSet<Key> = pending
                .iter()
                .flat_map(|(_, k)| k.iter().copied())
                .collect();
            let (items, todo, in_tokens) = todo(cfg, &self.input, cache, &in_flight)?;
            self.estimate(items, todo.len() as u64, in_tokens, in_flight.len() as u64)?;
            if todo.is_empty() && pending.is_empty() {
                return Ok(());
            }
            let mut files: Vec<PathBuf> = pending.into_iter().map(|(f, _)| f).collect();
            files.extend(batch::write_requests(
                cfg,
                jobs(cfg, &self.input, todo),
                cache,
            )?);
            if !cfg.submit {
                return Err(Stopped(format!(
                    "{} ready in {}: upload them to the Batch API (endpoint /v1/chat/completions), \
                     download the result and error files, list them in {} and run again",
                    plural(files.len() as u64, "request file is", "request files are"),
                    batch::batches_dir(cache).display(),
                    self.results_knob
                ))
                .into());
            }
            let ended = batch::submit_and_wait(cfg, &files, cache)?;
            failures.extend(ended.failures);
            *spent += ended.spent;
            for why in &ended.stopped {
                eprintln!(
                    "summarize: {why}; its requests go into new request files on the next run"
                );
            }
            if ended.expired == 0 || !ended.stopped.is_empty() {
                return Ok(());
            }
            if round < BATCH_ROUNDS {
                eprintln!(
                    "summarize: {} left undone by expired batches go into new request files now (round {} of at most {BATCH_ROUNDS})",
                    plural(ended.expired, "request", "requests"),
                    round + 1
                );
            }
        }
        Ok(())
    }

    /// Writes the summarized splits from the cache; the items it lacks, with reasons.
    /// With any item lacking, nothing is written: a split that is not whole never sits
    /// under an output's name.
    fn write_outputs(&self, cache: &Cache, failed: &BTreeMap<Key, String>) -> Result<Written> {
        let mut writers = Vec::new();
        let mut missing = Vec::new();
        let mut n = 0;
        for (s, file) in SPLITS.iter().enumerate() {
            let mut w = ArtifactWriter::<SummarizedItem>::create(self.out_dir.join(file))?;
            for (pos, item) in ArtifactReader::<RawItem>::open(self.input.join(file))?.enumerate() {
                let item = item?;
                let key = crate::request::key(&self.config, &item.full);
                match cache.get(&key)? {
                    Some(a) => {
                        n += 1;
                        w.write(&SummarizedItem {
                            title: item.title,
                            category: item.category,
                            price: item.price,
                            full: item.full,
                            weight: item.weight,
                            summary: a.text,
                        })?;
                    }
                    None => missing.push((
                        s,
                        pos as u64,
                        failed
                            .get(&key)
                            .cloned()
                            .unwrap_or_else(|| "not answered yet".into()),
                    )),
                }
            }
            writers.push(w);
        }
        let mut outputs = BTreeMap::new();
        if missing.is_empty() {
            for (file, w) in SPLITS.iter().zip(writers) {
                outputs.insert((*file).to_owned(), w.finish()?);
            }
        }
        Ok((outputs, n, missing))
    }

    fn run_from(&self, plan: &Plan, path: &Path) -> Result<Manifest> {
        let mut writers = SPLITS
            .iter()
            .map(|f| ArtifactWriter::<SummarizedItem>::create(self.out_dir.join(f)))
            .collect::<Result<Vec<_>, _>>()?;
        let mut rejects = JsonLinesWriter::create(self.out_dir.join(REJECTS))?;
        let mut counts = Counts::default();
        let mut has = from::Has::ALL;
        from::read(path, |row| {
            match row {
                Ok((split, item, row_has)) => {
                    counts.keep();
                    has = has.and(row_has);
                    writers[split].write(&item)?;
                }
                Err(r) => {
                    counts.reject(r.reason);
                    rejects.write_value(&r.json())?;
                }
            }
            Ok(())
        })?;
        let mut outputs = BTreeMap::new();
        for (f, w) in SPLITS.iter().zip(writers) {
            outputs.insert((*f).to_owned(), w.finish()?);
        }
        outputs.insert(REJECTS.to_owned(), rejects.finish()?);
        let mut m = plan.manifest(outputs, counts);
        // Export publishes only the columns every item had (the others would be blanks).
        let lacking: Vec<&str> = from::Has::OPTIONAL
            .into_iter()
            .filter(|c| !has.has(c))
            .collect();
        if !lacking.is_empty() {
            eprintln!(
                "summarize: warning: {} lacks {} on some or all rows; the export leaves those columns out",
                path.display(),
                lacking.join(", ")
            );
        }
        m.summary =
            serde_json::json!({"from": path.display().to_string(), "columns": has.columns()});
        m.write(&self.out_dir)?;
        Ok(m)
    }
}

impl Stage for SummarizeStage {
    fn name(&self) -> &str {
        STAGE
    }

    fn dir(&self) -> &Path {
        &self.out_dir
    }

    fn inputs(&self) -> Result<Vec<InputRef>> {
        match &self.config.from {
            Some(from) => from::files(from)?
                .iter()
                .map(|f| InputRef::of_file(f))
                .collect(),
            None => {
                let paths: Vec<PathBuf> = SPLITS.iter().map(|f| self.input.join(f)).collect();
                InputRef::of_some_records(&paths, STAGE)
            }
        }
    }

    fn config(&self) -> serde_json::Value {
        self.config.semantic()
    }

    fn outputs(&self) -> Vec<Output> {
        let mut out: Vec<Output> = SPLITS.iter().map(|f| Output::File((*f).into())).collect();
        if self.config.from.is_some() {
            out.push(Output::File(REJECTS.into()));
        }
        out
    }

    fn run(&self, plan: &Plan) -> Result<Manifest> {
        if let Some(from) = &self.config.from {
            return self.run_from(plan, from);
        }
        let mut cache = Cache::open(&self.config.cache_dir())?;
        let (failures, spent) = self.request_missing(&mut cache)?;
        let failed: BTreeMap<Key, String> =
            failures.into_iter().map(|(k, f)| (k, f.reason)).collect();
        let (outputs, n, missing) = self.write_outputs(&cache, &failed)?;
        let spent_json = serde_json::json!({
            "requests": spent.requests,
            "answers": spent.answers,
            "prompt_tokens": spent.prompt_tokens,
            "completion_tokens": spent.completion_tokens,
            "cost_usd": spent.cost(&self.config.prices()),
        });
        if !missing.is_empty() {
            eprintln!("summarize: {}", spent_text(&spent_json));
            let mut w = JsonLinesWriter::create(self.out_dir.join(FAILURES))?;
            for (s, pos, reason) in &missing {
                w.write_value(&serde_json::json!({"split": SPLITS[*s].trim_end_matches(".art"), "item": pos, "reason": reason}))?;
            }
            w.finish()?;
            bail!(
                "{} no summary yet ({}); they are listed in {} and will be requested again on the next run",
                plural(missing.len() as u64, "item has", "items have"),
                missing[0].2,
                self.out_dir.join(FAILURES).display()
            );
        }
        let mut m = plan.manifest(outputs, Counts::all_kept(n));
        m.this_run = spent_json;
        m.this_run["cache"] = serde_json::json!(cache.dir().display().to_string());
        m.write(&self.out_dir)?;
        Ok(m)
    }

    fn summary(&self, m: &Manifest) -> String {
        let s = &m.summary;
        if let Some(from) = s["from"].as_str() {
            return format!(
                "summarize: {} items with summaries from {from}, {} rows rejected ({}; listed in {}) in {:.1} s -> {}",
                obs::thousands(m.counts.kept),
                obs::thousands(m.counts.rejected),
                m.counts.reasons(),
                REJECTS,
                m.wall_seconds,
                self.out_dir.display()
            );
        }
        format!(
            "summarize: {} with summaries; {} in {:.1} s -> {}",
            plural(m.counts.kept, "item", "items"),
            spent_text(&m.this_run),
            m.wall_seconds,
            self.out_dir.display()
        )
    }
}

/// What a run sent and what its answers cost, from the manifest's figures.
fn spent_text(s: &serde_json::Value) -> String {
    let n = |k: &str| s[k].as_u64().unwrap_or(0);
    format!(
        "this run sent {} and received {} ({} in + {} out tokens, ${:.4})",
        plural(n("requests"), "request", "requests"),
        plural(n("answers"), "answer", "answers"),
        obs::thousands(n("prompt_tokens")),
        obs::thousands(n("completion_tokens")),
        s["cost_usd"].as_f64().unwrap_or(0.0),
    )
}
