//! Finding and loading the recipe's tokenizer: a local `tokenizer.json` (or a folder
//! holding one), or a Hub model id resolved through the Hugging Face cache.

use std::path::{Path, PathBuf};

use std::sync::OnceLock;

use anyhow::{bail, Context, Result};
use pricer_bpe::Bpe;
use tokenizers::Tokenizer;

/// Where the default tokenizer is bundled, relative to the workspace root.
pub const BUNDLED_TOKENIZER: &str = "fixtures/tokenizers/llama-3.1/tokenizer.json";
/// The recipe's tokenizer on the Hub.
pub const RECIPE_MODEL: &str = "meta-llama/Meta-Llama-3.1-8B";

/// Where to get `tokenizer.json` from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenizerSource {
    /// A `tokenizer.json`, or a folder that holds one.
    Path(PathBuf),
    /// A Hub model id, e.g. `meta-llama/Meta-Llama-3.1-8B`.
    Hub(String),
}

/// Which encoder the prompt stage uses. Both give the same bytes; `Reference` is the
/// `tokenizers` crate alone, kept to check the fast path against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum EncoderChoice {
    /// pricer-bpe where the tokenizer file allows it (Llama 3 style), else `tokenizers`.
    #[default]
    Fast,
    /// `tokenizers` for everything.
    Reference,
}

/// A loaded tokenizer and what identifies it.
pub struct LoadedTokenizer {
    /// The exact fast encoder, when the file is one it implements.
    pub fast: Option<Bpe>,
    /// Why there is no fast encoder (for the log).
    pub fast_refused: Option<String>,
    /// `tokenizers`' own tokenizer: loaded on first use when there is a fast encoder
    /// (texts holding added tokens, the reference mode), else at once.
    reference: OnceLock<Tokenizer>,
    json: Vec<u8>,
    pub path: PathBuf,
    /// BLAKE3 of the (uncompressed) tokenizer.json: part of the prompt stage's fingerprint.
    pub digest: String,
}

impl LoadedTokenizer {
    /// `tokenizers`' tokenizer for this file.
    pub fn reference(&self) -> Result<&Tokenizer> {
        if let Some(t) = self.reference.get() {
            return Ok(t);
        }
        let t = parse_reference(&self.path, &self.json)?;
        Ok(self.reference.get_or_init(|| t))
    }

    /// The fast encoder, unless `choice` asks for the reference.
    pub fn fast_for(&self, choice: EncoderChoice) -> Option<&Bpe> {
        match choice {
            EncoderChoice::Fast => self.fast.as_ref(),
            EncoderChoice::Reference => None,
        }
    }
}

fn parse_reference(path: &Path, json: &[u8]) -> Result<Tokenizer> {
    Tokenizer::from_bytes(json).map_err(|e| {
        anyhow::anyhow!(
            "tokenizer {}: not a valid Hugging Face tokenizer.json ({e}); re-copy it from the model repo",
            path.display()
        )
    })
}

impl std::fmt::Debug for LoadedTokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedTokenizer")
            .field("path", &self.path)
            .field("digest", &self.digest)
            .finish()
    }
}

/// The bundled tokenizer: found from the current folder or the workspace root.
pub fn bundled_path() -> PathBuf {
    let here = PathBuf::from(BUNDLED_TOKENIZER);
    if here.is_file() {
        return here;
    }
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(BUNDLED_TOKENIZER)
}

/// A folder means its `tokenizer.json`; a missing `X` is found as `X.zst` beside it.
fn resolve_path(p: &Path) -> PathBuf {
    let file = if p.is_dir() {
        p.join("tokenizer.json")
    } else {
        p.to_owned()
    };
    if !file.exists() {
        let mut zst = file.clone().into_os_string();
        zst.push(".zst");
        let zst = PathBuf::from(zst);
        if zst.is_file() {
            return zst;
        }
    }
    file
}

/// The tokenizer.json bytes, decompressing a `.zst` file.
fn read_tokenizer_bytes(path: &Path) -> Result<Vec<u8>> {
    let raw = std::fs::read(path).with_context(|| {
        format!(
            "tokenizer {}: cannot read it; pass --tokenizer with a tokenizer.json or the folder holding one",
            path.display()
        )
    })?;
    if path.extension().is_some_and(|e| e == "zst") {
        zstd::decode_all(&raw[..]).with_context(|| {
            format!(
                "tokenizer {}: corrupt zstd file; re-copy it",
                path.display()
            )
        })
    } else {
        Ok(raw)
    }
}

