//! Digests remembered by file identity, so that a file read once is not read again to
//! learn what it holds.
//!
//! The skip check verifies every output of a finished stage and digests the raw inputs
//! it would read: on a full-scale run folder that is ~9 GB read back on every run that
//! then has nothing to do (3.1 s with the files in memory, 12-17.6 s without, here). A digest computed from a file's bytes is kept
//! in the user's cache (`stamps/`, one small entry per file) with the file's identity:
//! size, modification and change times in nanoseconds, inode and device. While the
//! identity is the same, so are the bytes, as git's index and make assume: any write,
//! truncation, rename over or copy into place gives a new change time (which no user
//! tool can set back) or a new inode.
//!
//! One race is closed as git closes it: a write in the same clock tick as the one before
//! it can leave both times as they were. So a digest is remembered only for a file whose
//! times were at least [`SETTLED`] old before it was read, and whose identity did not
//! change while it was read; a file written moments ago is read in full again next time.
//! `PRICER_CACHE_DIR=off` turns remembering off (every check reads every byte). Not on
//! non-Unix systems, whose metadata has no change time and inode. Artifacts are still
//! checked against their digest by every reader.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

/// How old a file's times must be before its digest is remembered: far above any file
/// system's timestamp granularity (FAT's is 2 s; ext4's clock ticks in milliseconds),
/// and above the kernel's write-back delay (30 s by default), so that the bytes read
/// were on disk, not only in memory, when a power loss could tear a file.
pub const SETTLED: Duration = Duration::from_secs(60);

/// What a remembered digest is of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// BLAKE3 of the file's bytes.
    File,
    /// An artifact's verified body digest (`artifact::verify`).
    Artifact,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::File => "file",
            Kind::Artifact => "artifact",
        }
    }
}

/// What identifies a file's bytes without reading them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Identity {
    len: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
    ino: u64,
    dev: u64,
}

impl Identity {
    #[cfg(unix)]
    fn of(meta: &std::fs::Metadata) -> Option<Identity> {
        use std::os::unix::fs::MetadataExt;
        Some(Identity {
            len: meta.len(),
            mtime: (meta.mtime(), meta.mtime_nsec()),
            ctime: (meta.ctime(), meta.ctime_nsec()),
            ino: meta.ino(),
            dev: meta.dev(),
        })
    }

    #[cfg(not(unix))]
    fn of(_meta: &std::fs::Metadata) -> Option<Identity> {
        None
    }

    /// Whether both times are at least [`SETTLED`] before `now`.
    fn settled(&self, now: SystemTime) -> bool {
        let Ok(now) = now.duration_since(SystemTime::UNIX_EPOCH) else {
            return false;
        };
        let newest = self.mtime.max(self.ctime);
        let Ok(secs) = u64::try_from(newest.0) else {
            return true;
        };
        let nanos = u32::try_from(newest.1).unwrap_or(0).min(999_999_999);
        Duration::new(secs, nanos) + SETTLED <= now
    }
}

/// One remembered digest (the entry file's JSON).
#[derive(Debug, Serialize, Deserialize)]
struct Entry {
    path: String,
    kind: String,
    identity: Identity,
    digest: String,
}

/// Where remembered digests are kept (none when caches are off).
fn folder() -> Option<PathBuf> {
    crate::cache::cache_dir().map(|d| d.join("stamps"))
}

/// `path`'s digest by `kind`: the remembered one while the file's identity is the one it
/// had when it was computed, else `compute()`d (and remembered when the file had
/// settled). Any failure to remember is not an error: the digest is computed.
pub fn digest<E>(
    path: &Path,
    kind: Kind,
    compute: impl FnOnce() -> Result<String, E>,
) -> Result<String, E> {
    digest_in(folder().as_deref(), path, kind, SystemTime::now(), compute)
}

/// Forgets `path`'s digest by `kind`: for a reader that found other bytes than the
/// remembered digest said (a file changed as this module cannot see).
pub fn forget(path: &Path, kind: Kind) {
    if let Some((entry, _)) = folder().and_then(|d| entry_path(&d, path, kind)) {
        let _ = std::fs::remove_file(entry);
    }
}

