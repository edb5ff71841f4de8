//! Finding and loading a tokenizer: the bundled copy, a local `tokenizer.json` (or the
//! folder holding one, or a `.zst` beside it), or a Hub model id resolved through the
//! Hugging Face cache.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use anyhow::{bail, Context, Result};
use pricer_bpe::{Bpe, BpeError};

/// Where the default tokenizer is bundled, relative to the workspace root.
pub const BUNDLED_TOKENIZER: &str = "fixtures/tokenizers/llama-3.1/tokenizer.json";

/// Where to get `tokenizer.json` from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenizerSource {
    /// The bundled Llama 3.1 copy.
    Bundled,
    /// A `tokenizer.json`, or a folder that holds one.
    Path(PathBuf),
    /// A Hub model id, e.g. `meta-llama/Meta-Llama-3.1-8B`.
    Hub(String),
}

/// A loaded tokenizer and what identifies it.
pub struct LoadedTokenizer {
    /// The exact fast encoder, when the file is one it implements.
    pub fast: Option<Bpe>,
    /// `tokenizers`' own tokenizer: loaded on first use when there is a fast encoder
    /// (texts holding added tokens, the reference mode), else at once.
    reference: OnceLock<tokenizers::Tokenizer>,
    /// The file as stored (zstd for the bundled copies) and, once needed, as JSON.
    raw: Vec<u8>,
    json: OnceLock<Vec<u8>>,
    json_len: u64,
    pub path: PathBuf,
    /// BLAKE3 of the (uncompressed) tokenizer.json: part of fingerprints.
    pub digest: String,
}

impl std::fmt::Debug for LoadedTokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedTokenizer")
            .field("path", &self.path)
            .field("digest", &self.digest)
            .finish()
    }
}

impl LoadedTokenizer {
    /// `tokenizers`' tokenizer for this file, set up as transformers uses it.
    pub fn reference(&self) -> Result<&tokenizers::Tokenizer> {
        if let Some(t) = self.reference.get() {
            return Ok(t);
        }
        let t = parse_reference(&self.path, self.json()?)?;
        Ok(self.reference.get_or_init(|| t))
    }

    /// The tokenizer.json bytes (decompressed on first use).
    fn json(&self) -> Result<&[u8]> {
        json_bytes(&self.path, &self.raw, &self.json)
    }

    /// Size of the uncompressed tokenizer.json.
    pub fn json_bytes(&self) -> u64 {
        self.json_len
    }
}

/// `tokenizers` from the file's bytes, with what transformers does on top: its fast
/// tokenizers never truncate or pad on `encode`/`decode` calls, whatever the file sets.
/// Contained: `tokenizers` 0.21 panics on some torn files (90 of the 6,693 in the
/// `tokenizer_json` fuzz corpus) instead of returning its error.
fn parse_reference(path: &Path, json: &[u8]) -> Result<tokenizers::Tokenizer> {
    pricer_core::contain::contain(path, "tokenizer.json", || parse_reference_now(path, json))
}

fn parse_reference_now(path: &Path, json: &[u8]) -> Result<tokenizers::Tokenizer> {
    let mut tok = tokenizers::Tokenizer::from_bytes(json).map_err(|e| {
        anyhow::anyhow!(
            "tokenizer {}: not a valid Hugging Face tokenizer.json ({e}); re-copy it from the model repo",
            path.display()
        )
    })?;
    tok.with_truncation(None)
        .map_err(|e| anyhow::anyhow!("tokenizer {}: {e}", path.display()))?;
    tok.with_padding(None);
    Ok(tok)
}

/// A bundled file (`rel` to the bundle's root): found from the current folder, else
/// among the bundled files (`pricer_core::bundle`).
pub fn bundled(rel: &str) -> PathBuf {
    let found = pricer_core::bundle::find(Path::new(rel));
    if found.is_relative() && !pricer_core::bundle::exists(&found) {
        return pricer_core::bundle::root().join(rel);
    }
    found
}

/// The bundled Llama 3.1 tokenizer.
pub fn bundled_path() -> PathBuf {
    bundled(BUNDLED_TOKENIZER)
}

fn with_zst(p: &Path) -> PathBuf {
    let mut zst = p.to_owned().into_os_string();
    zst.push(".zst");
    PathBuf::from(zst)
}

/// A folder means its `tokenizer.json`; a missing `X` is found as `X.zst` beside it.
fn resolve_path(p: &Path) -> PathBuf {
    let file = if p.is_dir() {
        p.join("tokenizer.json")
    } else {
        p.to_owned()
    };
    if !file.exists() && with_zst(&file).is_file() {
        return with_zst(&file);
    }
    file
}

fn is_zst(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "zst")
}

/// The file's bytes as stored.
fn read_raw(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| {
        format!(
            "tokenizer {}: cannot read it; pass --tokenizer with a tokenizer.json or the folder holding one",
            path.display()
        )
    })
}

/// The tokenizer.json in a `.zst` file's bytes.
fn inflate(path: &Path, raw: &[u8]) -> Result<Vec<u8>> {
    zstd::decode_all(raw).with_context(|| {
        format!(
            "tokenizer {}: corrupt zstd file; re-copy it",
            path.display()
        )
    })
}

