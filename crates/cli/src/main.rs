//! `pricer`: the one command (crates/cli/README.md).

pricer_core::global_allocator!();

fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(pricer_cli::main(std::env::args_os()))
}
