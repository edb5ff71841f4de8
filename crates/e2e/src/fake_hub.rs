//! A local server that answers as the Hugging Face Hub's file endpoint does, for tests of
//! `[input] hub` and `[tokenizer] hub` (and of the Python client against the same cache).
//!
//! `HEAD|GET /[datasets/]<org>/<name>/resolve/<revision>/<path>`:
//! - an LFS file answers `302` to `http://localhost:<port>/cdn/<sha256>` (another host) with `X-Repo-Commit`, `X-Linked-Etag`
//!   (the sha256) and `X-Linked-Size`, as the Hub does;
//! - a file kept in git answers `200` with `ETag` (its git blob id) and `X-Repo-Commit`;
//! - unknown repos, revisions and files answer `404` with the Hub's `X-Error-Code`.
//!
//! `GET /cdn/<sha256>` serves the bytes with `Range` (`206`, `Content-Range`). Faults
//! (a connection cut or stalled mid-body, corrupted bytes) are set per test.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::http::{self, Cut, Request, Response, Server};

/// One file in a fake repo.
#[derive(Debug, Clone)]
pub struct HubFile {
    pub bytes: Vec<u8>,
    /// Served like an LFS file (redirect to the CDN; sha256 ETag) or a git file.
    pub lfs: bool,
}

/// What the next content GETs do wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    None,
    /// Close the connection after this many bytes, for the next `n` GETs.
    CutAfter(usize, u32),
    /// Send this many bytes and then stall (the test kills the client).
    StallAfter(usize),
    /// Serve the bytes with one changed.
    Corrupt,
    /// Serve this many bytes more than the file holds (the size headers unchanged).
    Trailing(usize),
}

#[derive(Debug)]
struct State {
    /// (kind prefix + repo, path) -> file.
    files: BTreeMap<(String, String), HubFile>,
    commit: String,
    fault: Fault,
    log: Vec<String>,
    /// When set, a resolve request without `Authorization: Bearer <token>` gets 401, as
    /// a gated or private repo answers.
    token: Option<String>,
}

/// The running fake Hub.
pub struct FakeHub {
    pub server: Server,
    state: Arc<Mutex<State>>,
}

/// The commit every fake repo is at.
pub const COMMIT: &str = "5c1d2a3b4e5f60718293a4b5c6d7e8f901234567";

