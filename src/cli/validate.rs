//! `bitwire validate --network NAME [--now UNIX_TIME] [--start-height H] FILE`:
//! validates a file of raw concatenated 80-byte headers with Bitcoin Core's
//! rules and prints one JSON object.
//!
//! Exit status: 0 valid, 1 an invalid header (`{"error", "height", "hash"}`
//! with Core's reason), 2 bad arguments or an unreadable file.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use bitwire::chain::{HeaderTree, Params};
use bitwire::Network;

use super::json::Obj;

const USAGE: &str = "\
USAGE:
    bitwire validate --network NAME [--now UNIX_TIME] [--start-height H] FILE

FILE holds raw concatenated 80-byte headers. Without --start-height it must start
at the network's genesis; with it, the first header is a trusted anchor at height H.
--now is the clock for the 2-hour future-time rule (default: the system clock).
";

struct Args {
    network: Network,
    now: Option<u64>,
    start_height: Option<u32>,
    file: std::path::PathBuf,
}

fn parse(mut p: lexopt::Parser) -> Result<Option<Args>, String> {
    use lexopt::prelude::*;
    let (mut network, mut now, mut start_height, mut file) = (None, None, None, None);
    while let Some(arg) = p.next().map_err(|e| e.to_string())? {
        match arg {
            Long("network") => {
                let v = p.value().map_err(|e| e.to_string())?;
                let s = v.to_str().ok_or("--network: not UTF-8")?;
                network = Some(s.parse::<Network>().map_err(|e| e.to_string())?);
            }
            Long("now") => {
                now =
                    Some(p.value().map_err(|e| e.to_string())?.parse::<u64>().map_err(|e| {
                        format!("--now: expected seconds since the Unix epoch: {e}")
                    })?);
            }
            Long("start-height") => {
                let h = p
                    .value()
                    .map_err(|e| e.to_string())?
                    .parse::<u32>()
                    .map_err(|e| format!("--start-height: expected a block height: {e}"))?;
                if h > i32::MAX as u32 {
                    return Err(format!("--start-height: {h} is above Core's largest height"));
                }
                start_height = Some(h);
            }
            Long("help") | Short('h') => return Ok(None),
            Value(v) if file.is_none() => file = Some(std::path::PathBuf::from(v)),
            other => return Err(other.unexpected().to_string()),
        }
    }
    Ok(Some(Args {
        network: network.ok_or("--network is required")?,
        now,
        start_height,
        file: file.ok_or("FILE is required")?,
    }))
}

/// Runs `bitwire validate` with the arguments after the subcommand name.
pub fn run(args: lexopt::Parser) -> i32 {
    let args = match super::parsed("validate", USAGE, parse(args)) {
        Ok(a) => a,
        Err(code) => return code,
    };
    let bytes = match std::fs::read(&args.file) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("bitwire validate: {}: {e}", args.file.display());
            return 2;
        }
    };
    let headers = match super::headers_from_bytes(&bytes) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("bitwire validate: {}: {e}", args.file.display());
            return 2;
        }
    };
    let now = args.now.unwrap_or_else(|| {
        SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
    });
    let params = Params::for_network(args.network);

    let started = Instant::now();
    let (mut tree, rest, first_height) = match args.start_height {
        Some(h) => (HeaderTree::with_anchor(params, &headers[0], h), &headers[1..], h + 1),
        None => (HeaderTree::new(params), headers, 0),
    };
    tree.reserve(rest.len());
    let result = tree.accept_par(rest, now);
    let elapsed = started.elapsed().as_secs_f64();

    match result {
        Err(rej) => {
            let height = u64::from(first_height) + rej.index as u64;
            eprintln!("bitwire validate: header at height {height}: {}", rej.error.detail());
            println!(
                "{}",
                Obj::new()
                    .str("error", &rej.error.to_string())
                    .u64("height", height)
                    .str("hash", &rej.hash.to_string())
                    .finish()
            );
            1
        }
        Ok(_) => {
            let tip = tree.tip();
            let per_s = if elapsed > 0.0 { headers.len() as f64 / elapsed } else { 0.0 };
            println!(
                "{}",
                Obj::new()
                    .str("network", args.network.name())
                    .u64("headers", headers.len() as u64)
                    .u64("tip_height", u64::from(tip.height))
                    .str("tip_hash", &tip.hash.to_string())
                    .str("chainwork", &tip.chainwork.to_hex())
                    .f64("elapsed_s", elapsed)
                    .f64("headers_per_s", per_s.round())
                    .finish()
            );
            0
        }
    }
}
