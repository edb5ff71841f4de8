//! Requests with a bounded number in flight, retried with
//! backoff on 429, 5xx, timeouts and malformed answers (a `Retry-After` is honoured),
//! every answer stored in the cache the moment it arrives.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, sync_channel, Receiver, Sender, SyncSender};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::Result;
use pricer_core::obs;

use crate::cache::Cache;
use crate::request::{error_text, parse_answer, Answer, Failure, Key, Prices, Route, Spent};

/// A request to make: its key and its body.
#[derive(Debug)]
pub struct Job {
    pub key: Key,
    pub body: serde_json::Value,
}

/// Where requests go and how they travel: none of it changes an answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Transport {
    /// The OpenAI-compatible API root, e.g. `https://api.groq.com/openai/v1`.
    pub base_url: String,
    /// The environment variable that holds the API key (empty: send none).
    pub api_key_env: String,
    /// Requests in flight at once.
    pub max_in_flight: usize,
    /// Attempts per request (429, 5xx, timeouts and malformed answers are retried).
    pub max_attempts: u32,
    /// The first backoff; it doubles per attempt (a `Retry-After` wins).
    pub backoff_ms: u64,
    pub timeout_s: u64,
    pub prices: Prices,
    /// What the progress bar and the retry lines are labelled with (the stage's name).
    pub label: &'static str,
}

impl Transport {
    /// The API key, if one is configured.
    pub fn api_key(&self) -> Option<String> {
        (!self.api_key_env.is_empty())
            .then(|| std::env::var(&self.api_key_env).ok())
            .flatten()
            .filter(|k| !k.is_empty())
    }
}

/// Why a request failed, and whether every other request would fail the same way (a bad
/// key, an unknown model): then the run stops instead of paying for nothing.
struct Failed {
    failure: Failure,
    fatal: bool,
}

/// The longest `Retry-After` honoured: a server asking for more (or for 1e300 seconds,
/// which `Duration` cannot even hold) gets its request retried after this.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(600);

/// The wait a 429 asks for (`Retry-After` in seconds), if it says.
fn retry_after(r: &ureq::Response) -> Option<Duration> {
    parse_retry_after(r.header("retry-after")?)
}

fn parse_retry_after(value: &str) -> Option<Duration> {
    let secs = value.trim().parse::<f64>().ok()?;
    (secs >= 0.0).then(|| {
        Duration::try_from_secs_f64(secs).map_or(MAX_RETRY_AFTER, |d| d.min(MAX_RETRY_AFTER))
    })
}

fn backoff(cfg: &Transport, key: &Key, attempt: u32) -> Duration {
    let base = cfg
        .backoff_ms
        .saturating_mul(1 << attempt.min(16))
        .min(60_000);
    // A jitter of up to a quarter, fixed per request, so workers do not retry in step.
    let jitter = base / 4 * u64::from(key.0[0]) / 255;
    Duration::from_millis(base + jitter)
}

/// What the workers share: where to send, and what the run has seen so far.
struct Shared<'a> {
    agent: ureq::Agent,
    url: String,
    auth: Option<String>,
    route: Route,
    cfg: &'a Transport,
    stop: AtomicBool,
    /// Set once the endpoint has answered anything (an error status included): from then
    /// on a refused connection is a passing fault, retried; before, it is the wrong
    /// address or a server that is not running, and the run stops at once.
    reached: AtomicBool,
    retries: RetryLog,
}

/// One line on stderr per retry round (the first request to reach attempt N) and at most
/// one every 10 s in between, so that a run waiting on a struggling endpoint says so
/// whether or not a progress bar is drawn.
#[derive(Default)]
struct RetryLog(Mutex<(u32, Option<Instant>)>);

impl RetryLog {
    fn note(&self, label: &str, attempt: u32, of: u32, wait: Duration, why: &Failure) {
        let mut last = self.0.lock().expect("lock");
        let quiet = last
            .1
            .is_some_and(|t| t.elapsed() < Duration::from_secs(10));
        if attempt > last.0 || !quiet {
            last.0 = last.0.max(attempt);
            last.1 = Some(Instant::now());
            eprintln!(
                "{label}: retrying requests (attempt {attempt} of {of}, next in {:.1} s): {}",
                wait.as_secs_f64(),
                why.reason
            );
        }
    }
}

/// Whether a transport error means the endpoint cannot be reached at all (a wrong
/// address, a server that is not running) rather than a passing fault.
fn unreachable(kind: ureq::ErrorKind) -> bool {
    use ureq::ErrorKind::*;
    matches!(kind, InvalidUrl | UnknownScheme | Dns | ConnectionFailed)
}

