//! The decisions of a curation as files, exactly as the reference writes them (Python's
//! `json.dump` defaults: `", "` and `": "`, floats as `repr`), so a run can be diffed with
//! the goldens and audited: `trace/order.json`, `weights.json`, `draw.json` and
//! `dedup-titles.jsonl`.

use std::collections::BTreeMap;
use std::fmt::Display;
use std::io::Write;
use std::path::Path;

use anyhow::Result;
use pricer_core::artifact::ArtifactInfo;
use pricer_core::atomic::{AtomicFile, HashingWriter};
use pricer_core::jsonl::{JsonLinesWriter, FILE_KIND};
use pricer_core::reorder::{reorder, NOT_SELECTED};
use pricer_core::RawItem;
use pricer_pycompat::json::{float_json, write_str_unicode};

use crate::dedupe::Pool;
use crate::draw::Draw;

pub const DIR: &str = "trace";
pub const ORDER: &str = "trace/order.json";
pub const WEIGHTS: &str = "trace/weights.json";
pub const DRAW: &str = "trace/draw.json";
pub const TITLES: &str = "trace/dedup-titles.jsonl";

/// A file written as one JSON document, digested as written.
struct Doc {
    out: HashingWriter<AtomicFile>,
}

impl Doc {
    fn create(path: &Path) -> Result<Doc> {
        Ok(Doc {
            out: HashingWriter::new(AtomicFile::create(path)?),
        })
    }

    fn put(&mut self, s: &str) -> Result<()> {
        self.out
            .write_all(s.as_bytes())
            .map_err(|e| self.out.inner.error("write", e))?;
        Ok(())
    }

    /// `[a, b, c]`
    fn list<T: Display>(&mut self, items: impl IntoIterator<Item = T>) -> Result<()> {
        self.put("[")?;
        for (i, x) in items.into_iter().enumerate() {
            if i > 0 {
                self.put(", ")?;
            }
            self.put(&x.to_string())?;
        }
        self.put("]")
    }

    fn finish(self) -> Result<ArtifactInfo> {
        let (file, digest, bytes) = self.out.finish();
        file.commit()?;
        Ok(ArtifactInfo {
            record_type: FILE_KIND.into(),
            count: 0,
            digest: digest.to_hex().to_string(),
            bytes,
        })
    }
}

/// Writes order.json, weights.json and draw.json; returns their manifest entries.
pub fn write_decisions(
    dir: &Path,
    pool: &Pool,
    draw: &Draw,
) -> Result<BTreeMap<String, ArtifactInfo>> {
    let mut out = BTreeMap::new();
    let mut d = Doc::create(&dir.join(ORDER))?;
    d.put("{\"shuffled\": ")?;
    d.list(&pool.shuffled)?;
    d.put(", \"after_title_dedupe\": ")?;
    d.list(&pool.after_title)?;
    d.put(", \"deduped\": ")?;
    d.list(&pool.pool)?;
    d.put("}\n")?;
    out.insert(ORDER.to_owned(), d.finish()?);

    let mut d = Doc::create(&dir.join(WEIGHTS))?;
    d.list(draw.weights.iter().map(|&w| float_json(w)))?;
    d.put("\n")?;
    out.insert(WEIGHTS.to_owned(), d.finish()?);

    let mut d = Doc::create(&dir.join(DRAW))?;
    d.put("{\"drawn\": ")?;
    d.list(&draw.drawn)?;
    d.put(", \"rounds\": ")?;
    d.list(draw.rounds.iter().map(|(a, b)| format!("[{a}, {b}]")))?;
    d.put(", \"shuffled_sample\": ")?;
    d.list(&draw.shuffled)?;
    d.put("}\n")?;
    out.insert(DRAW.to_owned(), d.finish()?);
    Ok(out)
}

/// dedup-titles.jsonl: the pool's titles in pool order (`json.dumps(title,
/// ensure_ascii=False)` a line), read again from the items.
pub fn write_titles(items: &Path, dir: &Path, pool: &Pool, n: usize) -> Result<ArtifactInfo> {
    let mut dest = vec![NOT_SELECTED; n];
    for (rank, &pos) in pool.pool.iter().enumerate() {
        dest[pos as usize] = rank as u32;
    }
    let mut w = JsonLinesWriter::create(dir.join(TITLES))?;
    let mut line = String::new();
    reorder::<RawItem>(items, &dest, pool.pool.len(), dir, |_, item| {
        line.clear();
        write_str_unicode(&item.title, &mut line);
        w.write_line(&line)?;
        Ok(())
    })?;
    Ok(w.finish()?)
}
