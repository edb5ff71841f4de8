//! Joining shards. Shards of a stage (`--shard i/N`) each cover a contiguous run of the
//! input files, so the whole run's artifacts are the shards' records concatenated in
//! shard order, and its rejects their lines concatenated. The merged folder is what the
//! one-machine run writes: the same artifact bytes, and a manifest with the same inputs,
//! config and fingerprint (so later stages and `cargo xtask pipeline` accept it), plus a
//! summary of every shard (wall time, peak memory, counts).

pub mod cli;

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, ensure, Context, Result};
use pricer_core::artifact::{record_type, ArtifactReader, ArtifactWriter, Record};
use pricer_core::atomic::{AtomicFile, HashingWriter};
use pricer_core::jsonl::{FILE_KIND, JSONL_KIND};
use pricer_core::manifest::{Counts, InputRef, Manifest};
use pricer_core::{ArtifactInfo, Candidate, Item};

/// A shard folder and its manifest.
struct Shard {
    dir: PathBuf,
    manifest: Manifest,
}

fn read_shards(dirs: &[PathBuf]) -> Result<Vec<Shard>> {
    ensure!(!dirs.is_empty(), "no shard folders given");
    let mut shards = Vec::with_capacity(dirs.len());
    for dir in dirs {
        let manifest = Manifest::read(dir)
            .with_context(|| format!("{}: not a finished stage folder", dir.display()))?;
        ensure!(
            manifest.shard.is_some(),
            "{}: not a shard (its manifest has no shard; was it run with --shard i/N?)",
            dir.display()
        );
        pricer_core::stage::verify_listed(dir, &manifest).with_context(|| {
            format!(
                "{}: this shard's outputs do not verify; run the shard again",
                dir.display()
            )
        })?;
        shards.push(Shard {
            dir: dir.clone(),
            manifest,
        });
    }
    shards.sort_by_key(|s| s.manifest.shard.as_ref().map(|x| x.index));
    let first = &shards[0].manifest;
    let info = first.shard.as_ref().expect("checked");
    ensure!(
        info.count as usize == shards.len(),
        "{} shard folders given, but the shards say the run has {}",
        shards.len(),
        info.count
    );
    let mut next_file = 0u32;
    for (k, s) in shards.iter().enumerate() {
        let m = &s.manifest;
        let x = m.shard.as_ref().expect("checked");
        let at = s.dir.display();
        ensure!(
            x.index as usize == k,
            "{at}: shard {} appears twice or {k} is missing",
            x.index
        );
        ensure!(
            m.stage == first.stage,
            "{at}: stage {} among {} shards",
            m.stage,
            first.stage
        );
        ensure!(
            m.code_version == first.code_version,
            "{at}: code version {} differs from {}",
            m.code_version,
            first.code_version
        );
        ensure!(
            m.config == first.config,
            "{at}: the stage config differs from shard 0's"
        );
        ensure!(
            x.all_inputs == info.all_inputs,
            "{at}: the run's input list differs from shard 0's"
        );
        ensure!(
            x.first_file == next_file,
            "{at}: its files do not follow the previous shard's"
        );
        ensure!(
            m.outputs.keys().eq(first.outputs.keys()),
            "{at}: its outputs differ from shard 0's"
        );
        next_file += x.files;
    }
    ensure!(
        next_file as usize == info.all_inputs.len(),
        "the shards cover {next_file} of the run's {} files",
        info.all_inputs.len()
    );
    Ok(shards)
}

fn concat_records<T: Record>(parts: &[PathBuf], dst: &Path) -> Result<ArtifactInfo> {
    let mut w = ArtifactWriter::<T>::create(dst)?;
    for p in parts {
        for r in ArtifactReader::<T>::open(p)? {
            w.write(&r?)?;
        }
    }
    Ok(w.finish()?)
}

fn concat_artifact(parts: &[PathBuf], dst: &Path) -> Result<ArtifactInfo> {
    let kind = record_type(&parts[0])?;
    for p in parts {
        let k = record_type(p)?;
        ensure!(
            k == kind,
            "{}: holds {k} records, shard 0 holds {kind}",
            p.display()
        );
    }
    match kind.as_str() {
        k if k == Candidate::RECORD_TYPE => concat_records::<Candidate>(parts, dst),
        k if k == Item::RECORD_TYPE => concat_records::<Item>(parts, dst),
        other => bail!("{}: cannot merge {other} records", parts[0].display()),
    }
}

/// Concatenates text outputs (rejects) of the shards; returns the merged file's entry.
fn concat_lines(parts: &[PathBuf], dst: &Path, kind: &str) -> Result<ArtifactInfo> {
    let mut out = HashingWriter::new(AtomicFile::create(dst)?);
    let mut lines = 0u64;
    for p in parts {
        let mut r =
            BufReader::new(File::open(p).with_context(|| format!("{}: cannot read", p.display()))?);
        loop {
            let buf = r
                .fill_buf()
                .with_context(|| format!("{}: cannot read", p.display()))?;
            if buf.is_empty() {
                break;
            }
            lines += buf.iter().filter(|&&b| b == b'\n').count() as u64;
            out.write_all(buf)
                .map_err(|e| out.inner.error("write", e))?;
            let n = buf.len();
            r.consume(n);
        }
    }
    let (file, digest, bytes) = out.finish();
    file.commit()?;
    Ok(ArtifactInfo {
        record_type: kind.to_owned(),
        count: if kind == JSONL_KIND { lines } else { 0 },
        digest: digest.to_hex().to_string(),
        bytes,
    })
}

