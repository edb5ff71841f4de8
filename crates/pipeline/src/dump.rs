//! `pricer dump` (and `cargo xtask dump`): an artifact's records as JSON lines on
//! stdout, items exactly as the golden files hold them.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use pricer_core::artifact::{record_type, ArtifactReader, Record};
use pricer_core::dump::{
    candidate_json, item_json, prompt_pair_json, raw_item_json, summarized_item_json,
};
use pricer_core::jsonl::{FILE_KIND, JSONL_KIND};
use pricer_core::manifest::Manifest;
use pricer_core::{Candidate, Item, PromptPair, RawItem, SummarizedItem};

/// The artifact a path names: itself, or the one artifact its stage folder holds. A
/// folder with several (train and test) or none (an export, an audit) says what there
/// is to dump instead of printing them run together, or nothing.
fn artifact_of(path: &Path) -> Result<PathBuf> {
    if path.is_file() {
        return Ok(path.to_owned());
    }
    if !path.is_dir() {
        bail!("{}: no such artifact or stage folder", path.display());
    }
    let manifest =
        Manifest::read(path).with_context(|| format!("{}: not a stage folder", path.display()))?;
    let is_artifact = |kind: &str| !matches!(kind, FILE_KIND | JSONL_KIND);
    let names = |artifacts: bool| -> Vec<&str> {
        manifest
            .outputs
            .iter()
            .filter(|(_, info)| is_artifact(&info.record_type) == artifacts)
            .map(|(name, _)| name.as_str())
            .collect()
    };
    match names(true).as_slice() {
        [one] => Ok(path.join(one)),
        [] => bail!(
            "{}: the {} stage wrote no records to dump ({}); dump an .art file, such as the prompt stage's items.art",
            path.display(),
            manifest.stage,
            names(false).join(", ")
        ),
        several => bail!(
            "{}: holds {}; dump one at a time, e.g. `dump {}`",
            path.display(),
            several.join(", "),
            path.join(several[0]).display()
        ),
    }
}

fn dump_records<T: Record>(
    path: &Path,
    out: &mut impl Write,
    line: fn(&T) -> String,
) -> Result<()> {
    for record in ArtifactReader::<T>::open(path)? {
        writeln!(out, "{}", line(&record?))?;
    }
    Ok(())
}

/// Dumps `path`; a reader that stops early (`| head`) is not an error.
pub fn run(path: &Path) -> Result<()> {
    match dump_all(path) {
        Err(e)
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            Ok(())
        }
        other => other,
    }
}

fn dump_all(path: &Path) -> Result<()> {
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let artifact = artifact_of(path)?;
    match record_type(&artifact)?.as_str() {
        t if t == Item::RECORD_TYPE => dump_records::<Item>(&artifact, &mut out, item_json)?,
        t if t == Candidate::RECORD_TYPE => {
            dump_records::<Candidate>(&artifact, &mut out, candidate_json)?
        }
        t if t == RawItem::RECORD_TYPE => {
            dump_records::<RawItem>(&artifact, &mut out, raw_item_json)?
        }
        t if t == SummarizedItem::RECORD_TYPE => {
            dump_records::<SummarizedItem>(&artifact, &mut out, summarized_item_json)?
        }
        t if t == PromptPair::RECORD_TYPE => {
            dump_records::<PromptPair>(&artifact, &mut out, prompt_pair_json)?
        }
        other => bail!(
            "{}: no JSON form for {other} records yet",
            artifact.display()
        ),
    }
    out.flush()?;
    Ok(())
}
