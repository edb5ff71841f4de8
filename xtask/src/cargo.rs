//! Cargo started from inside `cargo xtask`, in the environment the user's shell gave it.
//!
//! `cargo run` and `cargo test` give the process they start variables about its own
//! package (`CARGO_MANIFEST_DIR`, `CARGO_PKG_*`, ...). A cargo started with them sees a
//! changed environment for any build script that watches those names (ring's does:
//! `rerun-if-env-changed=CARGO_MANIFEST_DIR`), so it rebuilds ring and everything that
//! links it (~15 s of a dev build here), and the user's next plain `cargo xtask` rebuilds
//! it all back. Cargo's own settings (`CARGO_HOME`, `CARGO_TARGET_DIR`, ...) stay.

use std::ffi::OsStr;
use std::process::Command;

/// Whether `name` is one of the variables cargo sets for the package whose binary or
/// test is running (<https://doc.rust-lang.org/cargo/reference/environment-variables.html>).
pub fn is_package_var(name: &OsStr) -> bool {
    const EXACT: [&str; 8] = [
        "CARGO_MANIFEST_DIR",
        "CARGO_MANIFEST_PATH",
        "CARGO_MANIFEST_LINKS",
        "CARGO_CRATE_NAME",
        "CARGO_BIN_NAME",
        "CARGO_PRIMARY_PACKAGE",
        "CARGO_TARGET_TMPDIR",
        "OUT_DIR",
    ];
    let name = name.to_string_lossy();
    EXACT.contains(&name.as_ref())
        || name.starts_with("CARGO_PKG_")
        || name.starts_with("CARGO_BIN_EXE_")
}

/// Takes the package variables out of `cmd`'s environment (it and its children's).
pub fn without_package_env(cmd: &mut Command) -> &mut Command {
    for (name, _) in std::env::vars_os().filter(|(n, _)| is_package_var(n)) {
        cmd.env_remove(name);
    }
    cmd
}

/// `$CARGO` (the cargo that started xtask) or `cargo`, without the package variables.
pub fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    without_package_env(&mut cmd);
    cmd
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_variables_are_recognised_and_cargo_settings_are_not() {
        for name in [
            "CARGO_MANIFEST_DIR",
            "CARGO_PKG_NAME",
            "CARGO_PKG_VERSION_MAJOR",
            "CARGO_BIN_EXE_pricer-ingest",
            "OUT_DIR",
        ] {
            assert!(is_package_var(OsStr::new(name)), "{name}");
        }
        for name in [
            "CARGO",
            "CARGO_HOME",
            "CARGO_TARGET_DIR",
            "CARGO_BUILD_JOBS",
            "RUSTFLAGS",
            "PATH",
        ] {
            assert!(!is_package_var(OsStr::new(name)), "{name}");
        }
    }

    #[test]
    fn cargo_runs_without_the_variables_cargo_test_set_for_this_test() {
        // `cargo test` sets both for this process; the command must not pass them on.
        assert!(std::env::var_os("CARGO_MANIFEST_DIR").is_some());
        let cmd = cargo();
        let removed: Vec<&OsStr> = cmd
            .get_envs()
            .filter(|(_, v)| v.is_none())
            .map(|(k, _)| k)
            .collect();
        assert!(removed.contains(&OsStr::new("CARGO_MANIFEST_DIR")));
        assert!(removed.contains(&OsStr::new("CARGO_PKG_NAME")));
        assert!(cmd.get_envs().all(|(k, _)| is_package_var(k)));
    }
}
