//! Which raw metadata files a run reads, in which order, and the category each name gives.

use std::io;
use std::path::{Path, PathBuf};

/// File name endings read as raw metadata.
pub const EXTENSIONS: [&str; 3] = [".jsonl", ".jsonl.gz", ".jsonl.zst"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

/// One raw metadata file and the category its name gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputFile {
    pub path: PathBuf,
    pub category: String,
    pub compression: Compression,
}

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("{path}: not a raw metadata file (expected a name ending in .jsonl, .jsonl.gz or .jsonl.zst)")]
    NotMetadata { path: PathBuf },
    #[error("{path}: no .jsonl, .jsonl.gz or .jsonl.zst files in this folder")]
    EmptyFolder { path: PathBuf },
    #[error("{dir}: no file for category {category} (looked for meta_{category}.jsonl, .jsonl.gz, .jsonl.zst)")]
    NoCategory { dir: PathBuf, category: String },
    #[error("{dir}: category {category} has several files ({found}); name one of them as an input instead")]
    AmbiguousCategory {
        dir: PathBuf,
        category: String,
        found: String,
    },
    #[error("{path}: the name says {expected} but the content is {found}; rename the file to match its content")]
    WrongCompression {
        path: PathBuf,
        expected: &'static str,
        found: &'static str,
    },
    #[error("{path}: cannot decompress ({reason}): the file is truncated or corrupt; re-download or re-compress it")]
    Decompress { path: PathBuf, reason: String },
}

/// The category of a raw file: the stem after `meta_` (as the recipe's loader named it).
pub fn category_of(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut stem = name.as_str();
    for ext in [".gz", ".zst"] {
        if let Some(s) = stem.strip_suffix(ext) {
            stem = s;
            break;
        }
    }
    if let Some((s, _)) = stem.rsplit_once('.') {
        stem = s;
    }
    stem.strip_prefix("meta_").unwrap_or(stem).to_owned()
}

fn compression_of(path: &Path) -> Option<Compression> {
    let name = path.file_name()?.to_string_lossy();
    if name.ends_with(".jsonl.gz") {
        Some(Compression::Gzip)
    } else if name.ends_with(".jsonl.zst") {
        Some(Compression::Zstd)
    } else if name.ends_with(".jsonl") {
        Some(Compression::None)
    } else {
        None
    }
}

fn input_file(path: PathBuf) -> Result<InputFile, SourceError> {
    let compression =
        compression_of(&path).ok_or_else(|| SourceError::NotMetadata { path: path.clone() })?;
    Ok(InputFile {
        category: category_of(&path),
        compression,
        path,
    })
}

/// Files named on the command line or in a config, in the order given; a folder expands
/// to its metadata files in byte-sorted file-name order.
pub fn resolve(paths: &[PathBuf]) -> Result<Vec<InputFile>, SourceError> {
    let mut out = Vec::new();
    for path in paths {
        let meta = std::fs::metadata(path).map_err(|source| SourceError::Io {
            path: path.clone(),
            source,
        })?;
        if meta.is_dir() {
            let mut names: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(|source| SourceError::Io {
                    path: path.clone(),
                    source,
                })?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file() && compression_of(p).is_some())
                .collect();
            if names.is_empty() {
                return Err(SourceError::EmptyFolder { path: path.clone() });
            }
            names.sort_by(|a, b| {
                a.file_name()
                    .map(|n| n.as_encoded_bytes())
                    .cmp(&b.file_name().map(|n| n.as_encoded_bytes()))
            });
            for p in names {
                out.push(input_file(p)?);
            }
        } else {
            out.push(input_file(path.clone())?);
        }
    }
    Ok(out)
}

/// Category names resolved to `meta_<Category>.jsonl[.gz|.zst]` in `dir`, in the order given.
pub fn resolve_categories(
    dir: &Path,
    categories: &[String],
) -> Result<Vec<InputFile>, SourceError> {
    categories
        .iter()
        .map(|category| {
            let found: Vec<PathBuf> = EXTENSIONS
                .iter()
                .map(|ext| dir.join(format!("meta_{category}{ext}")))
                .filter(|p| p.is_file())
                .collect();
            match found.len() {
                0 => Err(SourceError::NoCategory {
                    dir: dir.to_owned(),
                    category: category.clone(),
                }),
                1 => input_file(found.into_iter().next().expect("one")),
                _ => Err(SourceError::AmbiguousCategory {
                    dir: dir.to_owned(),
                    category: category.clone(),
                    found: found
                        .iter()
                        .map(|p| p.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", "),
                }),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_from_names() {
        assert_eq!(
            category_of(Path::new("d/meta_Tools_and_Home_Improvement.jsonl.gz")),
            "Tools_and_Home_Improvement"
        );
        assert_eq!(
            category_of(Path::new("meta_Appliances.jsonl.zst")),
            "Appliances"
        );
        assert_eq!(
            category_of(Path::new("meta_Appliances.jsonl")),
            "Appliances"
        );
        assert_eq!(category_of(Path::new("Other.jsonl")), "Other");
    }
}