/// What one attempt came to.
enum Attempt {
    Answered(Answer),
    /// Worth another attempt (after the wait the server asked for, if it did).
    Retry(Failure, Option<Duration>),
    /// Not worth another attempt.
    GiveUp(Failed),
}

fn request(sh: &Shared, job: &Job) -> Result<Answer, Failed> {
    let cfg = sh.cfg;
    let payload = job.body.to_string();
    let mut last = Failure::new("not sent");
    for attempt in 0..cfg.max_attempts.max(1) {
        if sh.stop.load(Ordering::Relaxed) || pricer_core::cancel::check().is_err() {
            return Err(Failed {
                failure: Failure::new("not sent: the run stopped"),
                fatal: false,
            });
        }
        let wait = match attempt_once(sh, &payload) {
            Attempt::Answered(a) => return Ok(a),
            Attempt::GiveUp(f) => return Err(f),
            Attempt::Retry(f, wait) => {
                last = f;
                wait
            }
        };
        if attempt + 1 < cfg.max_attempts {
            let wait = wait.unwrap_or_else(|| backoff(cfg, &job.key, attempt));
            sh.retries
                .note(cfg.label, attempt + 2, cfg.max_attempts, wait, &last);
            std::thread::sleep(wait);
        }
    }
    Err(Failed {
        failure: last,
        fatal: false,
    })
}

/// One attempt at a request: 429, 5xx, timeouts and malformed answers are worth
/// retrying; 401/403/404, and an endpoint never reached, stop the run.
fn attempt_once(sh: &Shared, payload: &str) -> Attempt {
    let mut req = sh
        .agent
        .post(&sh.url)
        .set("Content-Type", "application/json");
    if let Some(key) = &sh.auth {
        req = req.set("Authorization", &format!("Bearer {key}"));
    }
    let sent = req.send_string(payload);
    if !matches!(&sent, Err(ureq::Error::Transport(_))) {
        sh.reached.store(true, Ordering::Relaxed);
    }
    let give_up = |failure, fatal| Attempt::GiveUp(Failed { failure, fatal });
    match sent {
        Ok(resp) => {
            let parsed = resp
                .into_string()
                .map_err(|e| Failure::new(format!("reading the answer: {e}")))
                .and_then(|t| {
                    serde_json::from_str(&t)
                        .map_err(|e| Failure::new(format!("malformed answer: {e}")))
                })
                .and_then(|v| parse_answer(sh.route, &v));
            match parsed {
                Ok(a) => Attempt::Answered(a),
                Err(f) => Attempt::Retry(f, None),
            }
        }
        Err(ureq::Error::Status(code, resp)) => {
            let after = retry_after(&resp);
            let failure = Failure::new(format!("HTTP {code}: {}", error_text(resp)));
            match code {
                429 => Attempt::Retry(failure, after),
                500..=599 => Attempt::Retry(failure, None),
                401 | 403 | 404 => give_up(failure, true),
                _ => give_up(failure, false),
            }
        }
        Err(ureq::Error::Transport(t)) => {
            if unreachable(t.kind()) && !sh.reached.load(Ordering::Relaxed) {
                return give_up(
                    Failure::new(format!(
                        "cannot reach the endpoint ({t}); is base_url right and the server running?"
                    )),
                    true,
                );
            }
            Attempt::Retry(Failure::new(format!("transport: {t}")), None)
        }
    }
}

/// What the answers so far add up to.
#[derive(Default)]
struct Tally {
    spent: Spent,
    failures: Vec<(Key, Failure)>,
    /// The first failure that every other request would share.
    fatal: Option<Failure>,
}

impl Tally {
    /// Counts one request's outcome; an answer goes to the cache at once.
    fn take(
        &mut self,
        key: Key,
        r: Result<Answer, Failed>,
        cache: &mut Cache,
        stop: &AtomicBool,
    ) -> Result<()> {
        self.spent.requests += 1;
        match r {
            Ok(a) => {
                self.spent.answer(&a);
                cache
                    .put(key, &a)
                    .inspect_err(|_| stop.store(true, Ordering::Relaxed))?;
            }
            Err(f) => {
                if f.fatal && self.fatal.is_none() {
                    stop.store(true, Ordering::Relaxed);
                    self.fatal = Some(f.failure.clone());
                }
                self.failures.push((key, f.failure));
            }
        }
        Ok(())
    }
}

