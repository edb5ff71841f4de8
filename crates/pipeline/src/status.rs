//! `pricer status RUN`: what each stage of a run folder holds, as the runner would judge
//! it now: up to date (its inputs and config are those its outputs were made from, and
//! the outputs still verify), out of date, or not run; its counts; where its outputs are.
//! The run's config is the copy the runner keeps in the folder ([`RUN_CONFIG`]).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use pricer_core::manifest::{Counts, Manifest};
use pricer_core::stage;

use crate::config::RunConfig;
use crate::configs::ConfigSource;
use crate::recipe;

/// The copy of its config the runner writes into every run folder.
pub const RUN_CONFIG: &str = "run.toml";

/// How a stage of a run stands.
#[derive(Debug, Clone, PartialEq)]
pub enum State {
    /// Its outputs are what its inputs and config make now.
    UpToDate,
    /// It ran, but its inputs or config changed since, or its outputs were touched.
    OutOfDate,
    /// It has not finished a run (or its inputs are not there yet: the reason).
    NotRun(Option<String>),
}

/// One stage of a run folder.
#[derive(Debug, Clone, PartialEq)]
pub struct StageStatus {
    pub stage: String,
    pub dir: PathBuf,
    pub state: State,
    /// From its manifest, when it has one.
    pub counts: Option<Counts>,
    /// Its outputs, as its manifest lists them.
    pub outputs: Vec<String>,
}

/// The stages of the run in `run` and how each stands.
pub fn status(run: &Path) -> Result<Vec<StageStatus>> {
    let copy = run.join(RUN_CONFIG);
    anyhow::ensure!(
        copy.is_file(),
        "{}: not a run folder (no {RUN_CONFIG}; it is written by every run since pricer 0.1)",
        run.display()
    );
    let cfg = RunConfig::load(&ConfigSource::File(copy))
        .with_context(|| format!("{}: the run's config", run.display()))?;
    let stages = recipe::stages(&cfg, run)?;
    let mut out = Vec::new();
    for s in &stages {
        let m = Manifest::read(s.dir()).ok();
        let state = match stage::plan(s.as_ref()) {
            Err(e) => State::NotRun(Some(format!("{e:#}"))),
            Ok(plan) if stage::up_to_date(s.as_ref(), &plan).is_some() => State::UpToDate,
            Ok(_) if m.is_some() => State::OutOfDate,
            Ok(_) => State::NotRun(None),
        };
        out.push(StageStatus {
            stage: s.name().to_owned(),
            dir: s.dir().to_owned(),
            state,
            counts: m.as_ref().map(|m| m.counts.clone()),
            outputs: m
                .map(|m| m.outputs.into_keys().collect())
                .unwrap_or_default(),
        });
    }
    Ok(out)
}

/// The status as lines for a terminal.
pub fn lines(stages: &[StageStatus]) -> Vec<String> {
    stages
        .iter()
        .map(|s| {
            let state = match &s.state {
                State::UpToDate => "up to date".to_owned(),
                State::OutOfDate => "out of date (runs again on the next run)".to_owned(),
                State::NotRun(None) => "not run".to_owned(),
                State::NotRun(Some(why)) => format!("not run ({why})"),
            };
            let counts = s.counts.as_ref().map_or(String::new(), |c| {
                format!(
                    "; {} in, {} kept, {} rejected",
                    pricer_core::obs::thousands(c.rows_in),
                    pricer_core::obs::thousands(c.kept),
                    pricer_core::obs::thousands(c.rejected)
                )
            });
            let outputs = if s.outputs.is_empty() {
                String::new()
            } else {
                format!(" -> {} ({})", s.dir.display(), s.outputs.join(", "))
            };
            format!("{}: {state}{counts}{outputs}", s.stage)
        })
        .collect()
}
