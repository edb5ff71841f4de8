//! The run at a glance, from the upstream stages' manifests: rows in and kept at each
//! stage, rejects by reason with the stage that rejected them, and the settings.

use std::collections::BTreeMap;
use std::path::Path;

use pricer_core::manifest::Manifest;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StageRow {
    pub stage: String,
    pub rows_in: u64,
    pub kept: u64,
    pub rejected: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RejectRow {
    pub stage: String,
    pub reason: String,
    pub rows: u64,
}

/// Part of audit.json; the report's header.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RunSummary {
    /// ingest (raw rows -> candidates), prompt (-> items), split (-> train + test).
    pub stages: Vec<StageRow>,
    /// The balanced sample's size, before the cut into train and test.
    pub sample: Option<u64>,
    pub train: Option<u64>,
    pub test: Option<u64>,
    pub rejects: Vec<RejectRow>,
    /// Each stage's semantic config (what its manifest fingerprints).
    pub settings: BTreeMap<String, serde_json::Value>,
}

/// From the manifests in `dirs` (stage name, folder); a stage without one is left out.
pub fn read(dirs: &[(&str, &Path)]) -> RunSummary {
    let mut s = RunSummary::default();
    for (stage, dir) in dirs {
        let Ok(m) = Manifest::read(dir) else { continue };
        s.stages.push(StageRow {
            stage: (*stage).to_owned(),
            rows_in: m.counts.rows_in,
            kept: m.counts.kept,
            rejected: m.counts.rejected,
        });
        for (reason, rows) in &m.counts.rejected_by_reason {
            s.rejects.push(RejectRow {
                stage: (*stage).to_owned(),
                reason: reason.clone(),
                rows: *rows,
            });
        }
        s.settings.insert((*stage).to_owned(), m.config.clone());
        if *stage == "split" {
            s.sample = m.summary["sample"].as_u64();
            s.train = m.summary["train"].as_u64();
            s.test = m.summary["test"].as_u64();
        }
    }
    s
}
