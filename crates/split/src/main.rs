//! `pricer-split`: items -> price-balanced sample -> shuffled train/test.

pricer_core::global_allocator!();

fn main() -> std::process::ExitCode {
    pricer_split::cli::main()
}