/// The entry file for `path` by `kind` in `dir`, and `path` canonical.
fn entry_path(dir: &Path, path: &Path, kind: Kind) -> Option<(PathBuf, String)> {
    let canonical = path.canonicalize().ok()?.to_str()?.to_owned();
    let key = crate::digest::bytes_digest(format!("{}\0{canonical}", kind.name()).as_bytes());
    Some((dir.join(format!("{}.json", &key[..32])), canonical))
}

fn digest_in<E>(
    dir: Option<&Path>,
    path: &Path,
    kind: Kind,
    now: SystemTime,
    compute: impl FnOnce() -> Result<String, E>,
) -> Result<String, E> {
    let before = std::fs::metadata(path).ok().as_ref().and_then(Identity::of);
    let (Some(dir), Some(before)) = (dir, before) else {
        return compute();
    };
    let Some((entry_file, canonical)) = entry_path(dir, path, kind) else {
        return compute();
    };
    if let Some(digest) = remembered(&entry_file, &canonical, kind, &before, now) {
        return Ok(digest);
    }
    let digest = compute()?;
    let after = std::fs::metadata(path).ok().as_ref().and_then(Identity::of);
    if after == Some(before) && before.settled(now) {
        remember(
            dir,
            &entry_file,
            &Entry {
                path: canonical,
                kind: kind.name().to_owned(),
                identity: before,
                digest: digest.clone(),
            },
            now,
        );
    }
    Ok(digest)
}

/// The digest `entry_file` remembers for this file as it is now, if any.
fn remembered(
    entry_file: &Path,
    canonical: &str,
    kind: Kind,
    now_identity: &Identity,
    now: SystemTime,
) -> Option<String> {
    use std::io::Read;
    let (file, meta) = crate::cache::open(entry_file).ok()?;
    // An entry is a few hundred bytes; whatever else lies there is not read whole.
    let mut text = String::new();
    (&file).take(1 << 16).read_to_string(&mut text).ok()?;
    let entry: Entry = serde_json::from_str(&text).ok()?;
    let same = entry.path == canonical
        && entry.kind == kind.name()
        && entry.identity == *now_identity
        && entry.digest.len() == 64
        && entry.digest.bytes().all(|b| b.is_ascii_hexdigit());
    if same {
        crate::cache::refresh(&file, &meta, now);
    }
    same.then_some(entry.digest)
}

