//! The stage interface, and the runner logic that every way of running stages shares.
//!
//! A stage is one step of a recipe: it reads input artifacts (or raw files), writes its
//! outputs into its own folder, and writes `manifest.json` last. It tells the runner
//! everything the runner needs, so that the runner knows no stage's private names:
//!
//! - [`Stage::name`] and [`Stage::dir`]: what it is called and where it writes;
//! - [`Stage::inputs`]: what it reads, by content digest;
//! - [`Stage::config`]: its semantic config, every knob that changes output bytes;
//! - [`Stage::outputs`]: every file it writes, rejects included ([`Output`]);
//! - [`Stage::temporaries`]: names a killed run of it may leave behind;
//! - [`Stage::run`]: the work, given the [`Plan`] (inputs and fingerprint);
//! - [`Stage::summary`]: the one line a user reads afterwards;
//! - [`Stage::warm_up`] (optional): work that needs none of its inputs, such as loading
//!   models, which a runner may start on another thread while earlier stages run.
//!
//! The fingerprint that decides whether a finished stage can be skipped is BLAKE3 over
//! the stage name, the code version, the recipe constants, the input digests and the
//! semantic config (and the shard, for one shard of a sharded run). A stage is up to date
//! when its manifest has that fingerprint, lists every declared output, and every listed
//! output still has its digest.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, ensure, Context, Result};

use crate::artifact::{verify, ArtifactInfo};
use crate::atomic::TEMP_MARK;
use crate::jsonl::{FILE_KIND, JSONL_KIND};
use crate::manifest::{fingerprint, Counts, InputRef, Manifest};
use crate::shard::ShardSpec;

/// A file or folder a stage writes, relative to its folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// One file (an artifact, a rejects file, a report).
    File(String),
    /// A folder the stage owns: every file in it is an output.
    Folder(String),
}

/// One step of a recipe (see the module documentation). `Sync`, so that a runner can
/// warm up later stages beside the one running.
pub trait Stage: Sync {
    /// The stage's name in run folders, manifests and messages (`ingest`, `prompt`, ...).
    fn name(&self) -> &str;
    /// The folder it writes.
    fn dir(&self) -> &Path;
    /// What it reads, with content digests. Cheap for artifacts (their header digest;
    /// the reader checks the body at the end), a full read for raw files.
    fn inputs(&self) -> Result<Vec<InputRef>>;
    /// Every knob that changes output bytes, nothing else.
    fn config(&self) -> serde_json::Value;
    /// Every file this run of the stage writes (given its config), rejects included.
    fn outputs(&self) -> Vec<Output>;
    /// Name prefixes of what a killed run may leave (besides names holding `.tmp-`,
    /// which every writer uses), e.g. work folders.
    fn temporaries(&self) -> Vec<&'static str> {
        Vec::new()
    }
    /// Set when this run is one shard of a sharded stage (`--shard i/N`).
    fn shard(&self) -> Option<ShardSpec> {
        None
    }
    /// Does the work and writes the manifest ([`Plan::manifest`] builds it) last.
    fn run(&self, plan: &Plan) -> Result<Manifest>;
    /// The one-line summary printed after a run or a skip.
    fn summary(&self, m: &Manifest) -> String;
    /// Prepares what [`Stage::run`] will need and can have before its inputs exist
    /// (keep it in an [`Ahead`](crate::ahead::Ahead)). A runner calls it on another
    /// thread while earlier stages run; `run` must give the same bytes whether it ran,
    /// is still running or never ran.
    fn warm_up(&self) {}
}

/// What a stage run is planned to read and be: handed to [`Stage::run`] so that inputs
/// are digested once and the manifest carries exactly the planned fingerprint.
#[derive(Debug, Clone)]
pub struct Plan {
    pub stage: String,
    pub inputs: Vec<InputRef>,
    pub config: serde_json::Value,
    pub fingerprint: String,
    pub shard: Option<ShardSpec>,
    pub started: Instant,
}

