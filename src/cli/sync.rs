//! `bitwire sync` (not built yet).

/// Runs `bitwire sync` with the arguments after the subcommand name.
pub fn run(_args: lexopt::Parser) -> i32 {
    eprintln!("bitwire sync: not built yet");
    2
}