/// Resolves a Hub model id to a local `tokenizer.json`: the Hugging Face cache first
/// (HF_HOME / HF_HUB_CACHE), then a download with HF_TOKEN unless HF_HUB_OFFLINE is set.
pub fn resolve_hub(model: &str) -> Result<PathBuf> {
    let cache = hf_hub::Cache::from_env();
    if let Some(p) = cache.model(model.to_owned()).get("tokenizer.json") {
        return Ok(p);
    }
    let offline = std::env::var("HF_HUB_OFFLINE").is_ok_and(|v| !v.is_empty() && v != "0");
    let hint = format!(
        "use a local file instead: --tokenizer PATH/tokenizer.json (config: [tokenizer] path = \"...\"); \
         the bundled copy is {BUNDLED_TOKENIZER}"
    );
    if offline {
        bail!(
            "tokenizer {model}: not in the Hugging Face cache ({}) and HF_HUB_OFFLINE is set; {hint}",
            cache.path().display()
        );
    }
    let api = hf_hub::api::sync::ApiBuilder::from_env()
        .with_progress(false)
        .build()
        .with_context(|| format!("tokenizer {model}: cannot set up the Hub client; {hint}"))?;
    api.model(model.to_owned())
        .get("tokenizer.json")
        .with_context(|| {
            format!(
                "tokenizer {model}: not in the Hugging Face cache ({}) and the download failed \
             (no network, or a gated model without HF_TOKEN); {hint}",
                cache.path().display()
            )
        })
}

/// The local file a source names (a Hub id through the cache or a download).
pub fn resolve(source: &TokenizerSource) -> Result<PathBuf> {
    match source {
        TokenizerSource::Path(p) => Ok(resolve_path(p)),
        TokenizerSource::Hub(model) => resolve_hub(model),
    }
}

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
/// cache when that is intact, else compiled from the JSON (and cached, best effort:
/// written to a temporary file and renamed, so readers never see half a file).
fn fast_encoder(json: &[u8], digest: &str) -> Result<Bpe> {
    let cached = cache_dir().map(|d| d.join(format!("bpe-{digest}.bin")));
    if let Some(path) = &cached {
        if let Ok(bytes) = std::fs::read(path) {
            match Bpe::from_compiled(&bytes, digest) {
                Ok(bpe) => return Ok(bpe),
                Err(e) => {
                    tracing::info!(cache = %path.display(), "compiled tokenizer not used, rebuilding: {e:#}")
                }
            }
        }
    }
    let bpe = Bpe::from_tokenizer_json(json)?;
    if let Some(path) = &cached {
        let tmp = pricer_core::artifact::temp_path(path);
        let written = path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|_| std::fs::write(&tmp, bpe.to_compiled(digest)))
            .and_then(|_| std::fs::rename(&tmp, path));
        if let Err(e) = written {
            let _ = std::fs::remove_file(&tmp);
            tracing::debug!(cache = %path.display(), "cannot cache the compiled tokenizer: {e}");
        }
    }
    Ok(bpe)
}

/// Loads a tokenizer, with errors that say which file and what to do.
pub fn load(source: &TokenizerSource) -> Result<LoadedTokenizer> {
    let path = resolve(source)?;
    let bytes = read_tokenizer_bytes(&path)?;
    let reference = OnceLock::new();
    let digest = pricer_core::digest::bytes_digest(&bytes);
    let (fast, fast_refused) = match fast_encoder(&bytes, &digest) {
        Ok(b) => (Some(b), None),
        Err(e) => {
            // Not a file the fast encoder implements: tokenizers must take it, now.
            let _ = reference.set(parse_reference(&path, &bytes)?);
            tracing::info!(tokenizer = %path.display(), "no fast encoder: {e:#}");
            (None, Some(format!("{e:#}")))
        }
    };
    Ok(LoadedTokenizer {
        fast,
        fast_refused,
        reference,
        digest,
        json: bytes,
        path,
    })
}
