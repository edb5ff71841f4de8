//! Putting selected records of an artifact into a new order without holding them all:
//! each selected record is scattered into a bucket file by its destination rank, then
//! the buckets are loaded one at a time, sorted and handed on. Memory holds one bucket.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::{ensure, Context, Result};

use crate::artifact::{ArtifactReader, Frame, Record};

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
    reorder_frames::<T>(src, dest, selected, work_dir, |rank, frame| {
        let record = frame
            .decode()
            .with_context(|| format!("{}: record of rank {rank}", src.display()))?;
        emit(rank, &record)
    })
}

/// [`reorder`] without decoding: `emit` gets each record's bytes as `src` holds them
/// (for [`crate::ArtifactWriter::write_frame`]), so moving a record costs a copy, not a
/// decode and an encode in each direction. `src`'s digest is checked after its last
/// record has been read, before the first bucket is emitted when there are buckets, and
/// before `emit` is called at all when there is one.
pub fn reorder_frames<T: Record>(
    src: &Path,
    dest: &[u32],
    selected: usize,
    work_dir: &Path,
    mut emit: impl FnMut(usize, Frame<'_, T>) -> Result<()>,
) -> Result<()> {
    let per_bucket = MIN_BUCKET_ITEMS.max(selected.div_ceil(MAX_BUCKETS));
    let buckets = selected.div_ceil(per_bucket);
    let mut reader = ArtifactReader::<T>::open(src)?;
    if buckets <= 1 {
        // One bucket's worth: held as the bucket file would hold it, without the file.
        let mut bucket = Vec::new();
        let mut pos = 0;
        while let Some(frame) = reader.next_frame()? {
            if let Some(rank) = selected_rank(src, dest, pos)? {
                push_entry(&mut bucket, rank, frame.bytes());
            }
            pos += 1;
        }
        return emit_in_rank_order(&bucket, &mut emit);
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
    let mut entry = Vec::new();
    let mut pos = 0;
    while let Some(frame) = reader.next_frame()? {
        let rank = selected_rank(src, dest, pos)?;
        pos += 1;
        let Some(rank) = rank else {
            continue;
        };
        entry.clear();
        push_entry(&mut entry, rank, frame.bytes());
        let b = rank as usize / per_bucket;
        writers[b]
            .write_all(&entry)
            .with_context(|| format!("{}: cannot write", bucket_path(b).display()))?;
    }
    for (b, w) in writers.into_iter().enumerate() {
        w.into_inner()
            .map_err(|e| e.into_error())
            .with_context(|| format!("{}: cannot write", bucket_path(b).display()))?;
    }
    for b in 0..buckets {
        let path = bucket_path(b);
        let bucket = std::fs::read(&path)
            .with_context(|| format!("{}: cannot read back", path.display()))?;
        emit_in_rank_order(&bucket, &mut emit)
            .with_context(|| format!("{}: bucket file", path.display()))?;
        std::fs::remove_file(&path)
            .with_context(|| format!("{}: cannot remove", path.display()))?;
    }
    Ok(())
}

/// A bucket entry: rank (u32 LE), length (u32 LE), the record's bytes.
fn push_entry(bucket: &mut Vec<u8>, rank: u32, bytes: &[u8]) {
    bucket.extend_from_slice(&rank.to_le_bytes());
    bucket.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    bucket.extend_from_slice(bytes);
}

fn emit_in_rank_order<T: Record>(
    bucket: &[u8],
    emit: &mut impl FnMut(usize, Frame<'_, T>) -> Result<()>,
) -> Result<()> {
    let mut entries: Vec<(u32, usize, usize)> = Vec::new();
    let mut at = 0;
    while at < bucket.len() {
        let head = bucket
            .get(at..at + 8)
            .context("a bucket entry is cut short")?;
        let rank = u32::from_le_bytes([head[0], head[1], head[2], head[3]]);
        let len = u32::from_le_bytes([head[4], head[5], head[6], head[7]]) as usize;
        let start = at + 8;
        ensure!(start + len <= bucket.len(), "a bucket entry is cut short");
        entries.push((rank, start, len));
        at = start + len;
    }
    entries.sort_unstable_by_key(|&(rank, ..)| rank);
    for (rank, start, len) in entries {
        emit(rank as usize, Frame::new(&bucket[start..start + len]))?;
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
                details: None,
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

        // Frames copied as they are make the artifact that decoded records make.
        let (by_record, by_frame) = (dir.path().join("a.art"), dir.path().join("b.art"));
        let mut w = ArtifactWriter::<Item>::create(&by_record).unwrap();
        reorder::<Item>(&src, &dest, picked.len(), dir.path(), |_, item| {
            Ok(w.write(item)?)
        })
        .unwrap();
        let a = w.finish().unwrap();
        let mut w = ArtifactWriter::<Item>::create(&by_frame).unwrap();
        reorder_frames::<Item>(&src, &dest, picked.len(), dir.path(), |_, frame| {
            Ok(w.write_frame(&frame)?)
        })
        .unwrap();
        let b = w.finish().unwrap();
        assert_eq!(a, b);
        assert_eq!(a.count, picked.len() as u64);
        assert_eq!(
            std::fs::read(by_record).unwrap(),
            std::fs::read(by_frame).unwrap()
        );
    }
}
