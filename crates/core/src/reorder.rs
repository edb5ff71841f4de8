//! Putting selected records of an artifact into a new order without holding them all:
//! each selected record is scattered into a bucket file by its destination rank, then
//! the buckets are loaded one at a time, sorted and handed on. Memory holds one bucket.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::Path;

use anyhow::{Context, Result};

use crate::artifact::{ArtifactReader, Record};

/// Name prefix of the work folder (a stage that reorders declares it as a temporary).
pub const WORK_PREFIX: &str = ".reorder-";
/// Records marked with this rank are not selected.
pub const NOT_SELECTED: u32 = u32::MAX;
/// Ranks per bucket (at least; more for very large selections so that the number of
/// open files stays bounded).
pub const MIN_BUCKET_ITEMS: usize = 16_384;
pub const MAX_BUCKETS: usize = 256;

/// Calls `emit(rank, record)` for every record of `src` whose `dest` rank is not
/// [`NOT_SELECTED`], in rank order. `selected` is the number of such records; ranks must
/// be `0..selected`, each once. Bucket files live in a temporary folder in `work_dir`.
pub fn reorder<T: Record>(
    src: &Path,
    dest: &[u32],
    selected: usize,
    work_dir: &Path,
    mut emit: impl FnMut(usize, &T) -> Result<()>,
) -> Result<()> {
    let per_bucket = MIN_BUCKET_ITEMS.max(selected.div_ceil(MAX_BUCKETS));
    let buckets = selected.div_ceil(per_bucket);
    if buckets <= 1 {
        // One bucket's worth: held as the bucket would be, without the file round trip.
        let mut records = Vec::with_capacity(selected);
        for (pos, record) in ArtifactReader::<T>::open(src)?.enumerate() {
            let record = record?;
            if let Some(rank) = selected_rank(src, dest, pos)? {
                records.push((rank, record));
            }
        }
        return emit_in_rank_order(records, &mut emit);
    }
    let tmp = tempfile::Builder::new()
        .prefix(WORK_PREFIX)
        .tempdir_in(work_dir)
        .with_context(|| format!("{}: cannot create a work folder", work_dir.display()))?;
    let bucket_path = |b: usize| tmp.path().join(format!("bucket-{b:05}"));
    let mut writers: Vec<BufWriter<File>> = (0..buckets)
        .map(|b| {
            let p = bucket_path(b);
            File::create(&p)
                .map(|f| BufWriter::with_capacity(64 << 10, f))
                .with_context(|| format!("{}: cannot create", p.display()))
        })
        .collect::<Result<_>>()?;
    let mut buf = Vec::new();
    for (pos, record) in ArtifactReader::<T>::open(src)?.enumerate() {
        let record = record?;
        let Some(rank) = selected_rank(src, dest, pos)? else {
            continue;
        };
        buf.clear();
        buf.extend_from_slice(&rank.to_le_bytes());
        buf.extend_from_slice(&[0; 4]);
        buf = postcard::to_extend(&record, std::mem::take(&mut buf))?;
        let len = (buf.len() - 8) as u32;
        buf[4..8].copy_from_slice(&len.to_le_bytes());
        let b = rank as usize / per_bucket;
        writers[b]
            .write_all(&buf)
            .with_context(|| format!("{}: cannot write", bucket_path(b).display()))?;
    }
    for (b, w) in writers.into_iter().enumerate() {
        w.into_inner()
            .map_err(|e| e.into_error())
            .with_context(|| format!("{}: cannot write", bucket_path(b).display()))?;
    }
    for b in 0..buckets {
        let path = bucket_path(b);
        let records = read_bucket::<T>(&path, &mut buf)
            .with_context(|| format!("{}: cannot read back", path.display()))?;
        emit_in_rank_order(records, &mut emit)?;
        std::fs::remove_file(&path)
            .with_context(|| format!("{}: cannot remove", path.display()))?;
    }
    Ok(())
}

fn emit_in_rank_order<T>(
    mut records: Vec<(u32, T)>,
    emit: &mut impl FnMut(usize, &T) -> Result<()>,
) -> Result<()> {
    records.sort_unstable_by_key(|(rank, _)| *rank);
    for (rank, record) in &records {
        emit(*rank as usize, record)?;
    }
    Ok(())
}

/// The rank of the record at `pos`, if it is selected.
fn selected_rank(src: &Path, dest: &[u32], pos: usize) -> Result<Option<u32>> {
    let rank = *dest
        .get(pos)
        .with_context(|| format!("{}: changed between two reads", src.display()))?;
    Ok((rank != NOT_SELECTED).then_some(rank))
}

fn read_bucket<T: Record>(path: &Path, buf: &mut Vec<u8>) -> Result<Vec<(u32, T)>> {
    let mut r = BufReader::new(File::open(path)?);
    let mut records = Vec::new();
    let mut head = [0u8; 8];
    loop {
        match r.read_exact(&mut head) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(e.into()),
        }
        let rank = u32::from_le_bytes([head[0], head[1], head[2], head[3]]);
        let len = u32::from_le_bytes([head[4], head[5], head[6], head[7]]) as usize;
        buf.resize(len, 0);
        r.read_exact(buf)?;
        records.push((rank, postcard::from_bytes(buf)?));
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::artifact::ArtifactWriter;
    use crate::records::Item;

    /// 13,334 records fit one bucket (held in memory); 30,000 take two bucket files.
    #[test]
    fn selected_records_come_out_in_rank_order() {
        for (n, every) in [(40_000, 3), (60_000, 2)] {
            selected_in_rank_order(n, every);
        }
    }

    fn selected_in_rank_order(n: u32, every: u32) {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("items.art");
        let mut w = ArtifactWriter::<Item>::create(&src).unwrap();
        for i in 0..n {
            w.write(&Item {
                category: "c".into(),
                title: format!("{i}"),
                price: f64::from(i),
                prompt: String::new(),
                token_count: i,
            })
            .unwrap();
        }
        w.finish().unwrap();
        // Every `every`-th record, in reverse order of position.
        let picked: Vec<u32> = (0..n).filter(|i| i % every == 0).collect();
        let mut dest = vec![NOT_SELECTED; n as usize];
        for (rank, &pos) in picked.iter().rev().enumerate() {
            dest[pos as usize] = rank as u32;
        }
        let mut got = Vec::new();
        reorder::<Item>(&src, &dest, picked.len(), dir.path(), |rank, item| {
            assert_eq!(rank, got.len());
            got.push(item.token_count);
            Ok(())
        })
        .unwrap();
        assert_eq!(got, picked.iter().rev().copied().collect::<Vec<_>>());
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "the work folder is gone");
    }
}
