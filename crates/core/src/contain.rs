//! Third-party parsers over files we did not write. Some still assert instead of
//! returning an error on damaged input (the parquet and arrow crates do, on a bit flip in
//! a page header); `contain` turns such a panic into an error naming the file, so a bad
//! file stops with its path and the reason, as every other bad file does.

use std::cell::{Cell, RefCell};
use std::panic::{self, AssertUnwindSafe};
use std::path::Path;
use std::sync::Once;

use anyhow::{anyhow, Result};

thread_local! {
    /// Set while this thread runs a contained parser: its panics are not printed.
    static CONTAINED: Cell<bool> = const { Cell::new(false) };
    /// The message and place of the last contained panic on this thread.
    static LAST: RefCell<Option<String>> = const { RefCell::new(None) };
}

static HOOK: Once = Once::new();

/// Wraps the process's panic hook once: a panic inside `contain` on this thread is
/// recorded instead of printed; every other panic goes to the hook that was there.
fn install_hook() {
    HOOK.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if CONTAINED.with(Cell::get) {
                let payload = info.payload();
                let message = payload
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "a panic without a message".to_owned());
                let at = info
                    .location()
                    .map(|l| format!(" at {}:{}", crate_path(l.file()), l.line()))
                    .unwrap_or_default();
                LAST.with(|l| *l.borrow_mut() = Some(format!("{message}{at}")));
            } else {
                previous(info);
            }
        }));
    });
}

/// A source path from the cargo registry without its machine-specific start
/// (`parquet-55.2.0/src/...`), so the message says which crate and version failed.
fn crate_path(file: &str) -> &str {
    file.split_once("/registry/src/")
        .and_then(|(_, rest)| rest.split_once('/'))
        .map_or(file, |(_, rest)| rest)
}

/// Runs `parse` (a third-party reader over `file`); a panic inside it becomes the error
/// "`file`: damaged `what` file (the reader failed: ...)". Errors pass through as they are.
pub fn contain<T>(file: &Path, what: &str, parse: impl FnOnce() -> Result<T>) -> Result<T> {
    install_hook();
    let outer = CONTAINED.with(|c| c.replace(true));
    let result = panic::catch_unwind(AssertUnwindSafe(parse));
    CONTAINED.with(|c| c.set(outer));
    result.unwrap_or_else(|_| {
        let why = LAST
            .with(|l| l.borrow_mut().take())
            .unwrap_or_else(|| "a panic".to_owned());
        Err(anyhow!(
            "{}: damaged {what} file (the reader failed: {why})",
            file.display()
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_an_error_naming_the_file_and_the_reason() {
        let err = contain(Path::new("x/train.parquet"), "Parquet", || -> Result<()> {
            let v: Vec<u8> = Vec::new();
            let i = v.len();
            std::hint::black_box(v[i]);
            Ok(())
        })
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with("x/train.parquet: damaged Parquet file"),
            "{err}"
        );
        assert!(err.contains("index out of bounds"), "{err}");
        assert!(err.contains("contain.rs"), "{err}");
    }

    #[test]
    fn values_and_errors_pass_through_and_the_flag_is_restored() {
        let f = Path::new("f");
        assert_eq!(contain(f, "Parquet", || Ok(7)).unwrap(), 7);
        let err = contain(f, "Parquet", || -> Result<()> { Err(anyhow!("plain")) });
        assert_eq!(err.unwrap_err().to_string(), "plain");
        // Nested: the inner call leaves the outer one contained.
        let err = contain(f, "outer", || {
            contain(f, "inner", || -> Result<()> { panic!("inner boom") })
                .map_err(|e| anyhow!("{e}"))?;
            Ok(())
        });
        assert!(err.unwrap_err().to_string().contains("inner boom"));
        assert!(!CONTAINED.with(Cell::get));
    }

    #[test]
    fn registry_paths_lose_their_machine_specific_start() {
        let p =
            "/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/parquet-55.2.0/src/x.rs";
        assert_eq!(crate_path(p), "parquet-55.2.0/src/x.rs");
        assert_eq!(
            crate_path("crates/core/src/contain.rs"),
            "crates/core/src/contain.rs"
        );
    }

    #[test]
    fn a_panic_message_made_with_format_is_kept() {
        let n = 3;
        let err = contain(Path::new("f"), "Parquet", || -> Result<()> {
            panic!("page {n} is short")
        });
        assert!(err.unwrap_err().to_string().contains("page 3 is short"));
    }
}
