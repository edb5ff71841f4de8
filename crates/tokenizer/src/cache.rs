//! The compiled form of pricer-bpe's encoder, kept by the tokenizer file's digest so that
//! a 9 MB `tokenizer.json` loads in milliseconds on every later run.
//!
//! Each entry is 4-31 MB: a load refreshes its entry's time and writing a new entry
//! removes those unused for 30 days (`pricer_core::cache`).

use std::time::SystemTime;

use pricer_bpe::{Bpe, BpeError};
pub use pricer_core::cache::cache_dir;
use pricer_core::cache::{open, prune, refresh};

/// The fast encoder for the tokenizer file with `digest`: from its compiled form in the
/// cache when that is intact, else compiled from the JSON (`json()` is called only then)
/// and cached (best effort, atomically, so readers never see half a file).
pub fn fast_encoder<'j>(
    digest: &str,
    json: impl FnOnce() -> anyhow::Result<&'j [u8]>,
) -> anyhow::Result<Result<Bpe, BpeError>> {
    let cached = cache_dir().map(|d| d.join(format!("bpe-{digest}.bin")));
    if let Some(path) = &cached {
        if let Ok((file, meta)) = open(path) {
            let len = usize::try_from(meta.len()).unwrap_or(usize::MAX);
            match Bpe::from_compiled_reader(&file, len, digest) {
                Ok(bpe) => {
                    refresh(&file, &meta, SystemTime::now());
                    return Ok(Ok(bpe));
                }
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
        if let Some(dir) = path.parent() {
            let removed = prune(dir, "bpe-", ".bin", SystemTime::now());
            if removed > 0 {
                tracing::info!(cache = %dir.display(), "removed {removed} compiled tokenizers unused for 30 days");
            }
        }
    }
    Ok(Ok(bpe))
}
