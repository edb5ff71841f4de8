//! How every binary ends: its exit code and what it prints on the way out.
//!
//! | exit code | meaning |
//! |---|---|
//! | 0 | done |
//! | 1 | an error: the message says what and where |
//! | 2 | the command line was wrong (clap's usage errors) |
//! | 3 | stopped on purpose with work left for you (e.g. batch request files to upload by hand): the message says what to do next |
//!
//! Errors print as uv and ruff print them: `error: <what>` and one `caused by:` line per
//! cause, never a backtrace (even with `RUST_BACKTRACE=1`, which developers often set).
//! A backtrace is a bug report's business: `PRICER_BACKTRACE=1` prints anyhow's.

use std::process::ExitCode;

/// The exit code of a run that stopped on purpose with work left for the user.
pub const EXIT_STOPPED: u8 = 3;

/// A stage that stopped as it was asked to, with work left for the user: not a failure.
/// Its message says what is ready and what to do next.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Stopped(pub String);

/// Whether `e` (or any of its causes) is a [`Stopped`].
pub fn stopped(e: &anyhow::Error) -> Option<&Stopped> {
    e.chain().find_map(|c| c.downcast_ref::<Stopped>())
}

/// The text printed for an error: `error: ...` and its causes, one per line.
pub fn error_text(e: &anyhow::Error) -> String {
    let mut out = format!("error: {e}");
    for cause in e.chain().skip(1) {
        out.push_str(&format!("\n  caused by: {cause}"));
    }
    out
}

/// Ends a binary: prints a [`Stopped`] as `stopped: ...` (exit code 3) and any other
/// error as [`error_text`] (exit code 1).
pub fn exit(result: anyhow::Result<()>) -> ExitCode {
    ExitCode::from(report(result))
}

/// What [`exit`] prints, and its exit code as a number (for callers that are not a
/// process's `main`, such as the Python package's `pricer` command).
pub fn report(result: anyhow::Result<()>) -> u8 {
    let Err(e) = result else {
        return 0;
    };
    if let Some(s) = stopped(&e) {
        eprintln!("stopped: {s}");
        return EXIT_STOPPED;
    }
    if std::env::var_os("PRICER_BACKTRACE").is_some_and(|v| v == "1") {
        eprintln!("{e:?}");
    } else {
        eprintln!("{}", error_text(&e));
    }
    1
}

/// A `--threads` value: a count of at least 1 (leaving the flag out means one per core;
/// 0 is refused rather than silently read as "all").
pub fn threads(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(0) => Err("0 threads cannot run anything; give at least 1, or leave the flag out for one per core".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("{s:?} is not a number of threads")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn errors_print_their_causes_and_stops_are_found_under_context() {
        let e = Err::<(), _>(anyhow::anyhow!("disk full"))
            .context("run/ingest/candidates.art: cannot write")
            .unwrap_err();
        assert_eq!(
            error_text(&e),
            "error: run/ingest/candidates.art: cannot write\n  caused by: disk full"
        );
        assert!(stopped(&e).is_none());
        let s = Err::<(), _>(anyhow::Error::from(Stopped("2 files ready".into())))
            .context("stage summarize")
            .unwrap_err();
        assert_eq!(stopped(&s).map(|s| s.0.as_str()), Some("2 files ready"));
    }
}
