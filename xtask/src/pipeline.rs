//! `cargo xtask pipeline`: the stages of the run's recipe, in order, into one run folder.
//!
//! The runner knows stages only through `pricer_core::stage::Stage`: a stage is skipped
//! when the fingerprint of what it would do (input digests + semantic config + code
//! version) equals the one in its manifest and every output it declares still verifies;
//! a stage about to run first clears what an earlier or killed run of it left.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Result};
use pricer_core::stage::{self, short, KnownOutputs, Outcome};

use crate::config::RunConfig;
use crate::recipe;

#[derive(Debug, Clone)]
pub struct PipelineArgs {
    pub config: Option<PathBuf>,
    pub out: PathBuf,
    pub threads: Option<usize>,
    pub force: bool,
    /// Run this stage and every later one even when up to date.
    pub from: Option<String>,
    /// Take the stages before this one as they are in the run folder (e.g. merged from a
    /// sharded run by `pricer-merge`): their outputs are verified and must match the
    /// config, but their inputs are not re-read.
    pub start_at: Option<String>,
}

/// The run folder when `--out` is not given: `runs/default` for the bundled fixtures,
/// `runs/<config name>` for a config, so that runs of two configs never share a folder,
/// where each would replace the other's stages (and a V2 run would sit beside a V1 run's
/// leftover prompt, split and audit folders).
pub fn default_out(config: Option<&Path>) -> PathBuf {
    let name = config
        .and_then(Path::file_stem)
        .map_or_else(|| "default".into(), |stem| stem.to_string_lossy());
    Path::new("runs").join(&*name)
}

/// What happened to each stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageOutcome {
    pub stage: String,
    pub outcome: Outcome,
}

pub fn run(args: &PipelineArgs) -> Result<Vec<StageOutcome>> {
    let cfg = RunConfig::load(args.config.as_deref())?;
    let out = &args.out;
    let _lock = stage::lock_run(out)?;
    let threads = pricer_core::obs::init_threads(args.threads);
    let stages = recipe::stages(&cfg, out)?;
    let names: Vec<&str> = stages.iter().map(|s| s.name()).collect();
    let position = |name: &String| {
        names.iter().position(|n| n == name).ok_or_else(|| {
            anyhow!(
                "no stage {name} in this run's recipe (its stages: {})",
                names.join(", ")
            )
        })
    };
    let from = args.from.as_ref().map(position).transpose()?;
    let start_at = args.start_at.as_ref().map(position).transpose()?;
    let mut known = KnownOutputs::default();
    let mut outcomes = Vec::new();
    // The first stage that runs starts the later stages' warm-ups (loading their models)
    // on one thread beside it, so that no stage waits for a load on its own; the scope
    // waits for a warm-up whose stage never came (an error, or it was up to date). With
    // one thread (`--threads 1`) there is no second core to use: stages load in their run.
    let mut warmed = threads < 2;
    std::thread::scope(|scope| -> Result<()> {
        for (i, stage) in stages.iter().enumerate() {
            let warm_later = || {
                if !std::mem::replace(&mut warmed, true) {
                    let later = &stages[i + 1..];
                    scope.spawn(move || later.iter().for_each(|s| s.warm_up()));
                }
            };
            let (m, outcome) = if start_at.is_some_and(|at| i < at) {
                (stage::accept(stage.as_ref(), &known)?, Outcome::Taken)
            } else {
                let force = args.force || from.is_some_and(|f| i >= f);
                stage::execute(stage.as_ref(), force, warm_later)?
            };
            match outcome {
                Outcome::Ran => println!("{}", stage.summary(&m)),
                Outcome::Skipped => println!(
                    "{}: up to date, skipped (fingerprint {})",
                    stage.name(),
                    short(&m.fingerprint)
                ),
                Outcome::Taken => println!(
                    "{}: taken as it is (fingerprint {})",
                    stage.name(),
                    short(&m.fingerprint)
                ),
            }
            known.add(stage.dir(), &m);
            outcomes.push(StageOutcome {
                stage: stage.name().to_owned(),
                outcome,
            });
        }
        Ok(())
    })?;
    let ran: Vec<&str> = outcomes
        .iter()
        .filter(|o| o.outcome == Outcome::Ran)
        .map(|o| o.stage.as_str())
        .collect();
    if ran.is_empty() {
        println!(
            "pipeline: nothing to do, every stage is up to date in {}",
            out.display()
        );
    } else {
        println!(
            "pipeline: ran {} in {} ({threads} threads)",
            ran.join(", "),
            out.display()
        );
    }
    Ok(outcomes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_config_has_its_own_default_run_folder() {
        assert_eq!(default_out(None), Path::new("runs/default"));
        let classic = default_out(Some(Path::new("xtask/configs/classic.toml")));
        assert_eq!(classic, Path::new("runs/classic"));
        let v2 = default_out(Some(Path::new("/home/me/my.v2.toml")));
        assert_eq!(v2, Path::new("runs/my.v2"));
    }
}
