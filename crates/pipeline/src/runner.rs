//! The runner: the stages of a run's recipe, in order, into one run folder.
//!
//! The runner knows stages only through `pricer_core::stage::Stage`: a stage is skipped
//! when the fingerprint of what it would do (input digests + semantic config + code
//! version) equals the one in its manifest and every output it declares still verifies;
//! a stage about to run first clears what an earlier or killed run of it left. What
//! happens is told to an [`Observer`]: the command line prints it, the Python package
//! turns it into a progress bar and a table.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Result};
use pricer_core::manifest::{Counts, Manifest};
use pricer_core::obs::plural;
use pricer_core::stage::{self, short, KnownOutputs, Outcome, Stage};

use crate::config::RunConfig;
use crate::configs::ConfigSource;
use crate::recipe;

/// What to run, where, and how.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    pub config: ConfigSource,
    /// The run folder.
    pub out: PathBuf,
    /// Worker threads (None: one per core). Output bytes do not depend on it.
    pub threads: Option<usize>,
    /// Run every stage even when it is up to date.
    pub force: bool,
    /// Run this stage and every later one even when up to date.
    pub from: Option<String>,
    /// Take the stages before this one as they are in the run folder (e.g. merged from a
    /// sharded run by `pricer-merge`): their outputs are verified and must match the
    /// config, but their inputs are not re-read.
    pub start_at: Option<String>,
}

/// What happened to one stage.
#[derive(Debug, Clone, PartialEq)]
pub struct StageReport {
    pub stage: String,
    pub outcome: Outcome,
    /// The stage's folder.
    pub dir: PathBuf,
    /// The line the command prints for it.
    pub line: String,
    pub counts: Counts,
    /// The time its run took (that of the run that made its outputs, when skipped).
    pub wall_seconds: f64,
    pub fingerprint: String,
}

/// What a run did.
#[derive(Debug, Clone, PartialEq)]
pub struct RunReport {
    pub out: PathBuf,
    pub threads: usize,
    pub stages: Vec<StageReport>,
}

impl RunReport {
    /// The line the command prints last.
    pub fn closing_line(&self) -> String {
        let ran: Vec<&str> = self
            .stages
            .iter()
            .filter(|s| s.outcome == Outcome::Ran)
            .map(|s| s.stage.as_str())
            .collect();
        if ran.is_empty() {
            format!(
                "pipeline: nothing to do, every stage is up to date in {}",
                self.out.display()
            )
        } else {
            format!(
                "pipeline: ran {} in {} ({})",
                ran.join(", "),
                self.out.display(),
                plural(self.threads as u64, "thread", "threads")
            )
        }
    }
}

/// Told what the runner does, as it does it.
pub trait Observer {
    /// The run's stages, in order, before any runs.
    fn planned(&mut self, _stages: &[&str]) {}
    /// A stage is about to be planned (its inputs digested) and, unless up to date, run.
    fn starting(&mut self, _stage: &str) {}
    /// A stage ran, was skipped or was taken.
    fn done(&mut self, _report: &StageReport) {}
}

/// An observer that prints each stage's line and the closing line on stdout, as the
/// command line has always printed them.
#[derive(Debug, Default)]
pub struct Print;

impl Observer for Print {
    fn done(&mut self, report: &StageReport) {
        println!("{}", report.line);
    }
}

/// Runs the stages of `opts.config`'s recipe into `opts.out`.
pub fn run(opts: &RunOptions, observer: &mut dyn Observer) -> Result<RunReport> {
    let cfg = RunConfig::load(&opts.config)?;
    let out = &opts.out;
    let existed = out.exists();
    let result = run_locked(&cfg, opts, observer);
    if result.is_err() && !existed {
        // A run that stopped before writing anything (a Hub or tokenizer error) leaves no
        // folder holding only its lock.
        remove_if_only_lock(out);
    }
    result
}

