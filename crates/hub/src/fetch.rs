//! The Hub's file protocol: a metadata HEAD on `resolve/<revision>/<path>`, then a GET of
//! the content (resumed with Range), verified, then moved into the cache atomically.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::cache::{create_parent, is_commit, RepoCache};
use crate::verify::Check;
use crate::{Hub, HubError, RepoFile};

const USER_AGENT: &str = concat!("pricer/", env!("CARGO_PKG_VERSION"));
/// Attempts in a row that bring no new bytes before a download gives up.
const MAX_STALLED_ATTEMPTS: u32 = 5;
const CHUNK: usize = 1 << 20;

/// What the metadata request says about a file.
#[derive(Debug)]
struct Meta {
    commit: String,
    etag: String,
    size: Option<u64>,
    /// Where the bytes are (the CDN URL an LFS file redirects to).
    location: String,
    /// Send the token to `location` too (same host as the endpoint).
    keep_auth: bool,
}

/// A failed request: worth trying the cache or again (`Transient`), or not.
enum Failure {
    Final(HubError),
    Transient(String),
}

pub(crate) fn get(hub: &Hub, file: &RepoFile) -> Result<PathBuf, HubError> {
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
        move |source| HubError::Io { file, path, source }
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

fn agent(timeout: Duration, redirects: u32) -> ureq::Agent {
    ureq::AgentBuilder::new()
        .redirects(redirects)
        .timeout_connect(timeout)
        .timeout_read(timeout)
        .user_agent(USER_AGENT)
        .build()
}

/// `scheme://host[:port]` of a URL.
fn origin(url: &str) -> &str {
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
            Err(ureq::Error::Transport(t)) => return Err(Failure::Transient(t.to_string())),
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

fn status_failure(file: &RepoFile, url: &str, status: u16, resp: &ureq::Response) -> Failure {
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

/// Downloads the content into `blobs/<etag>`, under the blob's lock so that two
/// processes (ours or the Python client) never write it at once.
fn download(hub: &Hub, file: &RepoFile, cache: &RepoCache, meta: &Meta) -> Result<(), HubError> {
    let io = |path: &Path| {
        let (file, path) = (Box::new(file.clone()), path.to_owned());
        move |source| HubError::Io { file, path, source }
    };
    let lock_path = cache.lock(&meta.etag);
    create_parent(&lock_path).map_err(io(&lock_path))?;
    let lock = File::create(&lock_path).map_err(io(&lock_path))?;
    lock.lock().map_err(io(&lock_path))?;
    let blob = cache.blob(&meta.etag);
    if blob.exists() {
        return Ok(()); // another process finished it while we waited
    }
    let partial = cache.incomplete(&meta.etag);
    create_parent(&partial).map_err(io(&partial))?;
    let resumed = std::fs::metadata(&partial).is_ok_and(|m| m.len() > 0);
    match fetch_into(hub, file, meta, &partial) {
        // A resumed file may hold bytes from a bad earlier attempt: start once afresh.
        Err(HubError::Corrupt { why, .. }) if resumed => {
            tracing::warn!("{file}: {why}; downloading it again from the start");
            fetch_into(hub, file, meta, &partial)?;
        }
        r => r?,
    }
    std::fs::rename(&partial, &blob).map_err(io(&blob))?;
    Ok(())
}

/// A download in progress: the `.incomplete` file, its length and the running check.
struct Partial {
    path: PathBuf,
    out: File,
    have: u64,
    check: Check,
}

impl Partial {
    fn restart(&mut self, meta: &Meta) -> std::io::Result<()> {
        self.out.set_len(0)?;
        self.have = 0;
        self.check = Check::for_etag(&meta.etag, meta.size);
        Ok(())
    }
}

fn fetch_into(hub: &Hub, file: &RepoFile, meta: &Meta, path: &Path) -> Result<(), HubError> {
    let io = |source| HubError::Io {
        file: Box::new(file.clone()),
        path: path.to_owned(),
        source,
    };
    let out = OpenOptions::new()
        .create(true)
        .read(true)
        .append(true)
        .open(path)
        .map_err(io)?;
    let mut p = Partial {
        path: path.to_owned(),
        have: out.metadata().map_err(io)?.len(),
        out,
        check: Check::for_etag(&meta.etag, meta.size),
    };
    if meta.size.is_some_and(|s| p.have > s) {
        p.restart(meta).map_err(io)?;
    }
    if p.have > 0 {
        // Bytes an interrupted run left: checked with the rest.
        let mut r = File::open(path).map_err(io)?.take(p.have);
        let mut buf = vec![0u8; CHUNK];
        loop {
            let n = r.read(&mut buf).map_err(io)?;
            if n == 0 {
                break;
            }
            p.check.update(&buf[..n]);
        }
        tracing::info!("{file}: resuming the download at byte {}", p.have);
    }
    let bar = progress_bar(hub, file, meta.size, p.have);
    let started = Instant::now();
    let first = p.have;
    let agent = agent(hub.env.download_timeout, 5);
    let mut stalled = 0;
    while meta.size != Some(p.have) {
        let before = p.have;
        match stream(&agent, hub, file, meta, &mut p, &bar) {
            Ok(true) => break,
            Ok(false) => {}
            Err(Failure::Final(e)) => return Err(e),
            Err(Failure::Transient(reason)) => {
                stalled = if p.have > before { 0 } else { stalled + 1 };
                if stalled >= MAX_STALLED_ATTEMPTS {
                    bar.abandon();
                    return Err(HubError::Unreachable {
                        file: Box::new(file.clone()),
                        url: meta.location.clone(),
                        reason: format!("{reason}; {} bytes kept for the next run", p.have),
                        cache: hub.env.cache_dir.clone(),
                    });
                }
                tracing::warn!("{file}: {reason}; resuming at byte {}", p.have);
                std::thread::sleep(Duration::from_millis(250 << stalled.min(4)));
            }
        }
    }
    bar.finish_and_clear();
    p.out.flush().map_err(io)?;
    let corrupt = |why: String| {
        let _ = std::fs::remove_file(path);
        HubError::Corrupt {
            file: Box::new(file.clone()),
            why,
        }
    };
    if let Some(size) = meta.size {
        if p.have != size {
            return Err(corrupt(format!("{} bytes, the Hub says {size}", p.have)));
        }
    }
    if let Err((what, got)) = p.check.finish(&meta.etag) {
        return Err(corrupt(format!(
            "{what} {got}, the Hub's ETag is {}",
            meta.etag
        )));
    }
    if std::env::var("PRICER_FSYNC").is_ok_and(|v| v == "1") {
        p.out.sync_all().map_err(io)?;
    }
    let secs = started.elapsed().as_secs_f64().max(1e-3);
    tracing::info!(
        "{file}: {} bytes downloaded in {secs:.1} s ({:.1} MB/s), verified",
        p.have - first,
        (p.have - first) as f64 / secs / 1e6
    );
    Ok(())
}

/// One GET from `p.have` on. `Ok(true)`: the body ended and the size (if known) is
/// reached; `Ok(false)`: ask again.
fn stream(
    agent: &ureq::Agent,
    hub: &Hub,
    file: &RepoFile,
    meta: &Meta,
    p: &mut Partial,
    bar: &ProgressBar,
) -> Result<bool, Failure> {
    let partial_path = p.path.clone();
    let io = |source: std::io::Error| {
        Failure::Final(HubError::Io {
            file: Box::new(file.clone()),
            path: partial_path.clone(),
            source,
        })
    };
    let mut req = agent.get(&meta.location).set("Accept-Encoding", "identity");
    if meta.keep_auth {
        if let Some(t) = &hub.env.token {
            req = req.set("Authorization", &format!("Bearer {t}"));
        }
    }
    if p.have > 0 {
        req = req.set("Range", &format!("bytes={}-", p.have));
    }
    let resp = match req.call() {
        Ok(r) => r,
        Err(ureq::Error::Status(416, _)) => {
            // Our partial file is not a prefix the server knows: start over.
            p.restart(meta).map_err(io)?;
            bar.set_position(0);
            return Err(Failure::Transient("HTTP 416 on resume".into()));
        }
        Err(ureq::Error::Status(status, r)) => {
            return Err(status_failure(file, &meta.location, status, &r))
        }
        Err(ureq::Error::Transport(t)) => return Err(Failure::Transient(t.to_string())),
    };
    let resumed_ok = resp.status() == 206
        && resp
            .header("Content-Range")
            .and_then(|r| r.trim().strip_prefix("bytes "))
            .and_then(|r| r.split('-').next())
            .and_then(|s| s.parse::<u64>().ok())
            == Some(p.have);
    if p.have > 0 && !resumed_ok {
        if resp.status() != 200 {
            p.restart(meta).map_err(io)?;
            bar.set_position(0);
            return Err(Failure::Transient(format!(
                "HTTP {} with an unexpected Content-Range on resume",
                resp.status()
            )));
        }
        // The server ignored Range: take the whole body.
        p.restart(meta).map_err(io)?;
        bar.set_position(0);
    }
    let mut body = resp.into_reader();
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = match body.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Failure::Transient(format!("connection lost: {e}"))),
        };
        // Never more than the announced size: a server that sends on (a wrong header,
        // a hostile mirror) must not fill the disk; the digest check decides on the rest.
        let room = meta
            .size
            .map_or(u64::MAX, |size| size.saturating_sub(p.have));
        let keep = n.min(usize::try_from(room).unwrap_or(usize::MAX));
        p.out.write_all(&buf[..keep]).map_err(io)?;
        p.check.update(&buf[..keep]);
        p.have += keep as u64;
        bar.set_position(p.have);
        if keep < n {
            tracing::warn!(
                "{file}: the server sent more than the {} bytes the Hub announced; the rest is ignored",
                p.have
            );
            break;
        }
    }
    match meta.size {
        Some(size) if p.have < size => Err(Failure::Transient(format!(
            "the connection closed at byte {} of {size}",
            p.have
        ))),
        _ => Ok(true),
    }
}

fn progress_bar(hub: &Hub, file: &RepoFile, size: Option<u64>, at: u64) -> ProgressBar {
    let target = if hub.progress {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(size, target);
    if let Ok(style) = ProgressStyle::with_template(
        "{msg} {wide_bar} {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta}",
    ) {
        bar.set_style(style);
    }
    let name = file
        .path
        .rsplit('/')
        .next()
        .unwrap_or(&file.path)
        .to_owned();
    bar.set_message(name);
    bar.set_position(at);
    bar.reset_eta();
    tracing::info!(
        "{file}: downloading{} from {}",
        size.map(|s| format!(" {:.2} GB", s as f64 / 1e9))
            .unwrap_or_default(),
        origin(&hub.env.endpoint)
    );
    bar
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
