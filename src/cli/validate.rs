//! `bitwire validate` (not built yet).

/// Runs `bitwire validate` with the arguments after the subcommand name.
pub fn run(_args: lexopt::Parser) -> i32 {
    eprintln!("bitwire validate: not built yet");
    2
}
