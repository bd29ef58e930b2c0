//! Argument parsing and dispatch to one module per subcommand.

const USAGE: &str = "\
bitwire: Bitcoin's P2P wire protocol and header sync

USAGE:
    bitwire <COMMAND> [OPTIONS]

COMMANDS:
    help        print this message

Run `bitwire <COMMAND> --help` for a command's options.
";

/// Runs the CLI and returns the process exit status.
pub fn run() -> i32 {
    let mut args = std::env::args_os().skip(1);
    let Some(cmd) = args.next() else {
        eprint!("{USAGE}");
        return 2;
    };
    match cmd.to_str() {
        Some("help" | "--help" | "-h") => {
            print!("{USAGE}");
            0
        }
        Some("--version" | "-V") => {
            println!("bitwire {}", env!("CARGO_PKG_VERSION"));
            0
        }
        _ => {
            eprintln!("bitwire: unknown command {cmd:?}\n\n{USAGE}");
            2
        }
    }
}
