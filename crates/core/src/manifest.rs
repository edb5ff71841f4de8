//! `manifest.json`: what a stage read, with which semantic config, what it wrote, counts.
//!
//! A manifest is written last, atomically, after every artifact of the stage is in place:
//! a stage folder whose manifest names artifacts that verify is complete.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::artifact::ArtifactInfo;
use crate::atomic::write_atomic;

pub const MANIFEST_FILE: &str = "manifest.json";

/// One input of a stage: where it was read from and what it held.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputRef {
    pub path: String,
    pub digest: String,
    pub bytes: u64,
}

impl InputRef {
    /// A file read whole (a raw input): its digest, remembered while the file is
    /// unchanged (`stamp`), and its size.
    pub fn of_file(path: &Path) -> anyhow::Result<InputRef> {
        use anyhow::Context;
        let digest = crate::stamp::digest(path, crate::stamp::Kind::File, || {
            crate::digest::file_digest(path)
        })
        .with_context(|| format!("{}: cannot read", path.display()))?;
        let bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        Ok(InputRef {
            path: path.display().to_string(),
            digest,
            bytes,
        })
    }
}

impl InputRef {
    /// An artifact a stage reads whole: its header's body digest and its size (the
    /// reader checks the body against the digest at the end, so it is read once).
    pub fn of_artifact(path: &Path) -> anyhow::Result<InputRef> {
        let info = crate::artifact::header_info(path)?;
        Ok(InputRef {
            path: path.display().to_string(),
            digest: info.digest,
            bytes: info.bytes,
        })
    }

    /// An artifact that `stage` needs records from: as [`InputRef::of_artifact`], and
    /// refused, naming it, when it holds none (a stage that ran on nothing would write
    /// nothing and say it succeeded).
    pub fn of_records(path: &Path, stage: &str) -> anyhow::Result<InputRef> {
        Ok(Self::of_some_records(&[path.to_owned()], stage)?.remove(0))
    }

    /// Artifacts (the splits of a part) that `stage` needs records from, some of them
    /// possibly empty: refused, naming them, when all of them are.
    pub fn of_some_records(paths: &[PathBuf], stage: &str) -> anyhow::Result<Vec<InputRef>> {
        let mut inputs = Vec::new();
        let mut records = 0;
        for path in paths {
            let info = crate::artifact::header_info(path)?;
            records += info.count;
            inputs.push(InputRef {
                path: path.display().to_string(),
                digest: info.digest,
                bytes: info.bytes,
            });
        }
        if records == 0 {
            let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
            anyhow::bail!(
                "{}: {} no records, and the {stage} stage needs some; see the summary line \
                 and manifest.json of the stage that wrote {} (its sizes, its rejects)",
                names.join(", "),
                if paths.len() == 1 { "holds" } else { "hold" },
                if paths.len() == 1 { "it" } else { "them" },
            );
        }
        Ok(inputs)
    }
}

/// Rows (or records) in, kept, and rejected by reason, for the whole stage or one file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub rows_in: u64,
    pub kept: u64,
    pub rejected: u64,
    pub rejected_by_reason: BTreeMap<String, u64>,
}

impl Counts {
    /// `n` records in, all kept (a stage that rejects nothing).
    pub fn all_kept(n: u64) -> Counts {
        Counts {
            rows_in: n,
            kept: n,
            ..Counts::default()
        }
    }

    pub fn reject(&mut self, reason: &str) {
        self.rows_in += 1;
        self.rejected += 1;
        *self
            .rejected_by_reason
            .entry(reason.to_owned())
            .or_default() += 1;
    }

    pub fn keep(&mut self) {
        self.rows_in += 1;
        self.kept += 1;
    }

    pub fn add(&mut self, other: &Counts) {
        self.rows_in += other.rows_in;
        self.kept += other.kept;
        self.rejected += other.rejected;
        for (k, v) in &other.rejected_by_reason {
            *self.rejected_by_reason.entry(k.clone()).or_default() += v;
        }
    }

    /// The rejects by reason for a summary line: `reason 1,234, other 5`, or `none`.
    pub fn reasons(&self) -> String {
        if self.rejected_by_reason.is_empty() {
            return "none".into();
        }
        let reasons: Vec<String> = self
            .rejected_by_reason
            .iter()
            .map(|(k, v)| format!("{k} {}", crate::obs::thousands(*v)))
            .collect();
        reasons.join(", ")
    }

    /// The invariant every stage keeps: nothing is lost.
    pub fn balanced(&self) -> bool {
        self.rows_in == self.kept + self.rejected
            && self.rejected == self.rejected_by_reason.values().sum::<u64>()
    }
}

