//! The content GET: into `blobs/<etag>.incomplete` under the blob's lock, resumed with
//! Range after a dropped connection or a kill, never past the announced size, verified,
//! then renamed into the cache.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::cache::{create_parent, RepoCache};
use crate::fetch::{agent, origin, status_failure, Failure, Meta};
use crate::verify::Check;
use crate::{Hub, HubError, RepoFile};

/// Attempts in a row that bring no new bytes before a download gives up.
const MAX_STALLED_ATTEMPTS: u32 = 5;
const CHUNK: usize = 1 << 20;

/// Downloads the content into `blobs/<etag>`, under the blob's lock so that two
/// processes (ours or the Python client) never write it at once.
pub(crate) fn download(
    hub: &Hub,
    file: &RepoFile,
    cache: &RepoCache,
    meta: &Meta,
) -> Result<(), HubError> {
    let io = |path: &Path| {
        let (file, path) = (Box::new(file.clone()), path.to_owned());
        move |error| HubError::Io { file, path, error }
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
    // The Hugging Face cache's own way: `<etag>.incomplete` (resumable, and what the
    // Python client resumes too), renamed into place once verified.
    std::fs::rename(&partial, &blob).map_err(io(&blob))?;
    if pricer_fs::fsync_enabled() {
        pricer_fs::sync_parent(&blob);
    }
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
    /// The `.incomplete` file at `path`, its bytes so far (from an interrupted run)
    /// checked from the start, as the rest will be.
    fn open(path: &Path, meta: &Meta) -> std::io::Result<Partial> {
        let out = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(path)?;
        let mut p = Partial {
            path: path.to_owned(),
            have: out.metadata()?.len(),
            out,
            check: Check::for_etag(&meta.etag, meta.size),
        };
        if meta.size.is_some_and(|s| p.have > s) {
            p.restart(meta)?;
        }
        if p.have > 0 {
            let mut r = File::open(path)?.take(p.have);
            let mut buf = vec![0u8; CHUNK];
            loop {
                let n = r.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                p.check.update(&buf[..n]);
            }
        }
        Ok(p)
    }

    fn restart(&mut self, meta: &Meta) -> std::io::Result<()> {
        self.out.set_len(0)?;
        self.have = 0;
        self.check = Check::for_etag(&meta.etag, meta.size);
        Ok(())
    }
}

fn fetch_into(hub: &Hub, file: &RepoFile, meta: &Meta, path: &Path) -> Result<(), HubError> {
    let io = |error| HubError::Io {
        file: Box::new(file.clone()),
        path: path.to_owned(),
        error,
    };
    let mut p = Partial::open(path, meta).map_err(io)?;
    if p.have > 0 {
        tracing::info!("{file}: resuming the download at byte {}", p.have);
    }
    let (started, first) = (Instant::now(), p.have);
    let bar = progress_bar(hub, file, meta.size, p.have);
    let got = get_all(hub, file, meta, &mut p, &bar);
    if got.is_err() {
        bar.abandon();
    }
    got?;
    bar.finish_and_clear();
    p.out.flush().map_err(io)?;
    verify(file, meta, &mut p)?;
    if pricer_fs::fsync_enabled() {
        pricer_fs::sync_file(&p.out).map_err(io)?;
    }
    let secs = started.elapsed().as_secs_f64().max(1e-3);
    tracing::info!(
        "{file}: {} bytes downloaded in {secs:.1} s ({:.1} MB/s), verified",
        p.have - first,
        (p.have - first) as f64 / secs / 1e6
    );
    Ok(())
}

/// GETs from `p.have` on until the body is whole, resuming after a dropped connection;
/// gives up after [`MAX_STALLED_ATTEMPTS`] in a row that bring no new bytes.
fn get_all(
    hub: &Hub,
    file: &RepoFile,
    meta: &Meta,
    p: &mut Partial,
    bar: &ProgressBar,
) -> Result<(), HubError> {
    let agent = agent(hub.env.download_timeout, 5);
    let mut stalled = 0;
    while meta.size != Some(p.have) {
        let before = p.have;
        match stream(&agent, hub, file, meta, p, bar) {
            Ok(true) => break,
            Ok(false) => {}
            Err(Failure::Final(e)) => return Err(e),
            Err(Failure::Transient(reason)) => {
                stalled = if p.have > before { 0 } else { stalled + 1 };
                if stalled >= MAX_STALLED_ATTEMPTS {
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
    Ok(())
}

/// The downloaded bytes against the Hub's size and ETag; a mismatch removes them.
fn verify(file: &RepoFile, meta: &Meta, p: &mut Partial) -> Result<(), HubError> {
    let check = std::mem::replace(&mut p.check, Check::for_etag(&meta.etag, meta.size));
    let corrupt = |why: String| {
        let _ = std::fs::remove_file(&p.path);
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
    check
        .finish(&meta.etag)
        .map_err(|(what, got)| corrupt(format!("{what} {got}, the Hub's ETag is {}", meta.etag)))
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
    let resp = request_from(agent, hub, file, meta, p, bar)?;
    copy_body(hub, file, meta, p, bar, &mut resp.into_reader())
}

impl Partial {
    /// An I/O error on the partial file: final.
    fn io_failure<'a>(&self, file: &'a RepoFile) -> impl Fn(std::io::Error) -> Failure + 'a {
        let path = self.path.clone();
        move |error| {
            Failure::Final(HubError::Io {
                file: Box::new(file.clone()),
                path: path.clone(),
                error,
            })
        }
    }
}

/// The GET from `p.have` on, its answer checked: a resume the server did not honour
/// (416, or no matching Content-Range) starts the file over.
fn request_from(
    agent: &ureq::Agent,
    hub: &Hub,
    file: &RepoFile,
    meta: &Meta,
    p: &mut Partial,
    bar: &ProgressBar,
) -> Result<ureq::Response, Failure> {
    let io = p.io_failure(file);
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
        Err(ureq::Error::Transport(t)) => {
            return Err(Failure::Transient(crate::transport_text(&t)))
        }
    };
    let resumed_ok = resp.status() == 206
        && resp
            .header("Content-Range")
            .and_then(|r| r.trim().strip_prefix("bytes "))
            .and_then(|r| r.split('-').next())
            .and_then(|s| s.parse::<u64>().ok())
            == Some(p.have);
    if p.have > 0 && !resumed_ok {
        p.restart(meta).map_err(io)?;
        bar.set_position(0);
        if resp.status() != 200 {
            return Err(Failure::Transient(format!(
                "HTTP {} with an unexpected Content-Range on resume",
                resp.status()
            )));
        }
        // The server ignored Range: take the whole body.
    }
    Ok(resp)
}

/// Appends the body to the partial file, checked as it comes, never past the announced
/// size (a server that sends on must not fill the disk; the digest check decides on
/// the rest); stops when the run is interrupted.
fn copy_body(
    hub: &Hub,
    file: &RepoFile,
    meta: &Meta,
    p: &mut Partial,
    bar: &ProgressBar,
    body: &mut impl Read,
) -> Result<bool, Failure> {
    let io = p.io_failure(file);
    let mut buf = vec![0u8; CHUNK];
    loop {
        if hub.stop.is_some_and(|stop| stop()) {
            return Err(Failure::Final(HubError::Interrupted {
                file: Box::new(file.clone()),
                have: p.have,
            }));
        }
        let n = match body.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Failure::Transient(format!("connection lost: {e}"))),
        };
        let room = meta
            .size
            .map_or(u64::MAX, |size| size.saturating_sub(p.have));
        let keep = n.min(usize::try_from(room).unwrap_or(usize::MAX));
        p.out.write_all(&buf[..keep]).map_err(&io)?;
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
