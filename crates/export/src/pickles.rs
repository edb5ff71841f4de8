//! `train.pkl` and `test.pkl` as the seed's last step wrote them: `pickle.dump(items, f)`
//! of a list of the course's `items.Item` objects, protocol 4, byte for byte
//! (../shared/SPEC.md section 4; `pricer_pycompat::pickle` writes the opcodes).
//!
//! Each object's `__dict__` holds `title, price, details, prompt, token_count, include,
//! category` in that order. What CPython memoizes by object identity is fetched from the
//! memo here the same way: the class (after its first save), the seven attribute names
//! (interned, so one object each), one category string per category (the loader's name),
//! and the empty and one-character Latin-1 strings CPython keeps as singletons. Every
//! other string (titles, details, prompts) is a new object, saved in full. Items are
//! written as they are read: memory holds the memo's few strings, not the items.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use pricer_core::artifact::ArtifactReader;
use pricer_core::atomic::AtomicFile;
use pricer_core::Item;
use pricer_pycompat::pickle::{op, Pickler, BATCHSIZE};

/// The attributes in the order the course's code sets them.
const KEYS: [&str; 7] = [
    "title",
    "price",
    "details",
    "prompt",
    "token_count",
    "include",
    "category",
];

/// A list of `items.Item` objects being pickled.
struct ItemList<W: Write> {
    p: Pickler<W>,
    /// Items in the list, and how many are written.
    total: u64,
    done: u64,
    class: Option<u32>,
    keys: [Option<u32>; 7],
    /// Memo indices of the strings CPython shares by identity: categories (one object
    /// per category) and the singletons (empty and one-character Latin-1 strings).
    categories: HashMap<String, u32>,
    singletons: HashMap<String, u32>,
}

impl<W: Write> ItemList<W> {
    fn new(out: W, total: u64) -> Result<Self> {
        let mut p = Pickler::new(out)?;
        p.save_start()?;
        p.write(&[op::EMPTY_LIST]);
        p.memoize();
        Ok(ItemList {
            p,
            total,
            done: 0,
            class: None,
            keys: [None; 7],
            categories: HashMap::new(),
            singletons: HashMap::new(),
        })
    }

    /// A string value: from the memo when CPython would share the object.
    fn value_str(&mut self, s: &str, shared: bool) -> Result<()> {
        let singleton = s.chars().count() <= 1 && s.chars().all(|c| (c as u32) < 256);
        let memo = match (shared, singleton) {
            (_, true) => &mut self.singletons,
            (true, false) => &mut self.categories,
            (false, false) => {
                self.p.str(s)?;
                return Ok(());
            }
        };
        match memo.get(s) {
            Some(&i) => self.p.get(i)?,
            None => {
                let i = self.p.str(s)?;
                memo.insert(s.to_owned(), i);
            }
        }
        Ok(())
    }

    fn key(&mut self, k: usize) -> Result<()> {
        match self.keys[k] {
            Some(i) => self.p.get(i)?,
            None => self.keys[k] = Some(self.p.str(KEYS[k])?),
        }
        Ok(())
    }

    /// One item, as `save(obj)` of an `items.Item` writes it: the class, `NEWOBJ`, the
    /// state dict and `BUILD`. Batches of 1,000 open with `MARK` and close with
    /// `APPENDS` (a one-item list: the item and `APPEND`).
    fn push(&mut self, item: &Item) -> Result<()> {
        if self.total > 1 && self.done.is_multiple_of(BATCHSIZE as u64) {
            self.p.write(&[op::MARK]);
        }
        self.p.save_start()?;
        match self.class {
            Some(i) => self.p.get(i)?,
            None => self.class = Some(self.p.global("items", "Item")?),
        }
        self.p.save_start()?;
        self.p.write(&[op::EMPTY_TUPLE, op::NEWOBJ]);
        self.p.memoize();
        self.p.save_start()?;
        self.p.write(&[op::EMPTY_DICT]);
        self.p.memoize();
        self.p.write(&[op::MARK]);
        self.key(0)?;
        self.value_str(&item.title, false)?;
        self.key(1)?;
        self.p.float(item.price)?;
        self.key(2)?;
        match &item.details {
            Some(d) => self.value_str(d, false)?,
            None => self.p.none()?,
        }
        self.key(3)?;
        self.value_str(&item.prompt, false)?;
        self.key(4)?;
        self.p.int(i64::from(item.token_count))?;
        self.key(5)?;
        self.p.bool(true)?;
        self.key(6)?;
        self.value_str(&item.category, true)?;
        self.p.write(&[op::SETITEMS, op::BUILD]);
        self.done += 1;
        if self.total == 1 {
            self.p.write(&[op::APPEND]);
        } else if self.done.is_multiple_of(BATCHSIZE as u64) || self.done == self.total {
            self.p.write(&[op::APPENDS]);
        }
        Ok(())
    }

    fn finish(self) -> Result<W> {
        anyhow::ensure!(
            self.done == self.total,
            "internal error: {} of {} items pickled",
            self.done,
            self.total
        );
        Ok(self.p.finish()?)
    }
}

/// Writes the items of the split artifact `src` to `dst` as the seed's pickle.
pub fn write_pickle(src: &Path, dst: &Path) -> Result<()> {
    let reader = ArtifactReader::<Item>::open(src)?;
    let total = reader.expected_count();
    let out = AtomicFile::create(dst)?;
    let mut list = ItemList::new(std::io::BufWriter::with_capacity(1 << 20, out), total)?;
    for item in reader {
        list.push(&item?)?;
    }
    let out = list
        .finish()?
        .into_inner()
        .map_err(|e| anyhow::anyhow!("{}: cannot write: {}", dst.display(), e.error()))?;
    out.commit()
        .with_context(|| format!("{}: cannot write the pickle", dst.display()))?;
    Ok(())
}
