//! Files that appear whole or not at all.
//!
//! Every output is written under a temporary name beside its target (`NAME.tmp-PID`) and
//! renamed into place only when complete, so a killed stage never leaves a file under an
//! output's name. An [`AtomicFile`] dropped before [`AtomicFile::commit`] (an error, a
//! panic upstream) deletes its temporary. Every error names the file it concerns.
//!
//! Durability: outputs are synced before the rename (and the folder after it) only when
//! `PRICER_FSYNC=1`. Every artifact carries a digest that its readers and the pipeline's
//! skip check verify, and every other output's digest is in its stage's manifest, so a
//! file torn by a power loss is found and its stage run again; a kill needs no fsync (the
//! rename is atomic). Turning it on makes finished stages survive a power loss, at the
//! price of waiting for the disk on every output.

use std::fs::{self, File};
use std::io::{self, BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// An I/O error and the file it happened to.
#[derive(Debug, thiserror::Error)]
#[error("{path}: cannot {action}: {error}")]
pub struct FileError {
    pub path: PathBuf,
    pub action: &'static str,
    pub error: io::Error,
}

impl FileError {
    pub fn new(path: impl Into<PathBuf>, action: &'static str, error: io::Error) -> Self {
        FileError {
            path: path.into(),
            action,
            error,
        }
    }

    /// `map_err` helper: `.map_err(FileError::at(path, "read"))`.
    pub fn at<'p>(
        path: &'p Path,
        action: &'static str,
    ) -> impl FnOnce(io::Error) -> FileError + 'p {
        move |error| FileError::new(path, action, error)
    }
}

/// The temporary name a writer uses beside `path`. Every temporary name holds `.tmp-`,
/// which is how the pipeline finds what a killed run left.
pub fn temp_path(path: &Path) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(format!("{TEMP_MARK}{}", std::process::id()));
    path.with_file_name(name)
}

/// The part of every temporary file name that marks it as one.
pub const TEMP_MARK: &str = ".tmp-";

/// Whether outputs are synced to disk before they are renamed into place (see above).
pub fn fsync_enabled() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| {
        std::env::var("PRICER_FSYNC").is_ok_and(|v| matches!(v.trim(), "1" | "true" | "yes"))
    })
}

/// `file.sync_all()` when [`fsync_enabled`].
pub fn sync_file(file: &File) -> io::Result<()> {
    if fsync_enabled() {
        file.sync_all()
    } else {
        Ok(())
    }
}

/// Makes a rename durable when [`fsync_enabled`]: syncs the folder entry (best effort;
/// not every file system allows it).
pub fn sync_parent(path: &Path) {
    if !fsync_enabled() {
        return;
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }
}

/// Creates `dir` and its parents, naming it on failure.
pub fn create_dir(dir: &Path) -> Result<(), FileError> {
    fs::create_dir_all(dir).map_err(FileError::at(dir, "create the folder"))
}

/// A file written under a temporary name and renamed into place by [`AtomicFile::commit`].
pub struct AtomicFile {
    path: PathBuf,
    tmp: PathBuf,
    out: Option<BufWriter<File>>,
    written: u64,
}

impl std::fmt::Debug for AtomicFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AtomicFile")
            .field("path", &self.path)
            .finish()
    }
}

