//! `cargo xtask pipeline`: ingest -> prompt -> split -> audit -> export into one run folder.
//!
//! Each stage is skipped when the fingerprint of what it would do (input digests +
//! semantic config + code version) equals the one in its manifest and every output it
//! lists still verifies. A stage about to run first deletes its manifest and any
//! temporary files a killed run left, so a half-finished stage is never accepted.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use pricer_core::artifact::verify;
use pricer_core::manifest::Manifest;
use pricer_export::ExportConfig as ExportStage;
use pricer_ingest::{source, IngestConfig};
use pricer_prompt::{tokenizer, PromptConfig, TokenizerSource};
use pricer_split::SplitConfig;

use crate::config::RunConfig;

/// The stages in run order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum Stage {
    Ingest,
    Prompt,
    Split,
    Audit,
    Export,
}

impl Stage {
    pub fn name(self) -> &'static str {
        match self {
            Stage::Ingest => "ingest",
            Stage::Prompt => "prompt",
            Stage::Split => "split",
            Stage::Audit => "audit",
            Stage::Export => "export",
        }
    }
}

#[derive(Debug, Clone)]
pub struct PipelineArgs {
    pub config: Option<PathBuf>,
    pub out: PathBuf,
    pub threads: Option<usize>,
    pub force: bool,
    pub from: Option<Stage>,
    /// Take the stages before this one as they are in the run folder (e.g. merged from a
    /// sharded run by `pricer-merge`): their outputs are verified and must match the
    /// config, but their inputs are not re-read.
    pub start_at: Option<Stage>,
}

/// What happened to each stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageOutcome {
    pub stage: Stage,
    pub ran: bool,
}

/// Holds the run folder's lock for the life of the run.
pub struct RunLock {
    _file: File,
}

/// Locks `RUN/.lock`; a second run on the same folder refuses with a clear message.
pub fn lock_run(out: &Path) -> Result<RunLock> {
    fs::create_dir_all(out)
        .with_context(|| format!("{}: cannot create run folder", out.display()))?;
    let path = out.join(".lock");
    let mut file = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .with_context(|| format!("{}: cannot open", path.display()))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(fs::TryLockError::WouldBlock) => {
            let holder = fs::read_to_string(&path).unwrap_or_default();
            bail!(
                "run folder {} is in use by another pricer run ({}); wait for it to finish or choose another --out",
                out.display(),
                holder.trim()
            );
        }
        Err(fs::TryLockError::Error(e)) => {
            return Err(e).with_context(|| format!("{}: cannot lock", path.display()))
        }
    }
    file.set_len(0)?;
    write!(file, "pid {}", std::process::id())?;
    Ok(RunLock { _file: file })
}

/// The manifest of `dir` if it has fingerprint `fp` and every output still verifies.
pub fn up_to_date(dir: &Path, fp: &str) -> Option<Manifest> {
    let m = Manifest::read(dir).ok()?;
    if m.fingerprint != fp {
        return None;
    }
    for (name, info) in &m.outputs {
        let path = dir.join(name);
        let digest = if info.record_type == "file" {
            pricer_core::digest::file_digest(&path).ok()?
        } else {
            verify(&path).ok()?.digest
        };
        if digest != info.digest {
            tracing::warn!(file = %path.display(), "output changed on disk; the stage will run again");
            return None;
        }
    }
    Some(m)
}

/// Deletes the manifest and temporary files a killed run may have left.
fn prepare(dir: &Path) -> Result<()> {
    if !dir.is_dir() {
        return Ok(());
    }
    let manifest = Manifest::path_in(dir);
    if manifest.exists() {
        fs::remove_file(&manifest)
            .with_context(|| format!("{}: cannot remove", manifest.display()))?;
    }
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d)? {
            let e = e?;
            let name = e.file_name().to_string_lossy().into_owned();
            if e.file_type()?.is_dir() {
                if name.starts_with(".split-buckets-") {
                    fs::remove_dir_all(e.path())?;
                } else {
                    stack.push(e.path());
                }
            } else if name.contains(".tmp-") {
                fs::remove_file(e.path())?;
            }
        }
    }
    Ok(())
}

