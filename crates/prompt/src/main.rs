//! `pricer-prompt`: v1 candidates -> items (rules 5-7); v2 summaries -> prompt/completion pairs.

pricer_core::global_allocator!();

fn main() -> std::process::ExitCode {
    pricer_prompt::cli::main()
}
