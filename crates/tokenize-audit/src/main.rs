//! `pricer-audit`: token facts, tokenizer comparison, statistics, charts and a report

pricer_core::global_allocator!();

fn main() -> std::process::ExitCode {
    pricer_tokenize_audit::cli::main()
}