pub fn sha256_hex(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

fn git_blob_id(bytes: &[u8]) -> String {
    use sha1::Sha1;
    let mut h = Sha1::new();
    h.update(format!("blob {}\0", bytes.len()).as_bytes());
    h.update(bytes);
    format!("{:x}", h.finalize())
}

impl FakeHub {
    pub fn start() -> FakeHub {
        let state = Arc::new(Mutex::new(State {
            files: BTreeMap::new(),
            commit: COMMIT.into(),
            fault: Fault::None,
            log: Vec::new(),
            token: None,
        }));
        let s2 = state.clone();
        let server = http::serve(move |req| answer(&s2, req));
        FakeHub { server, state }
    }

    pub fn url(&self) -> String {
        self.server.url()
    }

    /// Adds a dataset file (`repo` as `org/name`).
    pub fn add_dataset_file(&self, repo: &str, path: &str, bytes: Vec<u8>, lfs: bool) {
        self.state.lock().unwrap().files.insert(
            (format!("datasets/{repo}"), path.to_owned()),
            HubFile { bytes, lfs },
        );
    }

    /// Adds a model file.
    pub fn add_model_file(&self, repo: &str, path: &str, bytes: Vec<u8>, lfs: bool) {
        self.state
            .lock()
            .unwrap()
            .files
            .insert((repo.to_owned(), path.to_owned()), HubFile { bytes, lfs });
    }

    /// Requires this token on every resolve request (None: no token needed).
    pub fn require_token(&self, token: Option<&str>) {
        self.state.lock().unwrap().token = token.map(str::to_owned);
    }

    pub fn set_fault(&self, fault: Fault) {
        self.state.lock().unwrap().fault = fault;
    }

    /// Every request so far, as `METHOD path [Range]`.
    pub fn requests(&self) -> Vec<String> {
        self.state.lock().unwrap().log.clone()
    }

    pub fn clear_requests(&self) {
        self.state.lock().unwrap().log.clear();
    }
}

fn not_found(code: &str, commit: Option<&str>) -> Response {
    let mut r = Response::new(404, code.to_owned()).header("X-Error-Code", code);
    if let Some(c) = commit {
        r = r.header("X-Repo-Commit", c);
    }
    r
}

fn answer(state: &Mutex<State>, req: &Request) -> Response {
    let mut st = state.lock().unwrap();
    let range = req
        .header("Range")
        .map(|r| format!(" {r}"))
        .unwrap_or_default();
    st.log.push(format!("{} {}{range}", req.method, req.path));
    if req.method != "HEAD" && req.method != "GET" {
        return Response::new(405, "method");
    }
    let path = req.path.split('?').next().unwrap_or("");
    if let Some(sha) = path.strip_prefix("/cdn/") {
        return serve_bytes(&mut st, sha, req.header("Range"));
    }
    // /[datasets/]org/name/resolve/rev/path...
    if let Some(token) = &st.token {
        if req.header("Authorization") != Some(&format!("Bearer {token}")) {
            return Response::new(401, "Access to this repo is restricted")
                .header("X-Error-Code", "GatedRepo");
        }
    }
    let rest = path.trim_start_matches('/');
    let (prefix, rest) = match rest.strip_prefix("datasets/") {
        Some(r) => ("datasets/", r),
        None => ("", rest),
    };
    let parts: Vec<&str> = rest.splitn(5, '/').collect();
    if parts.len() < 5 || parts[2] != "resolve" {
        return Response::new(404, "no route");
    }
    let repo = format!("{prefix}{}/{}", parts[0], parts[1]);
    let rev = percent_decode(parts[3]);
    let file_path = percent_decode(parts[4]);
    if !st.files.keys().any(|(r, _)| *r == repo) {
        return not_found("RepoNotFound", None);
    }
    let commit = st.commit.clone();
    if rev != "main" && rev != commit {
        return not_found("RevisionNotFound", None);
    }
    let Some(f) = st.files.get(&(repo, file_path)).cloned() else {
        return not_found("EntryNotFound", Some(&commit));
    };
    if f.lfs {
        let sha = sha256_hex(&f.bytes);
        // The content is on another host, as the Hub's CDN is (`localhost` is this
        // server under another name), so clients must not follow it for metadata.
        let port = req
            .header("Host")
            .and_then(|h| h.rsplit_once(':'))
            .map_or("80", |(_, p)| p);
        Response::new(302, "")
            .header("Location", format!("http://localhost:{port}/cdn/{sha}"))
            .header("X-Repo-Commit", commit)
            .header("X-Linked-Etag", format!("\"{sha}\""))
            .header("X-Linked-Size", f.bytes.len().to_string())
            .header("ETag", format!("\"{}\"", git_blob_id(b"pointer")))
    } else {
        let etag = git_blob_id(&f.bytes);
        Response::new(200, f.bytes)
            .header("X-Repo-Commit", commit)
            .header("ETag", format!("\"{etag}\""))
    }
}

fn serve_bytes(st: &mut State, sha: &str, range: Option<&str>) -> Response {
    let Some(f) = st
        .files
        .values()
        .find(|f| f.lfs && sha256_hex(&f.bytes) == sha)
        .cloned()
    else {
        return Response::new(404, "no such object");
    };
    let mut bytes = f.bytes;
    let start = range
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.strip_suffix('-'))
        .and_then(|s| s.parse::<usize>().ok())
        .unwrap_or(0);
    if start > bytes.len() || (start == bytes.len() && start > 0) {
        return Response::new(416, "range")
            .header("Content-Range", format!("bytes */{}", bytes.len()));
    }
    let total = bytes.len();
    let mut resp = if start > 0 {
        let body = bytes.split_off(start);
        Response::new(206, body).header(
            "Content-Range",
            format!("bytes {start}-{}/{total}", total - 1),
        )
    } else {
        Response::new(200, bytes)
    };
    resp = resp.header("Accept-Ranges", "bytes");
    match st.fault {
        Fault::None => {}
        Fault::CutAfter(n, left) => {
            resp.cut = Some(Cut::Close(n));
            st.fault = if left > 1 {
                Fault::CutAfter(n, left - 1)
            } else {
                Fault::None
            };
        }
        Fault::StallAfter(n) => resp.cut = Some(Cut::Hang(n, Duration::from_secs(120))),
        Fault::Corrupt => {
            if let Some(b) = resp.body.last_mut() {
                *b ^= 0x20;
            }
        }
        Fault::Trailing(n) => resp.body.resize(resp.body.len() + n, b'x'),
    }
    resp
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
