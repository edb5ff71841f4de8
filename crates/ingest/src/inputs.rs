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
    #[error("{path}: {error}")]
    Io { path: PathBuf, error: io::Error },
    #[error("{path}: not a raw metadata file (expected a name ending in .jsonl, .jsonl.gz or .jsonl.zst)")]
    NotMetadata { path: PathBuf },
    #[error("{path}: no such folder (the data folder of the categories)")]
    NoFolder { path: PathBuf },
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
    #[error("[input] pattern {pattern:?}: {why}")]
    BadPattern { pattern: String, why: &'static str },
    #[error(transparent)]
    Hub(#[from] pricer_hub::HubError),
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
        let meta = std::fs::metadata(path).map_err(|error| SourceError::Io {
            path: path.clone(),
            error,
        })?;
        if meta.is_dir() {
            let mut names: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(|error| SourceError::Io {
                    path: path.clone(),
                    error,
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
    if !dir.is_dir() {
        return Err(SourceError::NoFolder {
            path: dir.to_owned(),
        });
    }
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

/// The classic run's raw metadata on the Hugging Face Hub.
pub const CLASSIC_REPO: &str = "McAuley-Lab/Amazon-Reviews-2023";
/// Where a category's file is in that repo.
pub const DEFAULT_PATTERN: &str = "raw/meta_categories/meta_{category}.jsonl";

/// Categories read from a Hub dataset repo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubInput {
    /// `org/name` of a dataset repo.
    pub repo: String,
    /// Branch, tag or commit id.
    pub revision: String,
    /// A category's file in the repo; `{category}` is replaced by its name.
    pub pattern: String,
}

impl HubInput {
    /// The repo path of one category's file, and how it is compressed.
    pub fn path_of(&self, category: &str) -> Result<(String, Compression), SourceError> {
        let bad = |why| SourceError::BadPattern {
            pattern: self.pattern.clone(),
            why,
        };
        if !self.pattern.contains("{category}") {
            return Err(bad("it must contain {category}"));
        }
        let path = self.pattern.replace("{category}", category);
        let compression = compression_of(Path::new(&path))
            .ok_or_else(|| bad("the file name must end in .jsonl, .jsonl.gz or .jsonl.zst"))?;
        Ok((path, compression))
    }
}

/// The categories' files from the Hub, through the Hugging Face cache (downloaded when
/// missing), in the order given. The category is the configured name.
pub fn resolve_hub(
    hub: &pricer_hub::Hub,
    input: &HubInput,
    categories: &[String],
) -> Result<Vec<InputFile>, SourceError> {
    categories
        .iter()
        .map(|category| {
            let (path, compression) = input.path_of(category)?;
            let file = pricer_hub::RepoFile::new(
                pricer_hub::RepoKind::Dataset,
                &input.repo,
                &input.revision,
                &path,
            );
            Ok(InputFile {
                path: hub.get(&file)?,
                category: category.clone(),
                compression,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hub_patterns() {
        let h = HubInput {
            repo: CLASSIC_REPO.into(),
            revision: "main".into(),
            pattern: DEFAULT_PATTERN.into(),
        };
        assert_eq!(
            h.path_of("Appliances").unwrap(),
            (
                "raw/meta_categories/meta_Appliances.jsonl".to_owned(),
                Compression::None
            )
        );
        let gz = HubInput {
            pattern: "meta/{category}.jsonl.gz".into(),
            ..h.clone()
        };
        assert_eq!(gz.path_of("X").unwrap().1, Compression::Gzip);
        for bad in ["raw/meta.jsonl", "raw/{category}.csv"] {
            let b = HubInput {
                pattern: bad.into(),
                ..h.clone()
            };
            assert!(b.path_of("X").unwrap_err().to_string().contains(bad));
        }
    }

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