impl Plan {
    /// The digest of the input at `path`, as planned.
    pub fn input_digest(&self, path: &Path) -> Option<&str> {
        let want = path.display().to_string();
        self.inputs
            .iter()
            .find(|i| i.path == want)
            .map(|i| i.digest.as_str())
    }

    /// The manifest of this run: planned inputs, config and fingerprint, wall time now.
    pub fn manifest(&self, outputs: BTreeMap<String, ArtifactInfo>, counts: Counts) -> Manifest {
        let mut m = Manifest::for_stage(
            &self.stage,
            self.inputs.clone(),
            self.config.clone(),
            outputs,
            counts,
            self.started,
        );
        m.fingerprint = self.fingerprint.clone();
        m
    }
}

/// The fingerprint of a stage run (a shard's says which part of the whole it is).
pub fn stage_fingerprint(
    name: &str,
    inputs: &[InputRef],
    config: &serde_json::Value,
    shard: Option<ShardSpec>,
) -> String {
    let digests: Vec<&str> = inputs.iter().map(|i| i.digest.as_str()).collect();
    match shard {
        None => fingerprint(name, &digests, config),
        Some(s) => fingerprint(
            name,
            &digests,
            &serde_json::json!({"config": config, "shard": s.to_string()}),
        ),
    }
}

/// Plans a run of `stage`: digests its inputs and computes the fingerprint.
pub fn plan(stage: &dyn Stage) -> Result<Plan> {
    let started = Instant::now();
    let inputs = stage
        .inputs()
        .with_context(|| format!("stage {}: cannot read its inputs", stage.name()))?;
    let config = stage.config();
    let shard = stage.shard();
    Ok(Plan {
        stage: stage.name().to_owned(),
        fingerprint: stage_fingerprint(stage.name(), &inputs, &config, shard),
        inputs,
        config,
        shard,
        started,
    })
}

/// The digest an output has on disk now, by its kind.
fn digest_on_disk(path: &Path, info: &ArtifactInfo) -> Result<String> {
    use crate::stamp::{digest, Kind};
    Ok(match info.record_type.as_str() {
        FILE_KIND | JSONL_KIND => digest(path, Kind::File, || crate::digest::file_digest(path))
            .with_context(|| format!("{}: cannot read", path.display()))?,
        _ => digest(path, Kind::Artifact, || verify(path).map(|i| i.digest))?,
    })
}

