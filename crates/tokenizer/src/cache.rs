//! The compiled form of pricer-bpe's encoder, kept by the tokenizer file's digest so that
//! a 9 MB `tokenizer.json` loads in milliseconds on every later run.

use std::path::PathBuf;

use pricer_bpe::{Bpe, BpeError};

/// Where compiled tokenizers are kept: `PRICER_CACHE_DIR` (empty or `off`: nowhere), else
/// `$XDG_CACHE_HOME/pricer`, else `~/.cache/pricer`.
pub fn cache_dir() -> Option<PathBuf> {
    match std::env::var_os("PRICER_CACHE_DIR") {
        Some(v) if v.is_empty() || v == "off" => None,
        Some(v) => Some(PathBuf::from(v)),
        None => std::env::var_os("XDG_CACHE_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
            .map(|d| d.join("pricer")),
    }
}

/// The fast encoder for the tokenizer file with `digest`: from its compiled form in the
/// cache when that is intact, else compiled from the JSON (`json()` is called only then)
/// and cached (best effort, atomically, so readers never see half a file).
pub fn fast_encoder<'j>(
    digest: &str,
    json: impl FnOnce() -> anyhow::Result<&'j [u8]>,
) -> anyhow::Result<Result<Bpe, BpeError>> {
    let cached = cache_dir().map(|d| d.join(format!("bpe-{digest}.bin")));
    if let Some(path) = &cached {
        if let Ok((file, len)) = open_with_len(path) {
            match Bpe::from_compiled_reader(file, len, digest) {
                Ok(bpe) => return Ok(Ok(bpe)),
                Err(e) => {
                    tracing::info!(cache = %path.display(), "rebuilding the compiled tokenizer: {e}")
                }
            }
        }
    }
    let bpe = match Bpe::from_tokenizer_json(json()?) {
        Ok(b) => b,
        Err(e) => return Ok(Err(e)),
    };
    if let Some(path) = &cached {
        if let Err(e) = pricer_core::atomic::write_atomic(path, &bpe.to_compiled(digest)) {
            tracing::debug!("cannot cache the compiled tokenizer: {e}");
        }
    }
    Ok(Ok(bpe))
}

fn open_with_len(path: &std::path::Path) -> std::io::Result<(std::fs::File, usize)> {
    let file = std::fs::File::open(path)?;
    let len = usize::try_from(file.metadata()?.len()).unwrap_or(usize::MAX);
    Ok((file, len))
}