/// Counts for one input file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileCounts {
    pub path: String,
    pub category: String,
    #[serde(flatten)]
    pub counts: Counts,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub stage: String,
    pub code_version: String,
    /// Inputs + semantic config + code version; decides whether the stage can be skipped.
    pub fingerprint: String,
    pub inputs: Vec<InputRef>,
    /// The semantic config: every knob that changes output bytes, nothing else.
    pub config: serde_json::Value,
    pub outputs: BTreeMap<String, ArtifactInfo>,
    pub counts: Counts,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub per_file: Vec<FileCounts>,
    /// Stage-specific figures (sample size, means, ...).
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub summary: serde_json::Value,
    /// What this run of the stage spent that a rerun from caches would not (requests
    /// sent, tokens, money, the cache used): shown to the user, kept out of `summary`,
    /// which cards and later stages read, so their bytes do not depend on it.
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub this_run: serde_json::Value,
    /// Set when this is one shard of a sharded run (`--shard i/N`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<crate::shard::ShardInfo>,
    pub threads: usize,
    pub wall_seconds: f64,
    /// Peak resident memory of the process when the stage finished (Linux only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_rss_bytes: Option<u64>,
}

/// The fingerprint of a stage run: what it read (by content) and how it was configured.
pub fn fingerprint(stage: &str, input_digests: &[&str], config: &serde_json::Value) -> String {
    let canonical = serde_json::json!({
        "stage": stage,
        "code_version": crate::CODE_VERSION,
        "recipe": crate::recipe::constants_json(),
        "inputs": input_digests,
        "config": config,
    });
    crate::digest::bytes_digest(canonical.to_string().as_bytes())
}

impl Manifest {
    pub fn path_in(dir: &Path) -> PathBuf {
        dir.join(MANIFEST_FILE)
    }

    /// Writes `dir/manifest.json` atomically.
    pub fn write(&self, dir: &Path) -> Result<(), ManifestError> {
        let mut this = self.clone();
        if this.peak_rss_bytes.is_none() {
            this.peak_rss_bytes = crate::obs::peak_rss_bytes();
        }
        let mut text = serde_json::to_string_pretty(&this).expect("a manifest serialises");
        text.push('\n');
        write_atomic(&Self::path_in(dir), text.as_bytes())?;
        Ok(())
    }

    /// A stage's manifest: the fingerprint is computed from `inputs` and `config` exactly
    /// as the pipeline plans it; threads and wall time are taken now.
    pub fn for_stage(
        stage: &str,
        inputs: Vec<InputRef>,
        config: serde_json::Value,
        outputs: BTreeMap<String, ArtifactInfo>,
        counts: Counts,
        started: std::time::Instant,
    ) -> Manifest {
        let digests: Vec<&str> = inputs.iter().map(|i| i.digest.as_str()).collect();
        Manifest {
            stage: stage.to_owned(),
            code_version: crate::CODE_VERSION.to_owned(),
            fingerprint: fingerprint(stage, &digests, &config),
            inputs,
            config,
            outputs,
            counts,
            per_file: Vec::new(),
            summary: serde_json::Value::Null,
            this_run: serde_json::Value::Null,
            shard: None,
            threads: rayon::current_num_threads(),
            wall_seconds: started.elapsed().as_secs_f64(),
            peak_rss_bytes: None,
        }
    }

    pub fn read(dir: &Path) -> Result<Manifest, ManifestError> {
        let path = Self::path_in(dir);
        let text = fs::read_to_string(&path).map_err(|error| ManifestError::Io {
            path: path.clone(),
            error,
        })?;
        let m: Manifest = serde_json::from_str(&text).map_err(|error| ManifestError::Parse {
            path: path.clone(),
            error,
        })?;
        if let Some(s) = &m.shard {
            if s.index >= s.count {
                return Err(ManifestError::Invalid {
                    path,
                    what: format!(
                        "shard {} of {}: the index must be below the count",
                        s.index, s.count
                    ),
                });
            }
        }
        Ok(m)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("{path}: {error}")]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error(transparent)]
    Write(#[from] crate::atomic::FileError),
    #[error("{path}: not a pricer manifest: {error}")]
    Parse {
        path: PathBuf,
        error: serde_json::Error,
    },
    #[error("{path}: not a valid pricer manifest ({what}); run its stage again")]
    Invalid { path: PathBuf, what: String },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_read_as_a_summary_line() {
        let mut c = Counts::default();
        assert_eq!(c.reasons(), "none");
        for _ in 0..1234 {
            c.reject("too_short");
        }
        c.reject("not_json");
        c.keep();
        assert_eq!(c.reasons(), "not_json 1, too_short 1,234");
        assert!(c.balanced());
    }
}
