//! `pricer-ingest`: raw metadata files -> candidates, rejects and a manifest.

pricer_core::global_allocator!();

fn main() -> std::process::ExitCode {
    pricer_ingest::cli::main()
}
