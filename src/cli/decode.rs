//! `bitwire decode` (not built yet).

/// Runs `bitwire decode` with the arguments after the subcommand name.
pub fn run(_args: lexopt::Parser) -> i32 {
    eprintln!("bitwire decode: not built yet");
    2
}
