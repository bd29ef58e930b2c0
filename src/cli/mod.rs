//! Argument parsing and dispatch to one module per subcommand.
#![allow(dead_code)] // json helpers are used by some subcommands only

mod bench;
mod decode;
mod json;
mod serve;
mod sync;
mod validate;

use bitwire::wire::{BlockHeader, HEADER_SIZE};
use zerocopy::FromBytes;

const USAGE: &str = "\
bitwire: Bitcoin's P2P wire protocol and header sync

USAGE:
    bitwire <COMMAND> [OPTIONS]

COMMANDS:
    decode      decode a raw P2P byte stream into one JSON line per message
    validate    validate a file of raw 80-byte headers with Bitcoin Core's rules
    sync        sync block headers from peers into a data directory
    serve       serve a header chain to any peer that connects
    bench       time hashing, validation and loopback sync on this machine
    help        print this message

Run `bitwire <COMMAND> --help` for a command's options.
";

/// Views raw bytes as headers, without copying: the length must be a non-zero multiple of 80.
pub(crate) fn headers_from_bytes(bytes: &[u8]) -> Result<&[BlockHeader], String> {
    if bytes.is_empty() || !bytes.len().is_multiple_of(HEADER_SIZE) {
        return Err(format!(
            "expected a non-zero multiple of {HEADER_SIZE} bytes of raw headers, found {} bytes",
            bytes.len()
        ));
    }
    // `BlockHeader` is `Unaligned` and 80 bytes, so any multiple of 80 bytes is a slice of them.
    <[BlockHeader]>::ref_from_bytes(bytes).map_err(|_| "not a whole number of headers".to_string())
}

/// A subcommand's parsed arguments, or the exit status when there is nothing to run:
/// 0 after `--help` (usage printed), 2 after a usage error (message and usage on stderr).
pub(crate) fn parsed<A>(
    command: &str,
    usage: &str,
    parsed: Result<Option<A>, String>,
) -> Result<A, i32> {
    match parsed {
        Ok(Some(a)) => Ok(a),
        Ok(None) => {
            print!("{usage}");
            Err(0)
        }
        Err(e) => {
            eprintln!("bitwire {command}: {e}\n\n{usage}");
            Err(2)
        }
    }
}

/// Runs the CLI and returns the process exit status.
pub fn run() -> i32 {
    let mut parser = lexopt::Parser::from_env();
    let cmd = match parser.next() {
        Ok(Some(lexopt::Arg::Value(v))) => v,
        Ok(Some(lexopt::Arg::Long("help") | lexopt::Arg::Short('h'))) => {
            print!("{USAGE}");
            return 0;
        }
        Ok(Some(lexopt::Arg::Long("version") | lexopt::Arg::Short('V'))) => {
            println!("bitwire {}", env!("CARGO_PKG_VERSION"));
            return 0;
        }
        Ok(None) => {
            eprint!("{USAGE}");
            return 2;
        }
        Ok(Some(other)) => {
            eprintln!("bitwire: unexpected {}\n\n{USAGE}", other.unexpected());
            return 2;
        }
        Err(e) => {
            eprintln!("bitwire: {e}");
            return 2;
        }
    };
    match cmd.to_str() {
        Some("decode") => decode::run(parser),
        Some("validate") => validate::run(parser),
        Some("sync") => sync::run(parser),
        Some("serve") => serve::run(parser),
        Some("bench") => bench::run(parser),
        Some("help") => {
            print!("{USAGE}");
            0
        }
        _ => {
            eprintln!("bitwire: unknown command {cmd:?}\n\n{USAGE}");
            2
        }
    }
}