/// The tokenizer.json of a file read as `raw`: itself, or inflated once into `inflated`.
fn json_bytes<'a>(path: &Path, raw: &'a [u8], inflated: &'a OnceLock<Vec<u8>>) -> Result<&'a [u8]> {
    if !is_zst(path) {
        return Ok(raw);
    }
    if let Some(j) = inflated.get() {
        return Ok(j);
    }
    let j = inflate(path, raw)?;
    Ok(inflated.get_or_init(|| j))
}

/// The digest and size of the tokenizer.json a file holds. A `.zst` file's are kept in
/// the cache by the digest of its compressed bytes, so later runs neither inflate nor
/// hash the JSON (Gemma 3's is 33 MB) unless an encoder must be built from it.
fn json_digest(path: &Path, raw: &[u8]) -> Result<(String, u64, Option<Vec<u8>>)> {
    if !is_zst(path) {
        return Ok((
            pricer_core::digest::bytes_digest(raw),
            raw.len() as u64,
            None,
        ));
    }
    let memo = crate::cache::cache_dir().map(|d| {
        d.join("digests")
            .join(pricer_core::digest::bytes_digest(raw))
    });
    if let Some(text) = memo.as_ref().and_then(|m| std::fs::read_to_string(m).ok()) {
        if let Some((digest, len)) = text.trim().split_once(' ') {
            if let Ok(len) = len.parse() {
                return Ok((digest.to_owned(), len, None));
            }
        }
    }
    let json = inflate(path, raw)?;
    let digest = pricer_core::digest::bytes_digest(&json);
    if let Some(m) = &memo {
        let line = format!("{digest} {}\n", json.len());
        if let Err(e) = pricer_core::atomic::write_atomic(m, line.as_bytes()) {
            tracing::debug!("cannot cache the tokenizer digest: {e}");
        }
    }
    Ok((digest, json.len() as u64, Some(json)))
}

/// Resolves a Hub model id to a local `tokenizer.json` through the Hugging Face cache
/// (HF_HOME / HF_HUB_CACHE; the same layout as the Python client), downloading it with
/// HF_TOKEN when it is not there, unless HF_HUB_OFFLINE is set.
pub fn resolve_hub(model: &str) -> Result<PathBuf> {
    let file =
        pricer_hub::RepoFile::new(pricer_hub::RepoKind::Model, model, "main", "tokenizer.json");
    pricer_hub::Hub::from_env().get(&file).with_context(|| {
        format!(
            "tokenizer {model}: use a local file instead: --tokenizer PATH/tokenizer.json \
             (config: [tokenizer] path = \"...\"); the bundled copy is {BUNDLED_TOKENIZER}"
        )
    })
}

/// The local file a source names (a Hub id through the cache or a download).
pub fn resolve(source: &TokenizerSource) -> Result<PathBuf> {
    match source {
        TokenizerSource::Bundled => Ok(resolve_path(&bundled_path())),
        TokenizerSource::Path(p) => Ok(resolve_path(p)),
        TokenizerSource::Hub(model) => resolve_hub(model),
    }
}

/// The file a source names, its digest (of the uncompressed tokenizer.json, as
/// [`LoadedTokenizer::digest`]) and size, without building an encoder.
pub fn identify(source: &TokenizerSource) -> Result<(PathBuf, String, u64)> {
    let path = resolve(source)?;
    let (digest, len, _) = json_digest(&path, &read_raw(&path)?)?;
    Ok((path, digest, len))
}

/// Loads a tokenizer, with errors that say which file and what to do. A file the fast
/// encoder does not implement is loaded with `tokenizers` alone; a damaged one is an
/// error.
pub fn load(source: &TokenizerSource) -> Result<LoadedTokenizer> {
    let path = resolve(source)?;
    let raw = read_raw(&path)?;
    let (digest, json_len, inflated) = json_digest(&path, &raw)?;
    let json = OnceLock::new();
    if let Some(j) = inflated {
        let _ = json.set(j);
    }
    let reference = OnceLock::new();
    let json_of = || json_bytes(&path, &raw, &json);
    let fast = match crate::cache::fast_encoder(&digest, json_of)? {
        Ok(b) => Some(b),
        Err(BpeError::Damaged(why)) => bail!(
            "tokenizer {}: not a valid Hugging Face tokenizer.json ({why}); re-copy it from the model repo",
            path.display()
        ),
        Err(e) => {
            // Not a file the fast encoder implements: tokenizers must take it, now.
            let _ = reference.set(parse_reference(&path, json_of()?)?);
            tracing::info!(tokenizer = %path.display(), "encoding with tokenizers: {e}");
            None
        }
    };
    Ok(LoadedTokenizer {
        fast,
        reference,
        raw,
        json,
        json_len,
        path,
        digest,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A torn tokenizer.json (from the `tokenizer_json` fuzz corpus) on which
    /// `tokenizers` 0.21 panics while deserializing instead of returning its error.
    const TORN: &str = include_str!("../tests/data/torn-tokenizer.json");

    #[test]
    fn a_file_tokenizers_panics_on_is_an_error_naming_it() {
        let err = parse_reference(Path::new("models/x/tokenizer.json"), TORN.as_bytes())
            .unwrap_err()
            .to_string();
        assert!(err.contains("models/x/tokenizer.json"), "{err}");
        assert!(err.contains("damaged tokenizer.json file"), "{err}");
    }
}
