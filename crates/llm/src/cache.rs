//! The response cache: every answer ever received, by request key, in append-only JSON
//! lines under the cache folder. An answer is appended (one write) the moment it arrives,
//! so a run killed at any point keeps everything it was paid for; a torn last line is
//! skipped when read. In memory there is only an index (key -> file, offset, length),
//! never the texts. One run at a time holds the folder's lock.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde_json::json;

use crate::request::{Answer, Key};

#[derive(Debug, Clone, Copy)]
struct Place {
    file: u32,
    offset: u64,
    len: u32,
}

/// The cache of one folder, open for reading and appending.
#[derive(Debug)]
pub struct Cache {
    dir: PathBuf,
    files: Vec<PathBuf>,
    index: HashMap<Key, Place>,
    log: File,
    log_len: u64,
    _lock: File,
    /// Lines that could not be read (a torn last line after a kill).
    pub skipped_lines: u64,
}

impl Cache {
    /// Opens (creating) the cache in `dir`; refuses while another run holds it.
    pub fn open(dir: &Path) -> Result<Cache> {
        fs::create_dir_all(dir)
            .with_context(|| format!("{}: cannot create the response cache", dir.display()))?;
        let lock_path = dir.join("cache.lock");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .with_context(|| format!("{}: cannot open", lock_path.display()))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => bail!(
                "{}: another pricer run is using this response cache; wait for it or give this run another cache folder (`cache` in its config table)",
                dir.display()
            ),
            Err(fs::TryLockError::Error(e)) => return Err(e).with_context(|| format!("{}: cannot lock", lock_path.display())),
        }
        let mut files: Vec<PathBuf> = fs::read_dir(dir)
            .with_context(|| format!("{}: cannot list the response cache", dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("responses-"))
                    && p.extension().is_some_and(|x| x == "jsonl")
            })
            .collect();
        files.sort();
        let mut cache = Cache {
            dir: dir.to_owned(),
            index: HashMap::new(),
            files: Vec::new(),
            log: lock.try_clone()?,
            log_len: 0,
            _lock: lock,
            skipped_lines: 0,
        };
        for f in files {
            cache.read_log(&f)?;
        }
        // This run appends to a log of its own: earlier logs are never written again.
        let name = format!("responses-{}-{}.jsonl", unix_time(), std::process::id());
        let path = dir.join(name);
        cache.log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .with_context(|| format!("{}: cannot create", path.display()))?;
        cache.files.push(path);
        Ok(cache)
    }

    fn read_log(&mut self, path: &Path) -> Result<()> {
        let file = File::open(path).with_context(|| format!("{}: cannot read", path.display()))?;
        let n = self.files.len() as u32;
        self.files.push(path.to_owned());
        let mut r = BufReader::new(file);
        let (mut offset, mut line) = (0u64, Vec::new());
        loop {
            line.clear();
            let len = r
                .read_until(b'\n', &mut line)
                .with_context(|| format!("{}: cannot read", path.display()))?;
            if len == 0 {
                break;
            }
            let complete = line.last() == Some(&b'\n');
            let key = serde_json::from_slice::<serde_json::Value>(&line)
                .ok()
                .filter(|_| complete)
                .and_then(|v| v["key"].as_str().and_then(Key::from_hex));
            match key {
                Some(k) => {
                    self.index.insert(
                        k,
                        Place {
                            file: n,
                            offset,
                            len: len as u32,
                        },
                    );
                }
                None => self.skipped_lines += 1,
            }
            offset += len as u64;
        }
        Ok(())
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    pub fn contains(&self, k: &Key) -> bool {
        self.index.contains_key(k)
    }

    /// Records an answer (one append; synced with `PRICER_FSYNC=1`).
    pub fn put(&mut self, k: Key, a: &Answer) -> Result<()> {
        if self.contains(&k) {
            return Ok(());
        }
        // The text is stored as `summary`, the name the first caches (summaries) used.
        let mut line = json!({"key": k.hex(), "summary": a.text, "prompt_tokens": a.prompt_tokens, "completion_tokens": a.completion_tokens}).to_string();
        line.push('\n');
        let path = self.files.last().expect("the run's own log").clone();
        self.log
            .write_all(line.as_bytes())
            .with_context(|| format!("{}: cannot append", path.display()))?;
        pricer_core::atomic::sync_file(&self.log)
            .with_context(|| format!("{}: cannot sync", path.display()))?;
        let place = Place {
            file: self.files.len() as u32 - 1,
            offset: self.log_len,
            len: line.len() as u32,
        };
        self.log_len += line.len() as u64;
        self.index.insert(k, place);
        Ok(())
    }

    /// The answer stored for `k`.
    pub fn get(&self, k: &Key) -> Result<Option<Answer>> {
        let Some(p) = self.index.get(k) else {
            return Ok(None);
        };
        let path = &self.files[p.file as usize];
        let mut f = File::open(path).with_context(|| format!("{}: cannot read", path.display()))?;
        f.seek(SeekFrom::Start(p.offset))?;
        let mut buf = vec![0u8; p.len as usize];
        f.read_exact(&mut buf)
            .with_context(|| format!("{}: cannot read", path.display()))?;
        let v: serde_json::Value = serde_json::from_slice(&buf)
            .with_context(|| format!("{}: damaged cache line", path.display()))?;
        Ok(Some(Answer {
            text: v["summary"].as_str().unwrap_or_default().to_owned(),
            prompt_tokens: v["prompt_tokens"].as_u64().unwrap_or(0),
            completion_tokens: v["completion_tokens"].as_u64().unwrap_or(0),
        }))
    }
}

/// The default folder of a kind of paid answers (`summaries`, `answers`): under
/// `PRICER_CACHE_DIR`, and kept even when it is `off` (what was paid for is never
/// dropped); `.pricer-cache` when there is no user cache folder.
pub fn default_dir(kind: &str) -> PathBuf {
    pricer_core::cache::user_cache_dir()
        .unwrap_or_else(|| PathBuf::from(".pricer-cache"))
        .join(kind)
}

fn unix_time() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(s: &str) -> Answer {
        Answer {
            text: s.into(),
            prompt_tokens: 10,
            completion_tokens: 5,
        }
    }

    #[test]
    fn answers_survive_reopening_and_a_torn_last_line() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (Key([1; 16]), Key([2; 16]));
        {
            let mut c = Cache::open(dir.path()).unwrap();
            c.put(a, &answer("first")).unwrap();
            c.put(b, &answer("second \"quoted\"\nline")).unwrap();
            assert_eq!(c.get(&b).unwrap().unwrap().text, "second \"quoted\"\nline");
            assert!(Cache::open(dir.path()).is_err(), "one run at a time");
        }
        // A kill in the middle of an append leaves half a line.
        let log = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|x| x == "jsonl"))
            .unwrap();
        let mut f = OpenOptions::new().append(true).open(&log).unwrap();
        f.write_all(b"{\"key\": \"0303").unwrap();
        let c = Cache::open(dir.path()).unwrap();
        assert_eq!((c.len(), c.skipped_lines), (2, 1));
        assert_eq!(c.get(&a).unwrap().unwrap().text, "first");
        assert!(c.get(&Key([3; 16])).unwrap().is_none());
    }
}
