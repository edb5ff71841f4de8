//! The command line of `pricer-merge`, which the `pricer` command also carries as a subcommand: the shards of one stage -> the one-machine output of that stage.

use std::path::PathBuf;

use anyhow::Result;
use clap::Parser;
use pricer_core::obs;

/// Join shard folders written with `--shard i/N` (all N of them, any order) into the
/// folder the one-machine run writes: identical artifacts and rejects, and a manifest
/// with the same fingerprint plus a per-shard summary.
#[derive(Parser, Debug)]
#[command(version, about, long_about = None)]
pub struct Args {
    /// The shard folders of one stage.
    #[arg(required = true)]
    shards: Vec<PathBuf>,
    /// The merged folder to write.
    #[arg(long, short)]
    out: PathBuf,
    /// For a stage that read an earlier sharded stage (prompt): that stage's merged
    /// folder, which becomes the merged run's input.
    #[arg(long)]
    upstream: Option<PathBuf>,
}

/// Runs the command as parsed.
pub fn run(args: Args) -> Result<()> {
    let m = crate::merge(&args.shards, &args.out, args.upstream.as_deref())?;
    println!(
        "merge: {} {} shards -> {} ({} rows in, {} kept, {} rejected) in {:.1} s",
        args.shards.len(),
        m.stage,
        args.out.display(),
        obs::thousands(m.counts.rows_in),
        obs::thousands(m.counts.kept),
        obs::thousands(m.counts.rejected),
        m.wall_seconds
    );
    Ok(())
}

/// The binary's main: logging, the command line, the run; errors as `pricer_core::cli`
/// prints them.
pub fn main() -> std::process::ExitCode {
    use clap::Parser;
    pricer_core::obs::init_tracing();
    pricer_core::cli::exit(run(Args::parse()))
}
