//! The compiled form of pricer-bpe's encoder, kept by the tokenizer file's digest so that
//! a 9 MB `tokenizer.json` loads in milliseconds on every later run.
//!
//! Each entry is 4-31 MB and a tokenizer that is no longer used (an edited file, another
//! model tried once) would keep its entry for ever: a load refreshes its entry's time (at
//! most once a day), and writing a new entry removes those unused for [`UNUSED_FOR`] and
//! temporaries that a killed write left.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use pricer_bpe::{Bpe, BpeError};

/// Where compiled tokenizers are kept: `PRICER_CACHE_DIR` (empty or `off`: nowhere), else
/// `$XDG_CACHE_HOME/pricer`, else `~/.cache/pricer`.
pub fn cache_dir() -> Option<PathBuf> {
    match std::env::var_os("PRICER_CACHE_DIR") {
        Some(v) if v.is_empty() || v == "off" => None,
        Some(v) => Some(PathBuf::from(v)),
        None => std::env::var_os("XDG_CACHE_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
            .map(|d| d.join("pricer")),
    }
}

/// The fast encoder for the tokenizer file with `digest`: from its compiled form in the
/// cache when that is intact, else compiled from the JSON (`json()` is called only then)
/// and cached (best effort, atomically, so readers never see half a file).
pub fn fast_encoder<'j>(
    digest: &str,
    json: impl FnOnce() -> anyhow::Result<&'j [u8]>,
) -> anyhow::Result<Result<Bpe, BpeError>> {
    let cached = cache_dir().map(|d| d.join(format!("bpe-{digest}.bin")));
    if let Some(path) = &cached {
        if let Ok((file, meta)) = open(path) {
            let len = usize::try_from(meta.len()).unwrap_or(usize::MAX);
            match Bpe::from_compiled_reader(&file, len, digest) {
                Ok(bpe) => {
                    refresh(&file, &meta, SystemTime::now());
                    return Ok(Ok(bpe));
                }
                Err(e) => {
                    tracing::info!(cache = %path.display(), "rebuilding the compiled tokenizer: {e}")
                }
            }
        }
    }
    let bpe = match Bpe::from_tokenizer_json(json()?) {
        Ok(b) => b,
        Err(e) => return Ok(Err(e)),
    };
    if let Some(path) = &cached {
        if let Err(e) = pricer_core::atomic::write_atomic(path, &bpe.to_compiled(digest)) {
            tracing::debug!("cannot cache the compiled tokenizer: {e}");
        }
        if let Some(dir) = path.parent() {
            let removed = prune(dir, SystemTime::now());
            if removed > 0 {
                tracing::info!(cache = %dir.display(), "removed {removed} compiled tokenizers unused for 30 days");
            }
        }
    }
    Ok(Ok(bpe))
}

/// Entries unused this long are removed when another entry is written.
pub const UNUSED_FOR: Duration = Duration::from_secs(30 * 24 * 3600);
/// A load moves its entry's time forward at most this often (a metadata write a day).
const REFRESH_EVERY: Duration = Duration::from_secs(24 * 3600);
/// A temporary this old is not another process's write in progress (a compile takes
/// seconds).
const TEMP_ABANDONED: Duration = Duration::from_secs(3600);

/// Whether a file's time `modified` (when readable) is at least `limit` before `now`.
fn aged(modified: std::io::Result<SystemTime>, now: SystemTime, limit: Duration) -> bool {
    modified.is_ok_and(|t| now.duration_since(t).is_ok_and(|age| age >= limit))
}

/// Marks the entry open as `file` (with `meta`) used at `now` (best effort: a read-only
/// cache is still a cache).
fn refresh(file: &fs::File, meta: &fs::Metadata, now: SystemTime) {
    if aged(meta.modified(), now, REFRESH_EVERY) {
        if let Err(e) = file.set_modified(now) {
            tracing::debug!("cannot refresh a compiled tokenizer's time: {e}");
        }
    }
}