/// Files under `dir/sub`, relative to `dir`, temporaries left out.
fn files_under(dir: &Path, sub: &str) -> Result<BTreeSet<String>> {
    let mut out = BTreeSet::new();
    let mut stack = vec![dir.join(sub)];
    while let Some(d) = stack.pop() {
        let entries = match fs::read_dir(&d) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e).with_context(|| format!("{}: cannot list", d.display())),
        };
        for e in entries {
            let e = e.with_context(|| format!("{}: cannot list", d.display()))?;
            let path = e.path();
            if path.is_dir() {
                stack.push(path);
            } else if !e.file_name().to_string_lossy().contains(TEMP_MARK) {
                let rel = path.strip_prefix(dir).unwrap_or(&path);
                out.insert(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    Ok(out)
}

/// Why the outputs a manifest lists are not what the stage declares or what is on disk.
pub fn check_outputs(stage: &dyn Stage, m: &Manifest) -> Result<()> {
    check_declared(stage, m)?;
    verify_listed(stage.dir(), m)
}

/// Why the outputs `m` lists in `dir` do not have their digests (missing, changed, torn).
pub fn verify_listed(dir: &Path, m: &Manifest) -> Result<()> {
    for (name, info) in &m.outputs {
        let path = dir.join(name);
        let digest = digest_on_disk(&path, info)?;
        ensure!(
            digest == info.digest,
            "{}: changed on disk since its stage wrote it",
            path.display()
        );
    }
    Ok(())
}

/// Why the outputs a manifest lists are not the ones the stage declares (names only).
fn check_declared(stage: &dyn Stage, m: &Manifest) -> Result<()> {
    let dir = stage.dir();
    for decl in stage.outputs() {
        match decl {
            Output::File(name) => ensure!(
                m.outputs.contains_key(&name),
                "{}: the manifest does not list {name}",
                dir.display()
            ),
            Output::Folder(sub) => {
                let prefix = format!("{sub}/");
                let listed: BTreeSet<String> = m
                    .outputs
                    .keys()
                    .filter(|k| k.starts_with(&prefix))
                    .cloned()
                    .collect();
                let found = files_under(dir, &sub)?;
                if let Some(extra) = found.symmetric_difference(&listed).next() {
                    bail!(
                        "{}: {extra} is on disk or in the manifest, not both",
                        dir.display()
                    );
                }
            }
        }
    }
    Ok(())
}

/// The manifest of `stage`'s folder if it is the finished run `plan` describes.
pub fn up_to_date(stage: &dyn Stage, plan: &Plan) -> Option<Manifest> {
    let m = Manifest::read(stage.dir()).ok()?;
    if m.fingerprint != plan.fingerprint {
        return None;
    }
    match check_outputs(stage, &m) {
        Ok(()) => Some(m),
        Err(e) => {
            tracing::warn!("{e:#}; the stage will run again");
            None
        }
    }
}

fn remove_path(path: &Path) -> Result<()> {
    let done = match fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => fs::remove_dir_all(path),
        Ok(_) => fs::remove_file(path),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    };
    done.with_context(|| format!("{}: cannot remove", path.display()))
}

/// Removes what a killed run of `stage` may have left: names holding `.tmp-` and the
/// stage's own temporaries, anywhere in its folder.
pub fn remove_temporaries(stage: &dyn Stage) -> Result<()> {
    let prefixes = stage.temporaries();
    let mut stack = vec![stage.dir().to_owned()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let path = e.path();
            if name.contains(TEMP_MARK) || prefixes.iter().any(|p| name.starts_with(p)) {
                remove_path(&path)?;
            } else if path.is_dir() {
                stack.push(path);
            }
        }
    }
    Ok(())
}

/// Clears `stage`'s folder before a pipeline run of it: every output the old manifest
/// lists or the stage declares, the temporaries, and the manifest last (so that a kill
/// in between leaves a manifest that no longer verifies, never an unlisted leftover).
pub fn prepare(stage: &dyn Stage) -> Result<()> {
    let dir = stage.dir();
    if !dir.is_dir() {
        return Ok(());
    }
    if let Ok(old) = Manifest::read(dir) {
        for name in old.outputs.keys() {
            remove_path(&dir.join(name))?;
        }
    }
    for decl in stage.outputs() {
        match decl {
            Output::File(name) | Output::Folder(name) => remove_path(&dir.join(name))?,
        }
    }
    remove_temporaries(stage)?;
    remove_path(&Manifest::path_in(dir))
}

/// Runs `stage` as its binary does: into its folder whatever is there (outputs are
/// replaced by rename, so a failed run leaves the previous ones), then removes what the
/// previous run wrote and this one did not.
pub fn run_now(stage: &dyn Stage) -> Result<Manifest> {
    let previous = Manifest::read(stage.dir()).ok();
    remove_temporaries(stage)?;
    let plan = plan(stage)?;
    let m = run_planned(stage, &plan)?;
    for name in previous.iter().flat_map(|p| p.outputs.keys()) {
        if !m.outputs.contains_key(name) {
            remove_path(&stage.dir().join(name))?;
        }
    }
    check_written(stage, &m)?;
    Ok(m)
}

fn run_planned(stage: &dyn Stage, plan: &Plan) -> Result<Manifest> {
    let _span = tracing::info_span!("stage", name = stage.name()).entered();
    let m = stage
        .run(plan)
        .with_context(|| format!("stage {} failed", stage.name()))?;
    ensure!(
        m.fingerprint == plan.fingerprint,
        "internal error: {} wrote another fingerprint than planned",
        stage.name()
    );
    Ok(m)
}

/// A stage that just ran must have written exactly what it declares.
fn check_written(stage: &dyn Stage, m: &Manifest) -> Result<()> {
    check_declared(stage, m).with_context(|| {
        format!(
            "internal error: {} wrote other outputs than it declares",
            stage.name()
        )
    })
}

