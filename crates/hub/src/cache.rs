//! The Hugging Face cache layout, as the Python client writes it:
//!
//! ```text
//! <cache>/datasets--<org>--<name>/
//!     refs/<revision>                      the commit a branch or tag last resolved to
//!     blobs/<etag>                         file contents, named by the Hub's ETag
//!     blobs/<etag>.incomplete              a download in progress (ours; resumable)
//!     snapshots/<commit>/<path>            symlink to ../../blobs/<etag>
//! <cache>/.locks/datasets--<org>--<name>/<etag>.lock
//! ```

use std::io;
use std::path::{Path, PathBuf};

use crate::RepoFile;

/// True for a full 40-hex-digit commit id.
pub fn is_commit(s: &str) -> bool {
    s.len() == 40
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Where one repo's files live in the cache.
#[derive(Debug, Clone)]
pub struct RepoCache {
    pub root: PathBuf,
    pub folder: PathBuf,
    locks: PathBuf,
}

impl RepoCache {
    pub fn new(cache_dir: &Path, file: &RepoFile) -> RepoCache {
        let name = format!("{}s--{}", file.kind.as_str(), file.repo.replace('/', "--"));
        RepoCache {
            root: cache_dir.to_owned(),
            folder: cache_dir.join(&name),
            locks: cache_dir.join(".locks").join(name),
        }
    }

    pub fn pointer(&self, commit: &str, path: &str) -> PathBuf {
        let mut p = self.folder.join("snapshots").join(commit);
        p.extend(path.split('/'));
        p
    }

    pub fn blob(&self, etag: &str) -> PathBuf {
        self.folder.join("blobs").join(etag)
    }

    pub fn incomplete(&self, etag: &str) -> PathBuf {
        self.folder.join("blobs").join(format!("{etag}.incomplete"))
    }

    pub fn lock(&self, etag: &str) -> PathBuf {
        self.locks.join(format!("{etag}.lock"))
    }

    fn ref_path(&self, revision: &str) -> PathBuf {
        let mut p = self.folder.join("refs");
        p.extend(revision.split('/'));
        p
    }

    /// The commit a revision names: itself if it is one, else what `refs/` recorded.
    pub fn resolve_ref(&self, revision: &str) -> Option<String> {
        if is_commit(revision) {
            return Some(revision.to_owned());
        }
        let c = std::fs::read_to_string(self.ref_path(revision)).ok()?;
        let c = c.trim();
        is_commit(c).then(|| c.to_owned())
    }

    /// Records that `revision` resolved to `commit` (atomically; a no-op for commit ids).
    pub fn write_ref(&self, revision: &str, commit: &str) -> io::Result<()> {
        if revision == commit {
            return Ok(());
        }
        let path = self.ref_path(revision);
        if std::fs::read_to_string(&path).is_ok_and(|c| c == commit) {
            return Ok(());
        }
        create_parent(&path)?;
        pricer_fs::write_atomic(&path, commit.as_bytes())
            .map_err(|e| io::Error::new(e.error.kind(), e))
    }

    /// Points `snapshots/<commit>/<path>` at `blobs/<etag>` with a relative symlink (so
    /// the cache can be moved), as the Python client does.
    pub fn link(&self, etag: &str, commit: &str, path: &str) -> io::Result<PathBuf> {
        let pointer = self.pointer(commit, path);
        create_parent(&pointer)?;
        let ups = path.split('/').count() + 1;
        let target: PathBuf = std::iter::repeat_n("..", ups)
            .collect::<PathBuf>()
            .join("blobs")
            .join(etag);
        let tmp = pointer.with_file_name(format!(
            ".{}.tmp{}",
            pointer.file_name().unwrap_or_default().to_string_lossy(),
            std::process::id()
        ));
        let _ = std::fs::remove_file(&tmp);
        symlink_or_copy(&target, &self.blob(etag), &tmp)?;
        std::fs::rename(&tmp, &pointer)?;
        Ok(pointer)
    }
}

pub fn create_parent(path: &Path) -> io::Result<()> {
    match path.parent() {
        Some(dir) => std::fs::create_dir_all(dir),
        None => Ok(()),
    }
}

#[cfg(unix)]
fn symlink_or_copy(target: &Path, _blob: &Path, link: &Path) -> io::Result<()> {
    std::os::unix::fs::symlink(target, link)
}

#[cfg(not(unix))]
fn symlink_or_copy(_target: &Path, blob: &Path, link: &Path) -> io::Result<()> {
    // The Python client copies too where symlinks are unavailable.
    std::fs::copy(blob, link).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{RepoFile, RepoKind};

    #[test]
    fn layout_matches_the_python_client() {
        let f = RepoFile::new(
            RepoKind::Dataset,
            "McAuley-Lab/Amazon-Reviews-2023",
            "main",
            "raw/meta_categories/meta_Appliances.jsonl",
        );
        let c = RepoCache::new(Path::new("/c"), &f);
        assert_eq!(
            c.folder,
            PathBuf::from("/c/datasets--McAuley-Lab--Amazon-Reviews-2023")
        );
        assert_eq!(
            c.pointer(&"a".repeat(40), &f.path),
            PathBuf::from(format!(
                "/c/datasets--McAuley-Lab--Amazon-Reviews-2023/snapshots/{}/raw/meta_categories/meta_Appliances.jsonl",
                "a".repeat(40)
            ))
        );
        assert_eq!(
            c.lock("e"),
            PathBuf::from("/c/.locks/datasets--McAuley-Lab--Amazon-Reviews-2023/e.lock")
        );
        let m = RepoFile::new(RepoKind::Model, "gpt2", "main", "tokenizer.json");
        assert_eq!(
            RepoCache::new(Path::new("/c"), &m).folder,
            PathBuf::from("/c/models--gpt2")
        );
    }

    #[test]
    fn refs_and_links() {
        let dir = tempfile::tempdir().unwrap();
        let f = RepoFile::new(RepoKind::Dataset, "o/n", "refs/pr/1", "a/b.jsonl");
        let c = RepoCache::new(dir.path(), &f);
        let commit = "0123456789abcdef0123456789abcdef01234567";
        assert_eq!(c.resolve_ref("refs/pr/1"), None);
        c.write_ref("refs/pr/1", commit).unwrap();
        assert_eq!(c.resolve_ref("refs/pr/1").as_deref(), Some(commit));
        assert_eq!(c.resolve_ref(commit).as_deref(), Some(commit));
        assert!(dir.path().join("datasets--o--n/refs/refs/pr/1").is_file());

        std::fs::create_dir_all(c.blob("x").parent().unwrap()).unwrap();
        std::fs::write(c.blob("etag1"), b"bytes").unwrap();
        let p = c.link("etag1", commit, "a/b.jsonl").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"bytes");
        #[cfg(unix)]
        assert_eq!(
            std::fs::read_link(&p).unwrap(),
            PathBuf::from("../../../blobs/etag1")
        );
        // Re-linking replaces the pointer in place.
        c.link("etag1", commit, "a/b.jsonl").unwrap();
        assert!(!is_commit("main") && !is_commit(&"A".repeat(40)) && is_commit(commit));
    }
}
