//! The Hub's file protocol: a metadata HEAD on `resolve/<revision>/<path>` says which
//! commit and content a revision means; the cache is asked first, then the content is
//! downloaded ([`crate::download`]) when it is missing.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::cache::{is_commit, RepoCache};
use crate::download::download;
use crate::{Hub, HubError, RepoFile};

const USER_AGENT: &str = concat!("pricer/", env!("CARGO_PKG_VERSION"));

/// What the metadata request says about a file.
#[derive(Debug)]
pub(crate) struct Meta {
    pub(crate) commit: String,
    pub(crate) etag: String,
    pub(crate) size: Option<u64>,
    /// Where the bytes are (the CDN URL an LFS file redirects to).
    pub(crate) location: String,
    /// Send the token to `location` too (same host as the endpoint).
    pub(crate) keep_auth: bool,
}

/// A failed request: worth trying the cache or again (`Transient`), or not.
pub(crate) enum Failure {
    Final(HubError),
    Transient(String),
}

pub(crate) fn get(hub: &Hub, file: &RepoFile) -> Result<PathBuf, HubError> {
    if let Some(why) = crate::names::problem(file) {
        return Err(HubError::BadName {
            file: Box::new(file.clone()),
            why,
        });
    }
    let cache = RepoCache::new(&hub.env.cache_dir, file);
    if is_commit(&file.revision) {
        let pointer = cache.pointer(&file.revision, &file.path);
        if pointer.exists() {
            return Ok(pointer);
        }
    }
    if hub.env.offline {
        return cached(&cache, file).ok_or_else(|| HubError::NotCached {
            file: Box::new(file.clone()),
            cache: hub.env.cache_dir.clone(),
        });
    }
    let url = hub.url(file);
    let meta = match head(hub, file, &url) {
        Ok(meta) => meta,
        Err(Failure::Final(e)) => return Err(e),
        Err(Failure::Transient(reason)) => {
            // As the Python client does: a Hub that cannot be reached falls back to the
            // revision's last cached commit.
            if let Some(p) = cached(&cache, file) {
                tracing::warn!("{file}: the Hub did not answer ({reason}); using the cached copy");
                return Ok(p);
            }
            return Err(HubError::Unreachable {
                file: Box::new(file.clone()),
                url,
                reason,
                cache: hub.env.cache_dir.clone(),
            });
        }
    };
    let io = |path: &Path| {
        let (file, path) = (Box::new(file.clone()), path.to_owned());
        move |error| HubError::Io { file, path, error }
    };
    let pointer = cache.pointer(&meta.commit, &file.path);
    cache
        .write_ref(&file.revision, &meta.commit)
        .map_err(io(&cache.folder.join("refs")))?;
    if pointer.exists() {
        return Ok(pointer);
    }
    if !cache.blob(&meta.etag).exists() {
        download(hub, file, &cache, &meta)?;
    }
    cache
        .link(&meta.etag, &meta.commit, &file.path)
        .map_err(io(&pointer))
}

/// The snapshot entry of the revision's last cached commit, if its content is there.
fn cached(cache: &RepoCache, file: &RepoFile) -> Option<PathBuf> {
    let commit = cache.resolve_ref(&file.revision)?;
    let p = cache.pointer(&commit, &file.path);
    p.exists().then_some(p)
}

pub(crate) fn agent(timeout: Duration, redirects: u32) -> ureq::Agent {
    ureq::AgentBuilder::new()
        .redirects(redirects)
        .timeout_connect(timeout)
        .timeout_read(timeout)
        .user_agent(USER_AGENT)
        .build()
}

/// `scheme://host[:port]` of a URL.
pub(crate) fn origin(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    match url[after_scheme..].find('/') {
        Some(i) => &url[..after_scheme + i],
        None => url,
    }
}

/// `W/"abc"` and `"abc"` -> `abc`, as the Python client names blobs.
fn normalize_etag(etag: &str) -> String {
    etag.trim()
        .trim_start_matches("W/")
        .trim_matches('"')
        .to_owned()
}

