//! The `bitwire` command-line tool: a thin user of the library's public API.
//! This file and `cli/` are the only places that print to the terminal.

mod cli;

fn main() {
    std::process::exit(cli::run());
}
