//! `pricer-eval`: scores price predictors on a test split as the course does

pricer_core::global_allocator!();

fn main() -> std::process::ExitCode {
    pricer_eval::cli::main()
}
