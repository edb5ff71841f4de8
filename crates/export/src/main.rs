//! `pricer-export`: split -> Hub-ready Parquet + dataset card, binary items, items table

pricer_core::global_allocator!();

fn main() -> std::process::ExitCode {
    pricer_export::cli::main()
}
