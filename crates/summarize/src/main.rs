//! `pricer-summarize`: curated items -> items with LLM summaries (or published ones).

pricer_core::global_allocator!();

fn main() -> std::process::ExitCode {
    pricer_summarize::cli::main()
}