/// The inputs of the whole run. Without `upstream` (ingest): every shard's inputs in
/// order. With it (a stage reading an earlier sharded stage): the upstream folder's
/// merged artifact in place of each shard's own part, then the inputs all shards share
/// (the tokenizer), checked against the upstream's record of its shards.
fn merged_inputs(shards: &[Shard], upstream: Option<&Path>) -> Result<Vec<InputRef>> {
    let Some(up) = upstream else {
        return Ok(shards
            .iter()
            .flat_map(|s| s.manifest.inputs.clone())
            .collect());
    };
    let up_m = Manifest::read(up)
        .with_context(|| format!("{}: not a finished stage folder", up.display()))?;
    ensure!(
        up_m.shard.is_none(),
        "{}: a shard, not a merged folder",
        up.display()
    );
    let artifacts: Vec<(&String, &ArtifactInfo)> = up_m
        .outputs
        .iter()
        .filter(|(_, i)| !matches!(i.record_type.as_str(), FILE_KIND | JSONL_KIND))
        .collect();
    let [(name, info)] = artifacts.as_slice() else {
        bail!("{}: expected one artifact", up.display());
    };
    let (name, info) = (*name, *info);
    let expected: Vec<String> = up_m.summary["shards"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s["outputs"][name]["digest"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let first = &shards[0].manifest.inputs;
    let mut shared = Vec::new();
    let mut part_at = None;
    for (i, input) in first.iter().enumerate() {
        if shards
            .iter()
            .all(|s| s.manifest.inputs.get(i).map(|x| &x.digest) == Some(&input.digest))
        {
            shared.push(input.clone());
        } else {
            ensure!(part_at.is_none(), "shards differ in more than one input");
            part_at = Some(i);
        }
    }
    let part_at = part_at.unwrap_or(0);
    let parts: Vec<String> = shards
        .iter()
        .map(|s| {
            s.manifest
                .inputs
                .get(part_at)
                .map(|x| x.digest.clone())
                .unwrap_or_default()
        })
        .collect();
    ensure!(
        parts == expected,
        "{}: its shards are not the ones these shards read (merge that stage's shards into it first)",
        up.display()
    );
    let mut inputs = vec![InputRef {
        path: up.join(name).display().to_string(),
        digest: info.digest.clone(),
        bytes: info.bytes,
    }];
    inputs.extend(shared);
    // Keep the one-machine order: the upstream artifact where the shard's part was.
    if part_at > 0 {
        let up_ref = inputs.remove(0);
        inputs.insert(part_at, up_ref);
    }
    Ok(inputs)
}

/// Merges shard folders of one stage into `out`; returns the manifest written there.
pub fn merge(dirs: &[PathBuf], out: &Path, upstream: Option<&Path>) -> Result<Manifest> {
    let started = Instant::now();
    let shards = read_shards(dirs)?;
    pricer_core::atomic::create_dir(out)?;
    let first = &shards[0].manifest;
    let inputs = merged_inputs(&shards, upstream)?;
    let mut outputs = std::collections::BTreeMap::new();
    for (name, first_info) in &first.outputs {
        let parts: Vec<PathBuf> = shards.iter().map(|s| s.dir.join(name)).collect();
        let kind = first_info.record_type.as_str();
        let info = if matches!(kind, FILE_KIND | JSONL_KIND) {
            concat_lines(&parts, &out.join(name), kind)?
        } else {
            concat_artifact(&parts, &out.join(name))?
        };
        let want: u64 = shards.iter().map(|s| s.manifest.outputs[name].count).sum();
        ensure!(
            info.count == want,
            "{name}: merged {} records, the shards say {want}",
            info.count
        );
        outputs.insert(name.clone(), info);
    }
    let mut counts = Counts::default();
    for s in &shards {
        counts.add(&s.manifest.counts);
    }
    let mut m = Manifest::for_stage(
        &first.stage,
        inputs,
        first.config.clone(),
        outputs,
        counts,
        started,
    );
    m.per_file = shards
        .iter()
        .flat_map(|s| s.manifest.per_file.clone())
        .collect();
    m.threads = shards.iter().map(|s| s.manifest.threads).max().unwrap_or(1);
    m.peak_rss_bytes = shards
        .iter()
        .filter_map(|s| s.manifest.peak_rss_bytes)
        .max();
    m.summary = serde_json::json!({
        "merged_from": shards.len(),
        "shards": shards.iter().map(|s| serde_json::json!({
            "index": s.manifest.shard.as_ref().map(|x| x.index),
            "folder": s.dir.display().to_string(),
            "files": s.manifest.shard.as_ref().map(|x| x.files),
            "fingerprint": s.manifest.fingerprint,
            "counts": s.manifest.counts,
            "outputs": s.manifest.outputs,
            "threads": s.manifest.threads,
            "wall_seconds": s.manifest.wall_seconds,
            "peak_rss_bytes": s.manifest.peak_rss_bytes,
        })).collect::<Vec<_>>(),
        "shard_wall_seconds_sum": shards.iter().map(|s| s.manifest.wall_seconds).sum::<f64>(),
    });
    m.write(out)?;
    Ok(m)
}