/// What the runner did with a stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ran,
    /// Up to date: its manifest has the planned fingerprint and its outputs verify.
    Skipped,
    /// Before `--start-at`: taken as it is, after checks.
    Taken,
}

/// Runs `stage` unless it is up to date (or `force`); returns its manifest. `on_run` is
/// called once it is decided that the stage runs, before it does (the pipeline runner
/// starts the later stages' warm-ups there).
pub fn execute(
    stage: &dyn Stage,
    force: bool,
    on_run: impl FnOnce(),
) -> Result<(Manifest, Outcome)> {
    let plan = plan(stage)?;
    if !force {
        if let Some(m) = up_to_date(stage, &plan) {
            return Ok((m, Outcome::Skipped));
        }
    }
    on_run();
    prepare(stage)?;
    let m = run_planned(stage, &plan)?;
    check_written(stage, &m)?;
    Ok((m, Outcome::Ran))
}

/// Outputs of earlier stages of a run, by canonical path, for checking that a stage taken
/// as it is was made from them.
#[derive(Debug, Default)]
pub struct KnownOutputs(BTreeMap<PathBuf, String>);

impl KnownOutputs {
    pub fn add(&mut self, dir: &Path, m: &Manifest) {
        for (name, info) in &m.outputs {
            if let Ok(p) = dir.join(name).canonicalize() {
                self.0.insert(p, info.digest.clone());
            }
        }
    }
}

/// A stage before `--start-at`: its folder must hold a finished, unsharded run of it with
/// this config, whose outputs verify and whose inputs from earlier stages of the run are
/// those stages' outputs. Its raw inputs are not read again.
pub fn accept(stage: &dyn Stage, known: &KnownOutputs) -> Result<Manifest> {
    let dir = stage.dir();
    let m = Manifest::read(dir).with_context(|| {
        format!(
            "--start-at: {} has no finished {} stage",
            dir.display(),
            stage.name()
        )
    })?;
    ensure!(
        m.stage == stage.name(),
        "{}: holds a {} stage, not {}",
        dir.display(),
        m.stage,
        stage.name()
    );
    ensure!(
        m.shard.is_none(),
        "{}: one shard only; merge the shards with pricer-merge first",
        dir.display()
    );
    let config = stage.config();
    ensure!(
        m.config == config,
        "{}: made with another {} config than this run's ({} vs {config})",
        dir.display(),
        stage.name(),
        m.config
    );
    let expected = stage_fingerprint(stage.name(), &m.inputs, &config, None);
    ensure!(
        m.fingerprint == expected,
        "{}: its manifest's fingerprint does not match its inputs and config (made by another pricer version?)",
        dir.display()
    );
    check_outputs(stage, &m).with_context(|| {
        format!(
            "{}: its outputs do not verify; run the {} stage again",
            dir.display(),
            stage.name()
        )
    })?;
    for input in &m.inputs {
        let Ok(p) = Path::new(&input.path).canonicalize() else {
            continue;
        };
        if let Some(d) = known.0.get(&p) {
            ensure!(
                *d == input.digest,
                "{}: made from another {} than the one in this run",
                dir.display(),
                input.path
            );
        }
    }
    Ok(m)
}

/// Holds a run folder's lock for the life of the run.
#[derive(Debug)]
pub struct RunLock {
    _file: fs::File,
}

/// The run folder's lock file.
pub const LOCK_FILE: &str = ".lock";

/// Locks `RUN/.lock`; a second run on the same folder refuses with a clear message.
pub fn lock_run(out: &Path) -> Result<RunLock> {
    use std::io::Write;
    crate::atomic::create_dir(out)?;
    let path = out.join(LOCK_FILE);
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
    file.set_len(0)
        .and_then(|_| write!(file, "pid {}", std::process::id()))
        .with_context(|| format!("{}: cannot write", path.display()))?;
    Ok(RunLock { _file: file })
}

/// Short form of a fingerprint for messages (never panics on odd manifests).
pub fn short(fingerprint: &str) -> &str {
    fingerprint.get(..12).unwrap_or(fingerprint)
}