fn head(hub: &Hub, file: &RepoFile, url: &str) -> Result<Meta, Failure> {
    let agent = agent(hub.env.etag_timeout, 0);
    let mut url = url.to_owned();
    for _ in 0..10 {
        let mut req = agent.head(&url).set("Accept-Encoding", "identity");
        if let Some(t) = &hub.env.token {
            req = req.set("Authorization", &format!("Bearer {t}"));
        }
        let resp = match req.call() {
            Ok(r) => r,
            Err(ureq::Error::Status(status, r)) => {
                return Err(status_failure(file, &url, status, &r))
            }
            Err(ureq::Error::Transport(t)) => {
                return Err(Failure::Transient(crate::transport_text(&t)))
            }
        };
        let redirect = (300..400).contains(&resp.status());
        let location = resp.header("Location").map(str::to_owned);
        // A relative redirect (a renamed repo) is followed; an absolute one is where the
        // bytes are.
        if redirect {
            if let Some(l) = location.as_deref().filter(|l| l.starts_with('/')) {
                url = format!("{}{l}", origin(&url));
                continue;
            }
        }
        let not_hub = |why: &str| {
            Failure::Final(HubError::NotHub {
                file: Box::new(file.clone()),
                url: url.clone(),
                why: why.to_owned(),
            })
        };
        let commit = resp
            .header("X-Repo-Commit")
            .map(str::to_owned)
            .ok_or_else(|| not_hub("no X-Repo-Commit header"))?;
        let etag = resp
            .header("X-Linked-Etag")
            .or_else(|| resp.header("ETag"))
            .map(normalize_etag)
            .filter(|e| !e.is_empty() && !e.contains(['/', '\\']) && e != "." && e != "..")
            .ok_or_else(|| not_hub("no usable ETag header"))?;
        if !is_commit(&commit) {
            return Err(not_hub("X-Repo-Commit is not a commit id"));
        }
        let size = resp
            .header("X-Linked-Size")
            .or_else(|| (!redirect).then(|| resp.header("Content-Length")).flatten())
            .and_then(|s| s.trim().parse::<u64>().ok());
        let location = match (redirect, location) {
            (true, Some(l)) => l,
            (true, None) => return Err(not_hub("a redirect without Location")),
            (false, _) => url.clone(),
        };
        let keep_auth = origin(&location) == origin(&url);
        return Ok(Meta {
            commit,
            etag,
            size,
            location,
            keep_auth,
        });
    }
    Err(Failure::Final(HubError::NotHub {
        file: Box::new(file.clone()),
        url,
        why: "too many redirects".into(),
    }))
}

pub(crate) fn status_failure(
    file: &RepoFile,
    url: &str,
    status: u16,
    resp: &ureq::Response,
) -> Failure {
    let code = resp.header("X-Error-Code").unwrap_or("");
    let not_found = |what: &'static str, hint: &str| {
        Failure::Final(HubError::NotFound {
            file: Box::new(file.clone()),
            what,
            status,
            url: url.to_owned(),
            hint: hint.to_owned(),
        })
    };
    match (status, code) {
        (_, "EntryNotFound") => not_found("the file", "; check the path or pattern"),
        (_, "RevisionNotFound") => not_found("the revision", "; check the revision"),
        (_, "RepoNotFound") => not_found(
            "the repository",
            "; check its name, or set HF_TOKEN if it is private",
        ),
        (_, "GatedRepo") | (401 | 403, _) => Failure::Final(HubError::Refused {
            file: Box::new(file.clone()),
            status,
            url: url.to_owned(),
        }),
        (404, _) => not_found("the file", "; check the repo, revision and path"),
        (408 | 429, _) | (500..=599, _) => Failure::Transient(format!("HTTP {status}")),
        _ => Failure::Final(HubError::NotHub {
            file: Box::new(file.clone()),
            url: url.to_owned(),
            why: format!("HTTP {status}"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_and_origins() {
        assert_eq!(normalize_etag("W/\"abc\""), "abc");
        assert_eq!(normalize_etag("\"abc\""), "abc");
        assert_eq!(origin("http://127.0.0.1:8/a/b"), "http://127.0.0.1:8");
        assert_eq!(origin("https://h"), "https://h");
    }
}
