//! `pricer-merge`: the shards of one stage -> the one-machine output of that stage.

pricer_core::global_allocator!();

fn main() -> std::process::ExitCode {
    pricer_merge::cli::main()
}
