//! The runner as a library: a run config (TOML, a bundled name, or built in code), the
//! recipes' stage lists, and the loop that runs a recipe's stages into a run folder with
//! caching, resumption and locking. `cargo xtask pipeline`, the `pricer` command and the
//! Python package are thin callers of [`runner::run`]. It knows stages only through
//! `pricer_core::stage::Stage`; `recipe.rs` is the one place that names them.

pub mod config;
pub mod configs;
pub mod dump;
pub mod knobs;
mod paths;
pub mod recipe;
pub mod runner;
pub mod status;

pub use config::RunConfig;
pub use configs::ConfigSource;
pub use runner::{run, Observer, RunOptions, RunReport, StageReport};