/// Writes `entry` (best effort); the first write of a process removes the entries
/// unused for a month.
fn remember(dir: &Path, entry_file: &Path, entry: &Entry, now: SystemTime) {
    static PRUNED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    let Ok(json) = serde_json::to_vec(entry) else {
        return;
    };
    if let Err(e) = crate::atomic::write_atomic(entry_file, &json) {
        tracing::debug!("cannot remember a digest: {e}");
        return;
    }
    if !PRUNED.swap(true, std::sync::atomic::Ordering::Relaxed) {
        crate::cache::prune(dir, "", ".json", now);
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::fs;
    use std::io::Write;

    use super::*;

    /// A digest that counts how often it was computed.
    fn counted<'c>(
        calls: &'c Cell<u32>,
        path: &'c Path,
    ) -> impl FnOnce() -> std::io::Result<String> + 'c {
        move || {
            calls.set(calls.get() + 1);
            crate::digest::file_digest(path)
        }
    }

    struct Case {
        _dir: tempfile::TempDir,
        cache: PathBuf,
        file: PathBuf,
        calls: Cell<u32>,
    }

    impl Case {
        fn new() -> Case {
            let dir = tempfile::tempdir().unwrap();
            let cache = dir.path().join("stamps");
            let file = dir.path().join("meta_Appliances.jsonl");
            fs::write(&file, b"{\"title\": \"one\"}\n").unwrap();
            Case {
                _dir: dir,
                cache,
                file,
                calls: Cell::new(0),
            }
        }

        /// The digest as a run at `now` finds it.
        fn digest_at(&self, now: SystemTime) -> String {
            digest_in(
                Some(&self.cache),
                &self.file,
                Kind::File,
                now,
                counted(&self.calls, &self.file),
            )
            .unwrap()
        }
    }

    fn later() -> SystemTime {
        SystemTime::now() + SETTLED + Duration::from_secs(1)
    }

    #[test]
    fn a_settled_file_is_read_once() {
        let c = Case::new();
        let want = crate::digest::file_digest(&c.file).unwrap();
        assert_eq!(c.digest_at(later()), want);
        assert_eq!(c.digest_at(later()), want);
        assert_eq!(c.digest_at(later()), want);
        assert_eq!(c.calls.get(), 1);
    }

    #[test]
    fn a_file_written_moments_ago_is_read_every_time() {
        let c = Case::new();
        c.digest_at(SystemTime::now());
        c.digest_at(SystemTime::now());
        assert_eq!(c.calls.get(), 2);
        assert!(!c.cache.exists() || fs::read_dir(&c.cache).unwrap().next().is_none());
    }

    #[test]
    fn any_change_of_the_file_is_read_again() {
        let c = Case::new();
        c.digest_at(later());
        // Appended: another size.
        fs::OpenOptions::new()
            .append(true)
            .open(&c.file)
            .unwrap()
            .write_all(b"{}\n")
            .unwrap();
        assert_eq!(
            c.digest_at(later()),
            crate::digest::file_digest(&c.file).unwrap()
        );
        // Replaced by a file of the same size whose modification time is set back to
        // the old one's: another inode and change time.
        let old_mtime = fs::metadata(&c.file).unwrap().modified().unwrap();
        let tmp = c.file.with_extension("new");
        fs::write(&tmp, b"{\"title\": \"two\"}\n{}\n").unwrap();
        fs::File::options()
            .write(true)
            .open(&tmp)
            .unwrap()
            .set_modified(old_mtime)
            .unwrap();
        fs::rename(&tmp, &c.file).unwrap();
        assert_eq!(
            c.digest_at(later()),
            crate::digest::file_digest(&c.file).unwrap()
        );
        assert_eq!(c.calls.get(), 3);
        c.digest_at(later());
        assert_eq!(c.calls.get(), 3);
    }

    #[test]
    fn kinds_and_paths_are_kept_apart_and_forgetting_reads_again() {
        let c = Case::new();
        c.digest_at(later());
        let other_kind = digest_in(Some(&c.cache), &c.file, Kind::Artifact, later(), || {
            Ok::<_, std::io::Error>("a".repeat(64))
        })
        .unwrap();
        assert_eq!(other_kind, "a".repeat(64));
        assert_ne!(c.digest_at(later()), other_kind);
        assert_eq!(c.calls.get(), 1);

        let (entry, _) = entry_path(&c.cache, &c.file, Kind::File).unwrap();
        fs::remove_file(entry).unwrap();
        c.digest_at(later());
        assert_eq!(c.calls.get(), 2);
    }

    #[test]
    fn a_damaged_entry_or_error_is_never_a_digest() {
        let c = Case::new();
        c.digest_at(later());
        let (entry, _) = entry_path(&c.cache, &c.file, Kind::File).unwrap();
        let text = fs::read_to_string(&entry).unwrap();
        fs::write(&entry, text.replace("\"digest\":\"", "\"digest\":\"zz")).unwrap();
        assert_eq!(
            c.digest_at(later()),
            crate::digest::file_digest(&c.file).unwrap()
        );
        assert_eq!(c.calls.get(), 2);
        // A failed computation is the error, and nothing is remembered of it.
        let missing = c.file.with_extension("gone");
        let got = digest_in(Some(&c.cache), &missing, Kind::File, later(), || {
            crate::digest::file_digest(&missing)
        });
        assert!(got.is_err());
        // Without a cache folder, every call computes.
        let calls = Cell::new(0);
        for _ in 0..2 {
            digest_in(None, &c.file, Kind::File, later(), counted(&calls, &c.file)).unwrap();
        }
        assert_eq!(calls.get(), 2);
    }
}