/// A stage before `--start-at`: its folder must be finished, its outputs must verify,
/// and its manifest must have been made with `config`; it is not run.
fn accept(
    stage: Stage,
    dir: &Path,
    config: &serde_json::Value,
    outcomes: &mut Vec<StageOutcome>,
) -> Result<Manifest> {
    let m = Manifest::read(dir).with_context(|| {
        format!(
            "--start-at: {} has no finished {} stage",
            dir.display(),
            stage.name()
        )
    })?;
    anyhow::ensure!(
        m.stage == stage.name(),
        "{}: holds a {} stage, not {}",
        dir.display(),
        m.stage,
        stage.name()
    );
    anyhow::ensure!(
        m.shard.is_none(),
        "{}: one shard only; merge the shards with pricer-merge first",
        dir.display()
    );
    anyhow::ensure!(
        &m.config == config,
        "{}: made with another {} config than this run's ({} vs {})",
        dir.display(),
        stage.name(),
        m.config,
        config
    );
    anyhow::ensure!(
        up_to_date(dir, &m.fingerprint).is_some(),
        "{}: its outputs do not verify; run the {} stage again",
        dir.display(),
        stage.name()
    );
    println!(
        "{}: taken as it is (fingerprint {})",
        stage.name(),
        &m.fingerprint[..12]
    );
    outcomes.push(StageOutcome { stage, ran: false });
    Ok(m)
}

fn step(
    stage: Stage,
    dir: &Path,
    fp: &str,
    force: bool,
    outcomes: &mut Vec<StageOutcome>,
    run: impl FnOnce() -> Result<Manifest>,
    summary: impl Fn(&Manifest) -> String,
) -> Result<Manifest> {
    if !force {
        if let Some(m) = up_to_date(dir, fp) {
            println!(
                "{}: up to date, skipped (fingerprint {})",
                stage.name(),
                &fp[..12]
            );
            outcomes.push(StageOutcome { stage, ran: false });
            return Ok(m);
        }
    }
    prepare(dir)?;
    let _span = tracing::info_span!("stage", name = stage.name()).entered();
    let m = run().with_context(|| format!("stage {} failed", stage.name()))?;
    anyhow::ensure!(
        m.fingerprint == fp,
        "internal error: {} ran with another fingerprint than planned",
        stage.name()
    );
    println!("{}", summary(&m));
    outcomes.push(StageOutcome { stage, ran: true });
    Ok(m)
}