/// Hands the jobs to the workers until they end or the run stops; an error reading them
/// stops the run and is kept for the caller.
fn produce(
    jobs: impl Iterator<Item = Result<Job>>,
    to: SyncSender<Job>,
    stop: &AtomicBool,
    error: &Mutex<Option<anyhow::Error>>,
) {
    for job in jobs {
        let sent = match job {
            Ok(j) => to.send(j).is_ok(),
            Err(e) => {
                *error.lock().expect("lock") = Some(e);
                stop.store(true, Ordering::Relaxed);
                false
            }
        };
        if !sent || stop.load(Ordering::Relaxed) {
            break;
        }
    }
}

/// A worker: requests jobs from the queue until it closes; after a stop, drains the
/// queue without sending anything.
fn work(sh: &Shared, jobs: &Mutex<Receiver<Job>>, results: Sender<(Key, Result<Answer, Failed>)>) {
    loop {
        let job = jobs.lock().expect("lock").recv();
        let Ok(job) = job else { break };
        if sh.stop.load(Ordering::Relaxed) || pricer_core::cancel::check().is_err() {
            continue;
        }
        let r = request(sh, &job);
        if results.send((job.key, r)).is_err() {
            break;
        }
    }
}

/// Makes every request of `jobs` (`total` of them) to `route`; answers go to `cache` as
/// they come. Returns the requests that failed, with reasons (they are retried on the
/// next run), and what was spent.
pub fn run(
    cfg: &Transport,
    route: Route,
    jobs: impl Iterator<Item = Result<Job>> + Send,
    total: u64,
    cache: &mut Cache,
) -> Result<(Vec<(Key, Failure)>, Spent)> {
    let shared = Shared {
        agent: ureq::AgentBuilder::new()
            .timeout(Duration::from_secs(cfg.timeout_s.max(1)))
            .build(),
        url: format!("{}{}", cfg.base_url.trim_end_matches('/'), route.path()),
        auth: cfg.api_key(),
        route,
        cfg,
        stop: AtomicBool::new(false),
        reached: AtomicBool::new(false),
        retries: RetryLog::default(),
    };
    let workers = cfg.max_in_flight.max(1);
    let (job_tx, job_rx) = sync_channel::<Job>(workers * 2);
    let job_rx = Mutex::new(job_rx);
    let (res_tx, res_rx) = channel();
    let producer_error: Mutex<Option<anyhow::Error>> = Mutex::new(None);
    let progress = obs::progress_with_rate(total, cfg.label);
    let mut tally = Tally::default();
    let result = std::thread::scope(|s| -> Result<()> {
        let (producer_error, job_rx, sh) = (&producer_error, &job_rx, &shared);
        s.spawn(move || produce(jobs, job_tx, &sh.stop, producer_error));
        for _ in 0..workers {
            let res_tx = res_tx.clone();
            s.spawn(move || work(sh, job_rx, res_tx));
        }
        drop(res_tx);
        for (key, r) in res_rx {
            tally.take(key, r, cache, &sh.stop)?;
            progress.inc(1);
            progress.set_message(format!(
                "{}: {} in + {} out tokens, ${:.4}",
                cfg.label,
                obs::thousands(tally.spent.prompt_tokens),
                obs::thousands(tally.spent.completion_tokens),
                tally.spent.cost(&cfg.prices)
            ));
        }
        Ok(())
    });
    progress.finish_and_clear();
    result?;
    // Answers that came are in the cache; what was not sent is asked on the next run.
    pricer_core::cancel::check()?;
    if let Some(e) = producer_error.into_inner().expect("lock") {
        return Err(e);
    }
    if let Some(f) = tally.fatal {
        if !shared.reached.load(Ordering::Relaxed) {
            anyhow::bail!(
                "{}: {}; nothing was sent, so the run stopped",
                shared.url,
                f.reason
            );
        }
        anyhow::bail!(
            "{}: {}; every request would fail the same way, so the run stopped (check the API key in ${}, the model name and base_url)",
            shared.url,
            f.reason,
            cfg.api_key_env
        );
    }
    Ok((tally.failures, tally.spent))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_honoured_within_bounds_and_never_panics() {
        let ms = |v: &str| parse_retry_after(v).map(|d| d.as_millis());
        assert_eq!(ms("2"), Some(2_000));
        assert_eq!(ms(" 0.25 "), Some(250));
        assert_eq!(ms("86400"), Some(600_000));
        assert_eq!(ms("1e300"), Some(600_000));
        assert_eq!(ms("inf"), Some(600_000));
        for not_seconds in ["-1", "NaN", "", "Wed, 21 Oct 2026 07:28:00 GMT"] {
            assert_eq!(ms(not_seconds), None, "{not_seconds:?}");
        }
    }
}
