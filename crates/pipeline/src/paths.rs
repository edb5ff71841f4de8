//! The files a run config names: found (a relative path from the current folder, else
//! among the bundled files, `pricer_core::bundle`) and checked before the first stage,
//! so that a wrong path stops the run at once with the config key that holds it, not
//! after minutes of earlier stages with a message about something else.

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use pricer_core::bundle;

use crate::config::RunConfig;

impl RunConfig {
    /// Every path of the config, as found: relative ones from the current folder, else
    /// among the bundled files.
    pub fn resolve_paths(&mut self) {
        for p in self.paths_mut() {
            *p = bundle::find(p);
        }
    }

    /// Every path of the config made absolute (for the copy kept in the run folder,
    /// read again from wherever `pricer status` runs).
    pub fn absolute_paths(&mut self) {
        for p in self.paths_mut() {
            if let Ok(a) = std::path::absolute(&*p) {
                *p = a;
            }
        }
    }

    /// The config's paths of files it reads (not the caches it writes).
    fn paths_mut(&mut self) -> Vec<&mut PathBuf> {
        let mut out: Vec<&mut PathBuf> = Vec::new();
        out.extend(self.input.paths.iter_mut());
        out.extend(self.input.data_dir.iter_mut());
        out.extend(self.tokenizer.path.iter_mut());
        out.extend(self.audit.compare.values_mut());
        if let Some(s) = &mut self.summarize {
            out.extend(s.from.iter_mut());
            out.extend(s.results.iter_mut());
        }
        if let Some(e) = &mut self.eval {
            out.extend(e.predictors.iter_mut().filter_map(|p| match p {
                pricer_eval::Predictor::File { path, .. } => Some(path),
                _ => None,
            }));
        }
        out
    }

    /// Every file and folder the config names exists, or an error naming its key.
    pub fn check_paths(&self) -> Result<()> {
        for p in &self.input.paths {
            need(p, "[input] paths")?;
        }
        if let Some(d) = &self.input.data_dir {
            if !d.is_dir() {
                bail!(
                    "[input] data_dir = {:?}: no such folder",
                    d.display().to_string()
                );
            }
        }
        if let Some(p) = &self.tokenizer.path {
            need(p, "[tokenizer] path")?;
        }
        for (name, p) in &self.audit.compare {
            need(p, &format!("[audit] compare.{name}"))?;
        }
        if let Some(s) = &self.summarize {
            if let Some(p) = &s.from {
                need(p, "[summarize] from")?;
            }
            for p in &s.results {
                need(p, "[summarize] results")?;
            }
        }
        for p in self.eval.iter().flat_map(|e| &e.predictors) {
            if let pricer_eval::Predictor::File { path, .. } = p {
                need(path, "[[eval.predictors]] path")?;
            }
        }
        Ok(())
    }
}

fn need(p: &Path, key: &str) -> Result<()> {
    if !bundle::exists(p) {
        bail!(
            "{key} = {:?}: no such file or folder",
            p.display().to_string()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_path_is_named_by_its_key_before_anything_runs() {
        let cfg = RunConfig::parse(
            "[input]\npaths = [\"fixtures/data/amazon-2023\"]\n[audit]\ncompare = { Mine = \"no/tokenizer.json\" }\n",
            "x",
        )
        .unwrap();
        let mut cfg = cfg;
        cfg.resolve_paths();
        let e = cfg.check_paths().unwrap_err().to_string();
        assert_eq!(
            e,
            "[audit] compare.Mine = \"no/tokenizer.json\": no such file or folder"
        );
        let cfg = RunConfig::parse(
            "[input]\ndata_dir = \"nowhere\"\ncategories = [\"Automotive\"]\n",
            "x",
        )
        .unwrap();
        let e = cfg.check_paths().unwrap_err().to_string();
        assert!(
            e.starts_with("[input] data_dir = \"nowhere\": no such folder"),
            "{e}"
        );
    }
}