impl AtomicFile {
    /// Starts writing `path` (creating its folder if needed).
    pub fn create(path: impl Into<PathBuf>) -> Result<Self, FileError> {
        let path = path.into();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            create_dir(dir)?;
        }
        let tmp = temp_path(&path);
        let file = File::create(&tmp).map_err(FileError::at(&tmp, "create"))?;
        Ok(AtomicFile {
            path,
            tmp,
            out: Some(BufWriter::with_capacity(1 << 20, file)),
            written: 0,
        })
    }

    /// The name the file will have.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Bytes written so far (the file's size when done).
    pub fn written(&self) -> u64 {
        self.written
    }

    /// The temporary name it is written under.
    pub fn tmp_path(&self) -> &Path {
        &self.tmp
    }

    fn out(&mut self) -> &mut BufWriter<File> {
        self.out
            .as_mut()
            .expect("an AtomicFile is used only until commit")
    }

    /// Overwrites the first bytes of the file (a header written last).
    pub fn rewrite_start(&mut self, bytes: &[u8]) -> Result<(), FileError> {
        let tmp = self.tmp.clone();
        let out = self.out();
        out.flush()
            .and_then(|_| out.get_mut().seek(SeekFrom::Start(0)))
            .and_then(|_| out.get_mut().write_all(bytes))
            .and_then(|_| out.get_mut().seek(SeekFrom::End(0)).map(|_| ()))
            .map_err(FileError::at(&tmp, "write"))
    }

    /// Flushes, syncs (with `PRICER_FSYNC=1`) and renames the file into place.
    pub fn commit(mut self) -> Result<(), FileError> {
        let out = self.out.take().expect("commit once");
        let file = out
            .into_inner()
            .map_err(|e| FileError::new(&self.tmp, "write", e.into_error()))?;
        sync_file(&file).map_err(FileError::at(&self.tmp, "sync"))?;
        drop(file);
        fs::rename(&self.tmp, &self.path)
            .map_err(FileError::at(&self.path, "rename into place"))?;
        sync_parent(&self.path);
        Ok(())
    }

    /// An I/O error of this file's temporary, as a [`FileError`].
    pub fn error(&self, action: &'static str, source: io::Error) -> FileError {
        FileError::new(&self.tmp, action, source)
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.out().write(buf)?;
        self.written += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.out().flush()
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.out.take().is_some() {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

/// Counts and hashes (BLAKE3) the bytes that pass through to `inner`.
#[derive(Debug)]
pub struct HashingWriter<W> {
    pub inner: W,
    hasher: blake3::Hasher,
    len: u64,
}

impl<W> HashingWriter<W> {
    pub fn new(inner: W) -> Self {
        HashingWriter {
            inner,
            hasher: blake3::Hasher::new(),
            len: 0,
        }
    }

    /// Bytes written so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The inner writer, the digest of what passed and its length.
    pub fn finish(self) -> (W, blake3::Hash, u64) {
        (self.inner, self.hasher.finalize(), self.len)
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Writes `bytes` to `path` atomically.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), FileError> {
    let mut f = AtomicFile::create(path)?;
    f.write_all(bytes).map_err(|e| f.error("write", e))?;
    f.commit()
}

/// Copies `src` to `dst` atomically.
pub fn copy_atomic(src: &Path, dst: &Path) -> Result<(), FileError> {
    let mut f = AtomicFile::create(dst)?;
    let mut r = File::open(src).map_err(FileError::at(src, "open"))?;
    io::copy(&mut r, &mut f).map_err(|e| f.error("copy into", e))?;
    f.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_renames_and_drop_cleans_up() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/out.txt");
        let mut f = AtomicFile::create(&path).unwrap();
        f.write_all(b"hello").unwrap();
        assert!(!path.exists(), "nothing under the name before commit");
        f.commit().unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"hello");
        {
            let mut f = AtomicFile::create(&path).unwrap();
            f.write_all(b"half").unwrap();
        }
        assert_eq!(
            fs::read(&path).unwrap(),
            b"hello",
            "an unfinished write changes nothing"
        );
        let names: Vec<_> = fs::read_dir(dir.path().join("sub")).unwrap().collect();
        assert_eq!(names.len(), 1, "no temporary left behind");
    }

    #[test]
    fn rewrite_start_patches_a_header() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.bin");
        let mut f = AtomicFile::create(&path).unwrap();
        f.write_all(&[0; 4]).unwrap();
        f.write_all(b"body").unwrap();
        f.rewrite_start(b"HEAD").unwrap();
        f.write_all(b"!").unwrap();
        f.commit().unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"HEADbody!");
    }

    #[test]
    fn errors_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("file");
        fs::write(&blocker, b"x").unwrap();
        let err = AtomicFile::create(blocker.join("below")).unwrap_err();
        assert!(err.to_string().contains("file"), "{err}");
    }
}
