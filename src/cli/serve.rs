//! `bitwire serve` (not built yet).

/// Runs `bitwire serve` with the arguments after the subcommand name.
pub fn run(_args: lexopt::Parser) -> i32 {
    eprintln!("bitwire serve: not built yet");
    2
}
