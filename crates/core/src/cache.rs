//! The user's pricer cache folder and the upkeep its entries share.
//!
//! Kinds of entries live side by side there (compiled tokenizers, remembered digests, the
//! summarize stage's paid answers). An entry that is no longer used (an edited file,
//! another model tried once) would stay for ever: a use refreshes its entry's time (at
//! most once a day), and writing a new entry removes those of its kind unused for
//! [`UNUSED_FOR`] and temporaries that a killed write left.

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// `PRICER_CACHE_DIR`, else `$XDG_CACHE_HOME/pricer`, else `~/.cache/pricer`, whatever
/// `PRICER_CACHE_DIR` says (for what must be kept even when caches are off).
pub fn user_cache_dir() -> Option<PathBuf> {
    user_cache_dir_in(|k| std::env::var_os(k))
}

/// Where what can be recomputed is kept: [`user_cache_dir`], or nowhere when
/// `PRICER_CACHE_DIR` is empty or `off`.
pub fn cache_dir() -> Option<PathBuf> {
    cache_dir_in(|k| std::env::var_os(k))
}

fn user_cache_dir_in(var: impl Fn(&str) -> Option<OsString>) -> Option<PathBuf> {
    var("PRICER_CACHE_DIR")
        .filter(|v| !v.is_empty() && v != "off")
        .map(PathBuf::from)
        .or_else(|| {
            var("XDG_CACHE_HOME")
                .filter(|v| !v.is_empty())
                .map(|d| PathBuf::from(d).join("pricer"))
        })
        .or_else(|| var("HOME").map(|h| PathBuf::from(h).join(".cache/pricer")))
}

fn cache_dir_in(var: impl Fn(&str) -> Option<OsString>) -> Option<PathBuf> {
    match var("PRICER_CACHE_DIR") {
        Some(v) if v.is_empty() || v == "off" => None,
        _ => user_cache_dir_in(var),
    }
}

/// Entries unused this long are removed when another entry of their kind is written.
pub const UNUSED_FOR: Duration = Duration::from_secs(30 * 24 * 3600);
/// A use moves its entry's time forward at most this often (a metadata write a day).
const REFRESH_EVERY: Duration = Duration::from_secs(24 * 3600);
/// A temporary this old is not another process's write in progress (a write takes
/// seconds).
const TEMP_ABANDONED: Duration = Duration::from_secs(3600);

/// Whether a file's time `modified` (when readable) is at least `limit` before `now`.
fn aged(modified: std::io::Result<SystemTime>, now: SystemTime, limit: Duration) -> bool {
    modified.is_ok_and(|t| now.duration_since(t).is_ok_and(|age| age >= limit))
}

/// Marks the entry open as `file` (with `meta`) used at `now` (best effort: a read-only
/// cache is still a cache).
pub fn refresh(file: &fs::File, meta: &fs::Metadata, now: SystemTime) {
    if aged(meta.modified(), now, REFRESH_EVERY) {
        if let Err(e) = file.set_modified(now) {
            tracing::debug!("cannot refresh a cache entry's time: {e}");
        }
    }
}

/// Removes from `dir` the entries named `PREFIX*SUFFIX` unused for [`UNUSED_FOR`] and
/// abandoned temporaries of them, as of `now`; returns how many entries it removed.
/// Nothing else in the folder is touched.
pub fn prune(dir: &Path, prefix: &str, suffix: &str, now: SystemTime) -> usize {
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    let mut removed = 0;
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(name) = name.to_str() else {
            continue;
        };
        if !name.starts_with(prefix) {
            continue;
        }
        let limit = if let Some((entry, _)) = name.split_once(crate::atomic::TEMP_MARK) {
            if !entry.ends_with(suffix) {
                continue;
            }
            TEMP_ABANDONED
        } else if name.ends_with(suffix) {
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
                Ok(()) => removed += usize::from(name.ends_with(suffix)),
                Err(err) => tracing::debug!("{}: cannot remove: {err}", e.path().display()),
            }
        }
    }
    removed
}

/// Opens a cache entry with its metadata.
pub fn open(path: &Path) -> std::io::Result<(fs::File, fs::Metadata)> {
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
        // Not ours to remove, however old: other files and kinds, the summarize stage's
        // paid responses.
        let other = file_aged(d, "notes.bin", now, 10 * UNUSED_FOR);
        let other_kind = file_aged(d, "bpe-gg.json", now, 10 * UNUSED_FOR);
        let other_temp = file_aged(d, "bpe-hh.json.tmp-789", now, 10 * UNUSED_FOR);
        fs::create_dir(d.join("summaries")).unwrap();
        let answer = file_aged(&d.join("summaries"), "bpe-ee.bin", now, 10 * UNUSED_FOR);
        fs::create_dir(d.join("bpe-ff.bin")).unwrap();

        assert_eq!(prune(d, "bpe-", ".bin", now), 1);
        assert!(!old_entry.exists() && !abandoned.exists());
        for kept in [
            &recent_entry,
            &in_progress,
            &other,
            &other_kind,
            &other_temp,
            &answer,
        ] {
            assert!(kept.exists(), "{}", kept.display());
        }
        assert!(d.join("bpe-ff.bin").is_dir());
        assert_eq!(prune(&d.join("missing"), "bpe-", ".bin", now), 0);
    }

    #[test]
    fn a_use_refreshes_an_entry_once_a_day() {
        let dir = tempfile::tempdir().unwrap();
        let now = SystemTime::now();
        let time = |p: &Path| fs::metadata(p).unwrap().modified().unwrap();

        let stale = file_aged(dir.path(), "bpe-aa.bin", now, UNUSED_FOR + DAY);
        let (file, meta) = open(&stale).unwrap();
        refresh(&file, &meta, now);
        assert_eq!(time(&stale), now);
        assert_eq!(prune(dir.path(), "bpe-", ".bin", now), 0);

        // Used within the day: no metadata write.
        let fresh = file_aged(dir.path(), "bpe-bb.bin", now, DAY / 2);
        let (file, meta) = open(&fresh).unwrap();
        refresh(&file, &meta, now);
        assert_eq!(time(&fresh), now - DAY / 2);
    }

    #[test]
    fn off_turns_the_cache_off_but_not_what_must_be_kept() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                vars.iter()
                    .find(|(name, _)| *name == k)
                    .map(|(_, v)| OsString::from(v))
            }
        };
        let p = env(&[
            ("PRICER_CACHE_DIR", "/p"),
            ("XDG_CACHE_HOME", "/x"),
            ("HOME", "/h"),
        ]);
        assert_eq!(cache_dir_in(p), Some(PathBuf::from("/p")));
        assert_eq!(user_cache_dir_in(p), Some(PathBuf::from("/p")));
        let off = env(&[("PRICER_CACHE_DIR", "off"), ("XDG_CACHE_HOME", "/x")]);
        assert_eq!(cache_dir_in(off), None);
        assert_eq!(user_cache_dir_in(off), Some(PathBuf::from("/x/pricer")));
        let empty = env(&[("PRICER_CACHE_DIR", ""), ("HOME", "/h")]);
        assert_eq!(cache_dir_in(empty), None);
        assert_eq!(
            user_cache_dir_in(empty),
            Some(PathBuf::from("/h/.cache/pricer"))
        );
        let home = env(&[("XDG_CACHE_HOME", ""), ("HOME", "/h")]);
        assert_eq!(cache_dir_in(home), Some(PathBuf::from("/h/.cache/pricer")));
        assert_eq!(cache_dir_in(env(&[])), None);
    }
}
