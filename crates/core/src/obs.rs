//! Observability shared by every binary: tracing to stderr (RUST_LOG), progress bars only
//! on a terminal, and the one-line summary on stdout.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tracing_subscriber::EnvFilter;

/// Logs to stderr, filtered by RUST_LOG (default: warnings and errors only), in colour
/// only on a terminal (a log file or a CI page gets no escape codes).
pub fn init_tracing() {
    use std::io::IsTerminal;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .try_init();
}

/// A progress bar over `total` units (bytes or records) that draws only on a terminal.
pub fn progress(total: Option<u64>, what: &str) -> ProgressBar {
    let pb = match total {
        Some(n) => ProgressBar::with_draw_target(Some(n), ProgressDrawTarget::stderr()),
        None => ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()),
    };
    let template = if total.is_some() {
        "{msg} [{elapsed_precise}] {wide_bar} {percent}% ({eta})"
    } else {
        "{msg} [{elapsed_precise}] {spinner} {pos}"
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        pb.set_style(style);
    }
    pb.set_message(what.to_owned());
    pb
}

/// A progress bar over `total` requests or records that also shows the rate and a
/// message kept up to date by the caller (tokens, cost).
pub fn progress_with_rate(total: u64, what: &str) -> ProgressBar {
    let pb = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(
        "{msg} [{elapsed_precise}] {wide_bar} {pos}/{len} ({per_sec}, eta {eta})",
    ) {
        pb.set_style(style);
    }
    pb.set_message(what.to_owned());
    pb
}

/// Sizes rayon's global pool; `None` or 0 keeps rayon's default (one thread per core).
/// Returns the number of threads in use.
pub fn init_threads(threads: Option<usize>) -> usize {
    let mut builder = rayon::ThreadPoolBuilder::new();
    if let Some(n) = threads.filter(|&n| n > 0) {
        builder = builder.num_threads(n);
    }
    // Fails only if the pool already exists (tests, or a second call): keep that one.
    let _ = builder.build_global();
    rayon::current_num_threads()
}

/// Thousands separators for summaries: 1234567 -> "1,234,567".
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A count and its noun: `plural(1, "file", "files")` is "1 file", 1234 gives
/// "1,234 files".
pub fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", thousands(n), if n == 1 { one } else { many })
}

/// This process's peak resident memory so far (Linux `VmHWM`), in bytes.
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_read_as_english() {
        assert_eq!(plural(1, "thread", "threads"), "1 thread");
        assert_eq!(plural(0, "thread", "threads"), "0 threads");
        assert_eq!(plural(1234, "file", "files"), "1,234 files");
        assert_eq!(thousands(1234567), "1,234,567");
    }
}