pub fn run(args: &PipelineArgs) -> Result<Vec<StageOutcome>> {
    let cfg = RunConfig::load(args.config.as_deref())?;
    anyhow::ensure!(
        args.start_at.is_none_or(|s| s <= Stage::Split),
        "--start-at: at most split (the stages before it are taken as they are)"
    );
    let out = &args.out;
    let _lock = lock_run(out)?;
    let threads = pricer_core::obs::init_threads(args.threads);
    let forced = |s: Stage| args.force || args.from.is_some_and(|f| f <= s);
    let mut outcomes = Vec::new();

    let mut inputs = source::resolve(&cfg.input.paths)?;
    if let Some(dir) = &cfg.input.data_dir {
        inputs.extend(source::resolve_categories(dir, &cfg.input.categories)?);
    }
    anyhow::ensure!(
        !inputs.is_empty(),
        "no inputs: set [input] paths or categories + data_dir"
    );
    let ingest = IngestConfig::new(inputs, out.join("ingest"));
    let given = |s: Stage| args.start_at.is_some_and(|at| s < at);
    let ingest_m = if given(Stage::Ingest) {
        accept(
            Stage::Ingest,
            &ingest.out_dir,
            &ingest.semantic(),
            &mut outcomes,
        )?
    } else {
        let fp = pricer_ingest::run::fingerprint_of(&ingest)?;
        step(
            Stage::Ingest,
            &ingest.out_dir,
            &fp,
            forced(Stage::Ingest),
            &mut outcomes,
            || pricer_ingest::run(&ingest),
            |m| pricer_ingest::run::summary_line(m, &ingest.out_dir),
        )?
    };

    let source = match (&cfg.tokenizer.path, &cfg.tokenizer.hub) {
        (Some(p), _) => TokenizerSource::Path(p.clone()),
        (None, Some(model)) => TokenizerSource::Hub(model.clone()),
        (None, None) => TokenizerSource::Path(tokenizer::bundled_path()),
    };
    let tok = tokenizer::load(&source)?;
    let mut prompt = PromptConfig::new(&ingest.out_dir, out.join("prompt"));
    prompt.clean_up_spaces = cfg.tokenizer.clean_up_spaces;
    if given(Stage::Prompt) {
        let m = accept(
            Stage::Prompt,
            &prompt.out_dir,
            &prompt.semantic(&tok.digest),
            &mut outcomes,
        )?;
        let candidates = &ingest_m.outputs[pricer_ingest::run::CANDIDATES].digest;
        anyhow::ensure!(
            m.inputs.first().map(|i| &i.digest) == Some(candidates),
            "{}: made from other candidates than {}",
            prompt.out_dir.display(),
            ingest.out_dir.display()
        );
    } else {
        let fp = pricer_prompt::run::fingerprint_of(&prompt, &tok)?;
        step(
            Stage::Prompt,
            &prompt.out_dir,
            &fp,
            forced(Stage::Prompt),
            &mut outcomes,
            || pricer_prompt::run(&prompt, &tok),
            |m| pricer_prompt::run::summary_line(m, &prompt.out_dir),
        )?;
    }

    let split = SplitConfig {
        input: prompt.out_dir.clone(),
        out_dir: out.join("split"),
        sample: cfg.sample.clone(),
        sizes: cfg.split.clone(),
    };
    let fp = pricer_split::run::fingerprint_of(&split)?;
    step(
        Stage::Split,
        &split.out_dir,
        &fp,
        forced(Stage::Split),
        &mut outcomes,
        || pricer_split::run(&split).map(|(m, _)| m),
        |m| {
            serde_json::from_value(m.summary.clone())
                .map(|s| pricer_split::run::summary_line(&s, &split.out_dir))
                .unwrap_or_else(|_| format!("split: done -> {}", split.out_dir.display()))
        },
    )?;

    // Audit runs after split so that its report includes the first test items.
    let compare: Vec<(String, PathBuf)> = if cfg.audit.compare_bundled {
        pricer_audit::BUNDLED_COMPARE
            .iter()
            .map(|(n, p)| ((*n).to_owned(), PathBuf::from(p)))
            .collect()
    } else {
        Vec::new()
    };
    let audit = pricer_audit::AuditConfig {
        items_dir: prompt.out_dir.clone(),
        split_dir: Some(split.out_dir.clone()),
        out_dir: out.join("audit"),
        recipe_name: "Llama 3.1".into(),
        recipe: &tok,
        compare,
        compare_sample: cfg.audit.compare_sample,
        views: cfg.audit.items.clone(),
    };
    let fp = pricer_audit::run::fingerprint_of(&audit)?;
    step(
        Stage::Audit,
        &audit.out_dir,
        &fp,
        forced(Stage::Audit),
        &mut outcomes,
        || pricer_audit::run(&audit).map(|(m, _)| m),
        |m| pricer_audit::run::summary_line(m, &audit.out_dir),
    )?;

    let mut export = ExportStage::for_run(out);
    export.max_shard_bytes = cfg.export.max_shard_bytes;
    let fp = pricer_export::run::fingerprint_of(&export)?;
    step(
        Stage::Export,
        &export.out_dir,
        &fp,
        forced(Stage::Export),
        &mut outcomes,
        || pricer_export::run(&export),
        |m| pricer_export::run::summary_line(m, &export.out_dir),
    )?;

    let ran: Vec<&str> = outcomes
        .iter()
        .filter(|o| o.ran)
        .map(|o| o.stage.name())
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
