//! The `pricer` command, in the manner of uv and ruff: `pricer run [CONFIG]` runs a
//! recipe into a run folder, every stage is a subcommand with its binary's flags
//! (`pricer ingest ...`), and `init`, `status`, `dump` and `configs` help around a run.
//! The bundled configs, tokenizers and fixture rows are carried inside (`bundle`), so
//! `pricer run classic` or `pricer run` (the fixtures) work from any folder. The
//! Python package's `pricer` command is this same function.

pub mod bundle;

use std::ffi::OsString;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use pricer_core::recipe::Recipe;
use pricer_pipeline::runner::Print;
use pricer_pipeline::{configs, ConfigSource, RunOptions};

/// Fine-tuning datasets for price prediction from Amazon product metadata: the "price is
/// right" recipes, byte for byte, fast.
#[derive(Parser, Debug)]
#[command(name = "pricer", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a recipe's stages into a run folder, skipping what is up to date.
    Run(RunArgs),
    /// Write a starter run config: every key with its default, commented.
    Init {
        /// The file to write.
        #[arg(default_value = "pricer.toml")]
        path: PathBuf,
        /// The recipe: v1 (2024) or v2 (the course's December 2025 edition).
        #[arg(long, default_value = "v1")]
        recipe: Recipe,
        /// Replace the file if it exists.
        #[arg(long)]
        force: bool,
    },
    /// How each stage of a run folder stands: up to date or not, counts, outputs.
    Status {
        /// The run folder.
        run: PathBuf,
    },
    /// Print an artifact's records as JSON lines.
    Dump {
        /// An artifact (.art), or a stage folder that holds one.
        path: PathBuf,
    },
    /// List the bundled configs.
    Configs,
    Ingest(pricer_ingest::cli::Args),
    Prompt(pricer_prompt::cli::Args),
    Split(pricer_split::cli::Args),
    Audit(pricer_tokenize_audit::cli::Args),
    Export(pricer_export::cli::Args),
    Curate(pricer_curate::cli::Args),
    Summarize(pricer_summarize::cli::Args),
    Merge(pricer_merge::cli::Args),
    Eval(pricer_eval::cli::Args),
}

#[derive(clap::Args, Debug)]
struct RunArgs {
    /// A bundled config by name (fixtures, classic, v2, v2-lite, v2-fixtures, edge;
    /// `pricer configs` lists them) or a TOML file. Default: fixtures.
    config: Option<String>,
    /// The run folder. Default: runs/NAME (runs/fixtures, runs/classic, runs/my for
    /// my.toml).
    #[arg(long, short)]
    out: Option<PathBuf>,
    /// Worker threads (default: one per core; at least 1). Output bytes do not depend on it.
    #[arg(long, env = "PRICER_THREADS", value_parser = pricer_core::cli::threads)]
    threads: Option<usize>,
    /// Run every stage even when it is up to date.
    #[arg(long)]
    force: bool,
    /// Run this stage and every later one even when up to date.
    #[arg(long)]
    from: Option<String>,
    /// Take the stages before this one as they are in the run folder (e.g. merged from a
    /// sharded run, docs/scale-out.md).
    #[arg(long)]
    start_at: Option<String>,
}

impl RunArgs {
    /// The runner's options for these arguments.
    fn options(&self) -> RunOptions {
        let config = self
            .config
            .as_deref()
            .map(ConfigSource::from_arg)
            .unwrap_or_default();
        RunOptions {
            out: self
                .out
                .clone()
                .unwrap_or_else(|| configs::default_out(&config)),
            config,
            threads: self.threads,
            force: self.force,
            from: self.from.clone(),
            start_at: self.start_at.clone(),
        }
    }
}

/// Runs the command line `args` (the program's name first); returns the exit code.
pub fn main(args: impl IntoIterator<Item = OsString>) -> u8 {
    pricer_core::obs::init_tracing();
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return u8::try_from(e.exit_code()).unwrap_or(2);
        }
    };
    pricer_core::cli::report(bundle::install().and_then(|_| command(cli.command)))
}

fn command(command: Command) -> Result<()> {
    match command {
        Command::Run(args) => {
            let report = pricer_pipeline::run(&args.options(), &mut Print)?;
            println!("{}", report.closing_line());
            Ok(())
        }
        Command::Init {
            path,
            recipe,
            force,
        } => init(&path, recipe, force),
        Command::Status { run } => {
            let stages = pricer_pipeline::status::status(&run)?;
            for line in pricer_pipeline::status::lines(&stages) {
                println!("{line}");
            }
            Ok(())
        }
        Command::Dump { path } => pricer_pipeline::dump::run(&path),
        Command::Configs => {
            for (name, what, _) in configs::BUNDLED {
                println!("{name:<12} {what}");
            }
            Ok(())
        }
        Command::Ingest(a) => pricer_ingest::cli::run(a),
        Command::Prompt(a) => pricer_prompt::cli::run(a),
        Command::Split(a) => pricer_split::cli::run(a),
        Command::Audit(a) => pricer_tokenize_audit::cli::run(a),
        Command::Export(a) => pricer_export::cli::run(a),
        Command::Curate(a) => pricer_curate::cli::run(a),
        Command::Summarize(a) => pricer_summarize::cli::run(a),
        Command::Merge(a) => pricer_merge::cli::run(a),
        Command::Eval(a) => pricer_eval::cli::run(a),
    }
}

fn init(path: &std::path::Path, recipe: Recipe, force: bool) -> Result<()> {
    anyhow::ensure!(
        force || !path.exists(),
        "{}: exists; choose another file or pass --force to replace it",
        path.display()
    );
    std::fs::write(path, pricer_pipeline::knobs::starter(recipe))
        .with_context(|| format!("{}: cannot write", path.display()))?;
    println!(
        "init: wrote {} (every key with its default, commented); run it with: pricer run {}",
        path.display(),
        path.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// Every flag and argument of every command says what it does.
    #[test]
    fn every_argument_of_every_command_has_a_description() {
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for arg in cmd.get_arguments() {
                let id = arg.get_id().as_str();
                if id == "help" || id == "version" {
                    continue;
                }
                if arg.get_help().is_none() && arg.get_long_help().is_none() {
                    missing.push(format!("{path} {id}"));
                }
            }
            for sub in cmd.get_subcommands() {
                walk(sub, &format!("{path} {}", sub.get_name()), missing);
            }
        }
        let mut missing = Vec::new();
        walk(&Cli::command(), "pricer", &mut missing);
        assert!(missing.is_empty(), "arguments without help: {missing:?}");
        Cli::command().debug_assert();
    }

    #[test]
    fn summarize_states_its_defaults_and_takes_prices() {
        let mut cmd = Cli::command();
        let help = cmd
            .find_subcommand_mut("summarize")
            .unwrap()
            .render_help()
            .to_string();
        for said in [
            "https://api.groq.com/openai/v1",
            "openai/gpt-oss-20b",
            "GROQ_API_KEY",
            "--input-price-per-million",
            "--output-price-per-million",
        ] {
            assert!(help.contains(said), "{said}: {help}");
        }
        for stage in ["ingest", "prompt", "audit", "export"] {
            let help = cmd
                .find_subcommand_mut(stage)
                .unwrap()
                .render_help()
                .to_string();
            assert!(
                help.contains("v1") && help.contains("v2"),
                "{stage} --recipe: {help}"
            );
        }
    }
}
