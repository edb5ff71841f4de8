//! Files from the Hugging Face Hub through the standard Hugging Face cache (see the
//! crate README): the cache first, then the Hub's file endpoint, with resumable,
//! verified, atomic downloads.

mod cache;
mod download;
mod env;
mod fetch;
mod names;
mod verify;

use std::path::PathBuf;

pub use cache::{is_commit, RepoCache};
pub use env::{HubEnv, DEFAULT_ENDPOINT};

/// The kind of a Hub repository: it decides the URL prefix and the cache folder name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RepoKind {
    Model,
    Dataset,
}

impl RepoKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RepoKind::Model => "model",
            RepoKind::Dataset => "dataset",
        }
    }

    fn url_prefix(self) -> &'static str {
        match self {
            RepoKind::Model => "",
            RepoKind::Dataset => "datasets/",
        }
    }
}

/// One file of one revision of a Hub repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoFile {
    pub kind: RepoKind,
    /// `org/name`.
    pub repo: String,
    /// A branch, tag or commit id.
    pub revision: String,
    /// The file's path in the repo, `/`-separated.
    pub path: String,
}

impl RepoFile {
    pub fn new(kind: RepoKind, repo: &str, revision: &str, path: &str) -> RepoFile {
        RepoFile {
            kind,
            repo: repo.to_owned(),
            revision: revision.to_owned(),
            path: path.to_owned(),
        }
    }
}

impl std::fmt::Display for RepoFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}, file {} (revision {})",
            self.kind.as_str(),
            self.repo,
            self.path,
            self.revision
        )
    }
}

/// Why a file could not be had. Every message names the repo and the file.
#[derive(Debug, thiserror::Error)]
pub enum HubError {
    #[error("{file}: download interrupted ({have} bytes kept for the next run)")]
    Interrupted { file: Box<RepoFile>, have: u64 },
    #[error("{file}: {why}")]
    BadName { file: Box<RepoFile>, why: String },
    #[error("{file}: not in the Hugging Face cache ({cache}) and HF_HUB_OFFLINE is set; run once without HF_HUB_OFFLINE to download it")]
    NotCached { file: Box<RepoFile>, cache: PathBuf },
    #[error("{file}: {what} not found on the Hub (HTTP {status} from {url}){hint}")]
    NotFound {
        file: Box<RepoFile>,
        what: &'static str,
        status: u16,
        url: String,
        hint: String,
    },
    #[error("{file}: access refused (HTTP {status} from {url}); for a gated or private repo, accept its terms on the Hub and set HF_TOKEN (or run `huggingface-cli login`)")]
    Refused {
        file: Box<RepoFile>,
        status: u16,
        url: String,
    },
    #[error("{file}: cannot get it from {url} ({reason}) and it is not in the Hugging Face cache ({cache})")]
    Unreachable {
        file: Box<RepoFile>,
        url: String,
        reason: String,
        cache: PathBuf,
    },
    #[error("{file}: {url} does not answer as a Hugging Face Hub file endpoint ({why}); check HF_ENDPOINT")]
    NotHub {
        file: Box<RepoFile>,
        url: String,
        why: String,
    },
    #[error("{file}: the downloaded bytes are not the Hub's ({why}); the partial download was removed, run again to download it afresh")]
    Corrupt { file: Box<RepoFile>, why: String },
    #[error("{file}: {path}: {error}")]
    Io {
        file: Box<RepoFile>,
        path: PathBuf,
        error: std::io::Error,
    },
}

/// A Hub client bound to one cache and endpoint.
pub struct Hub {
    env: HubEnv,
    /// Draw a progress bar on a terminal.
    pub progress: bool,
    /// Asked between chunks of a download: true stops it (the partial file is kept for
    /// the next run to resume), e.g. when the user interrupts the run.
    pub stop: Option<fn() -> bool>,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub").field("env", &self.env).finish()
    }
}

impl Hub {
    pub fn new(env: HubEnv) -> Hub {
        Hub {
            env,
            progress: true,
            stop: None,
        }
    }

    /// Configured as the Python client would be from this process's environment.
    pub fn from_env() -> Hub {
        Hub::new(HubEnv::from_env())
    }

    pub fn env(&self) -> &HubEnv {
        &self.env
    }

    /// The local path of `file`: from the cache when it is there (no request for a
    /// cached commit id, or when offline; one metadata request otherwise), else
    /// downloaded into the cache. The path is the snapshot entry the Python client uses.
    pub fn get(&self, file: &RepoFile) -> Result<PathBuf, HubError> {
        fetch::get(self, file)
    }

    /// The URL of `file` on the endpoint, quoted as the Python client quotes it.
    pub fn url(&self, file: &RepoFile) -> String {
        use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
        // Python's quote(): letters, digits and `_.-~` stay; `/` too unless quoting a
        // revision.
        const KEEP: &AsciiSet = &NON_ALPHANUMERIC
            .remove(b'_')
            .remove(b'.')
            .remove(b'-')
            .remove(b'~');
        const PATH: &AsciiSet = &KEEP.remove(b'/');
        format!(
            "{}/{}{}/resolve/{}/{}",
            self.env.endpoint,
            file.kind.url_prefix(),
            file.repo,
            utf8_percent_encode(&file.revision, KEEP),
            utf8_percent_encode(&file.path, PATH)
        )
    }
}

/// A transport error without the URL ureq puts first: the messages that quote it name
/// the URL already.
pub(crate) fn transport_text(t: &ureq::Transport) -> String {
    let mut text = t.kind().to_string();
    if let Some(m) = t.message() {
        text.push_str(": ");
        text.push_str(m);
    }
    if let Some(source) = std::error::Error::source(t) {
        text.push_str(": ");
        text.push_str(&source.to_string());
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_quoted_like_the_python_client() {
        let hub = Hub::new(HubEnv::from_vars(|k| {
            (k == "HF_ENDPOINT").then(|| "http://h:1".to_owned())
        }));
        let f = RepoFile::new(
            RepoKind::Dataset,
            "McAuley-Lab/Amazon-Reviews-2023",
            "refs/pr/10",
            "raw/meta_categories/meta_All Beauty.jsonl",
        );
        assert_eq!(
            hub.url(&f),
            "http://h:1/datasets/McAuley-Lab/Amazon-Reviews-2023/resolve/refs%2Fpr%2F10/raw/meta_categories/meta_All%20Beauty.jsonl"
        );
        let m = RepoFile::new(RepoKind::Model, "gpt2", "main", "tokenizer.json");
        assert_eq!(hub.url(&m), "http://h:1/gpt2/resolve/main/tokenizer.json");
    }
}
