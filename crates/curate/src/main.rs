//! `pricer-curate`: items_raw -> dedupe -> weighted draw -> train / validation / test.

pricer_core::global_allocator!();

fn main() -> std::process::ExitCode {
    pricer_curate::cli::main()
}
