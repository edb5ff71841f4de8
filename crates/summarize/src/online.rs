//! Online mode: chat-completion requests with a bounded number in flight, retried with
//! backoff on 429, 5xx, timeouts and malformed answers (a `Retry-After` is honoured),
//! every answer stored in the cache the moment it arrives.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, sync_channel};
use std::sync::Mutex;
use std::time::Duration;

use anyhow::Result;
use pricer_core::obs;

use crate::cache::Cache;
use crate::config::SummarizeConfig;
use crate::request::{body, error_text, parse_completion, Answer, Failure, Key, Spent};

/// A request to make.
#[derive(Debug)]
pub struct Job {
    pub key: Key,
    pub user: String,
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

fn backoff(cfg: &SummarizeConfig, key: &Key, attempt: u32) -> Duration {
    let base = cfg
        .backoff_ms
        .saturating_mul(1 << attempt.min(16))
        .min(60_000);
    // A jitter of up to a quarter, fixed per request, so workers do not retry in step.
    let jitter = base / 4 * u64::from(key.0[0]) / 255;
    Duration::from_millis(base + jitter)
}

fn request(
    agent: &ureq::Agent,
    url: &str,
    auth: Option<&str>,
    cfg: &SummarizeConfig,
    job: &Job,
    stop: &AtomicBool,
) -> Result<Answer, Failed> {
    let payload = body(cfg, &job.user).to_string();
    let mut last = Failure::new("not sent");
    for attempt in 0..cfg.max_attempts.max(1) {
        if stop.load(Ordering::Relaxed) {
            return Err(Failed {
                failure: Failure::new("not sent: the run stopped"),
                fatal: false,
            });
        }
        let mut req = agent.post(url).set("Content-Type", "application/json");
        if let Some(key) = auth {
            req = req.set("Authorization", &format!("Bearer {key}"));
        }
        let wait = match req.send_string(&payload) {
            Ok(resp) => {
                let parsed = resp
                    .into_string()
                    .map_err(|e| Failure::new(format!("reading the answer: {e}")))
                    .and_then(|t| {
                        serde_json::from_str(&t)
                            .map_err(|e| Failure::new(format!("malformed answer: {e}")))
                    })
                    .and_then(|v| parse_completion(&v));
                match parsed {
                    Ok(a) => return Ok(a),
                    Err(f) => {
                        last = f;
                        None
                    }
                }
            }
            Err(ureq::Error::Status(code, resp)) => {
                let after = retry_after(&resp);
                let text = error_text(resp);
                last = Failure::new(format!("HTTP {code}: {text}"));
                match code {
                    429 => after,
                    500..=599 => None,
                    401 | 403 | 404 => {
                        return Err(Failed {
                            failure: last,
                            fatal: true,
                        })
                    }
                    _ => {
                        return Err(Failed {
                            failure: last,
                            fatal: false,
                        })
                    }
                }
            }
            Err(ureq::Error::Transport(t)) => {
                last = Failure::new(format!("transport: {t}"));
                None
            }
        };
        if attempt + 1 < cfg.max_attempts {
            std::thread::sleep(wait.unwrap_or_else(|| backoff(cfg, &job.key, attempt)));
        }
    }
    Err(Failed {
        failure: last,
        fatal: false,
    })
}

/// Makes every request of `jobs` (`total` of them); answers go to `cache` as they come.
/// Returns the requests that failed, with reasons (they are retried on the next run).
pub fn run(
    cfg: &SummarizeConfig,
    jobs: impl Iterator<Item = Result<Job>> + Send,
    total: u64,
    cache: &mut Cache,
) -> Result<(Vec<(Key, Failure)>, Spent)> {
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(cfg.timeout_s.max(1)))
        .build();
    let url = format!("{}/chat/completions", cfg.base_url.trim_end_matches('/'));
    let auth = cfg.api_key();
    let workers = cfg.max_in_flight.max(1);
    let (job_tx, job_rx) = sync_channel::<Job>(workers * 2);
    let job_rx = Mutex::new(job_rx);
    let (res_tx, res_rx) = channel::<(Key, Result<Answer, Failed>)>();
    let stop = AtomicBool::new(false);
    let producer_error: Mutex<Option<anyhow::Error>> = Mutex::new(None);
    let progress = obs::progress_with_rate(total, "summarize");
    let mut spent = Spent::default();
    let mut failures = Vec::new();
    let mut fatal: Option<Failure> = None;
    let result = std::thread::scope(|s| -> Result<()> {
        let (stop, producer_error, job_rx) = (&stop, &producer_error, &job_rx);
        s.spawn(move || {
            for job in jobs {
                let sent = match job {
                    Ok(j) => job_tx.send(j).is_ok(),
                    Err(e) => {
                        *producer_error.lock().expect("lock") = Some(e);
                        stop.store(true, Ordering::Relaxed);
                        false
                    }
                };
                if !sent || stop.load(Ordering::Relaxed) {
                    break;
                }
            }
        });
        for _ in 0..workers {
            let res_tx = res_tx.clone();
            let (agent, url, auth) = (&agent, &url, auth.as_deref());
            s.spawn(move || loop {
                let job = job_rx.lock().expect("lock").recv();
                let Ok(job) = job else { break };
                // After a stop, the queue is drained without sending anything.
                if stop.load(Ordering::Relaxed) {
                    continue;
                }
                let r = request(agent, url, auth, cfg, &job, stop);
                if res_tx.send((job.key, r)).is_err() {
                    break;
                }
            });
        }
        drop(res_tx);
        for (key, r) in res_rx {
            match r {
                Ok(a) => {
                    spent.requests += 1;
                    spent.answer(&a);
                    if let Err(e) = cache.put(key, &a) {
                        stop.store(true, Ordering::Relaxed);
                        return Err(e);
                    }
                }
                Err(f) => {
                    spent.requests += 1;
                    if f.fatal && fatal.is_none() {
                        stop.store(true, Ordering::Relaxed);
                        fatal = Some(f.failure.clone());
                    }
                    failures.push((key, f.failure));
                }
            }
            progress.inc(1);
            progress.set_message(format!(
                "summarize: {} in + {} out tokens, ${:.4}",
                obs::thousands(spent.prompt_tokens),
                obs::thousands(spent.completion_tokens),
                spent.cost(cfg)
            ));
        }
        Ok(())
    });
    progress.finish_and_clear();
    result?;
    if let Some(e) = producer_error.into_inner().expect("lock") {
        return Err(e);
    }
    if let Some(f) = fatal {
        anyhow::bail!(
            "{url}: {}; every request would fail the same way, so the run stopped (check the API key in ${}, the model name and base_url)",
            f.reason,
            cfg.api_key_env
        );
    }
    Ok((failures, spent))
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