fn run_locked(
    cfg: &RunConfig,
    opts: &RunOptions,
    observer: &mut dyn Observer,
) -> Result<RunReport> {
    let out = &opts.out;
    let _lock = stage::lock_run(out)?;
    keep_config(cfg, out)?;
    let threads = pricer_core::obs::init_threads(opts.threads);
    let stages = recipe::stages(cfg, out)?;
    let names: Vec<&str> = stages.iter().map(|s| s.name()).collect();
    let position = |name: &String| {
        names.iter().position(|n| n == name).ok_or_else(|| {
            anyhow!(
                "no stage {name} in this run's recipe (its stages: {})",
                names.join(", ")
            )
        })
    };
    let from = opts.from.as_ref().map(position).transpose()?;
    let start_at = opts.start_at.as_ref().map(position).transpose()?;
    observer.planned(&names);
    let mut known = KnownOutputs::default();
    let mut reports = Vec::new();
    // The first stage that runs starts the later stages' warm-ups (loading their models)
    // on one thread beside it, so that no stage waits for a load on its own; the scope
    // waits for a warm-up whose stage never came (an error, or it was up to date). With
    // one thread (`--threads 1`) there is no second core to use: stages load in their run.
    let mut warmed = threads < 2;
    std::thread::scope(|scope| -> Result<()> {
        for (i, stage) in stages.iter().enumerate() {
            observer.starting(stage.name());
            let warm_later = || {
                if !std::mem::replace(&mut warmed, true) {
                    let later = &stages[i + 1..];
                    scope.spawn(move || later.iter().for_each(|s| s.warm_up()));
                }
            };
            let (m, outcome) = if start_at.is_some_and(|at| i < at) {
                (stage::accept(stage.as_ref(), &known)?, Outcome::Taken)
            } else {
                let force = opts.force || from.is_some_and(|f| i >= f);
                stage::execute(stage.as_ref(), force, warm_later)?
            };
            known.add(stage.dir(), &m);
            let report = report(stage.as_ref(), &m, outcome);
            observer.done(&report);
            reports.push(report);
        }
        Ok(())
    })?;
    Ok(RunReport {
        out: out.clone(),
        threads,
        stages: reports,
    })
}

fn report(stage: &dyn Stage, m: &Manifest, outcome: Outcome) -> StageReport {
    let line = match outcome {
        Outcome::Ran => stage.summary(m),
        Outcome::Skipped => format!(
            "{}: up to date, skipped (fingerprint {})",
            stage.name(),
            short(&m.fingerprint)
        ),
        Outcome::Taken => format!(
            "{}: taken as it is (fingerprint {})",
            stage.name(),
            short(&m.fingerprint)
        ),
    };
    StageReport {
        stage: stage.name().to_owned(),
        outcome,
        dir: stage.dir().to_owned(),
        line,
        counts: m.counts.clone(),
        wall_seconds: m.wall_seconds,
        fingerprint: m.fingerprint.clone(),
    }
}

/// Writes the run's config into its folder (paths made absolute), for `pricer status`.
fn keep_config(cfg: &RunConfig, out: &Path) -> Result<()> {
    let mut copy = cfg.clone();
    copy.absolute_paths();
    let text = format!(
        "# The config of the last run into this folder (pricer status reads it).\n{}",
        copy.to_toml()?
    );
    pricer_core::atomic::write_atomic(&out.join(crate::status::RUN_CONFIG), text.as_bytes())?;
    Ok(())
}

/// Removes `dir` if all it holds is the run lock and the config copy.
fn remove_if_only_lock(dir: &Path) {
    let only_lock = std::fs::read_dir(dir).is_ok_and(|entries| {
        entries.filter_map(|e| e.ok()).all(|e| {
            e.file_name() == stage::LOCK_FILE || e.file_name() == crate::status::RUN_CONFIG
        })
    });
    if only_lock {
        let _ = std::fs::remove_dir_all(dir);
    }
}