/// Removes from `dir` the compiled tokenizers unused for [`UNUSED_FOR`] and abandoned
/// temporaries of them, as of `now`; returns how many entries it removed. Nothing else
/// in the folder is touched (the summarize stage keeps paid responses beside them).
pub fn prune(dir: &Path, now: SystemTime) -> usize {
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    let mut removed = 0;
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(name) = name.to_str() else {
            continue;
        };
        if !name.starts_with("bpe-") {
            continue;
        }
        let limit = if name.contains(pricer_core::atomic::TEMP_MARK) {
            TEMP_ABANDONED
        } else if name.ends_with(".bin") {
            UNUSED_FOR
        } else {
            continue;
        };
        // Not following links: only a plain file of ours is removed.
        let old = e
            .metadata()
            .is_ok_and(|m| m.is_file() && aged(m.modified(), now, limit));
        if old {
            match fs::remove_file(e.path()) {
                Ok(()) => removed += usize::from(name.ends_with(".bin")),
                Err(err) => tracing::debug!("{}: cannot remove: {err}", e.path().display()),
            }
        }
    }
    removed
}

fn open(path: &Path) -> std::io::Result<(fs::File, fs::Metadata)> {
    let file = fs::File::open(path)?;
    let meta = file.metadata()?;
    Ok((file, meta))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: Duration = Duration::from_secs(24 * 3600);

    fn file_aged(dir: &Path, name: &str, now: SystemTime, age: Duration) -> PathBuf {
        let path = dir.join(name);
        fs::write(&path, b"x").unwrap();
        let f = fs::File::options().write(true).open(&path).unwrap();
        f.set_modified(now - age).unwrap();
        path
    }

    #[test]
    fn prune_removes_only_long_unused_entries_and_abandoned_temporaries() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let now = SystemTime::now();
        let old_entry = file_aged(d, "bpe-aa.bin", now, UNUSED_FOR + DAY);
        let recent_entry = file_aged(d, "bpe-bb.bin", now, UNUSED_FOR - DAY);
        let abandoned = file_aged(d, "bpe-cc.bin.tmp-123", now, 2 * TEMP_ABANDONED);
        let in_progress = file_aged(d, "bpe-dd.bin.tmp-456", now, TEMP_ABANDONED / 2);
        // Not ours to remove, however old: other files, the digests memo, the
        // summarize stage's paid responses.
        let other = file_aged(d, "notes.bin", now, 10 * UNUSED_FOR);
        fs::create_dir(d.join("summaries")).unwrap();
        let answer = file_aged(&d.join("summaries"), "bpe-ee.bin", now, 10 * UNUSED_FOR);
        fs::create_dir(d.join("bpe-ff.bin")).unwrap();

        assert_eq!(prune(d, now), 1);
        assert!(!old_entry.exists() && !abandoned.exists());
        for kept in [&recent_entry, &in_progress, &other, &answer] {
            assert!(kept.exists(), "{}", kept.display());
        }
        assert!(d.join("bpe-ff.bin").is_dir());
        assert_eq!(prune(&d.join("missing"), now), 0);
    }

    #[test]
    fn a_load_refreshes_an_entry_once_a_day() {
        let dir = tempfile::tempdir().unwrap();
        let now = SystemTime::now();
        let time = |p: &Path| fs::metadata(p).unwrap().modified().unwrap();

        let stale = file_aged(dir.path(), "bpe-aa.bin", now, UNUSED_FOR + DAY);
        let (file, meta) = open(&stale).unwrap();
        refresh(&file, &meta, now);
        assert_eq!(time(&stale), now);
        assert_eq!(prune(dir.path(), now), 0);

        // Used within the day: no metadata write.
        let fresh = file_aged(dir.path(), "bpe-bb.bin", now, DAY / 2);
        let (file, meta) = open(&fresh).unwrap();
        refresh(&file, &meta, now);
        assert_eq!(time(&fresh), now - DAY / 2);
    }
}
