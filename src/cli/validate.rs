//! `bitwire validate --network NAME [--now UNIX_TIME] [--start-height H] FILE`:
//! validates a file of raw concatenated 80-byte headers with Bitcoin Core's
//! rules and prints one JSON object.
//!
//! Exit status: 0 valid, 1 an invalid header (`{"error", "height", "hash"}`
//! with Core's reason), 2 bad arguments or an unreadable file.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use bitwire::chain::{ChainWindow, HeaderError, HeaderRejection, HeaderTree, Params, Tip};
use bitwire::wire::BlockHeader;
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

/// Validates `headers` (the first at `start_height` as a trusted anchor, or
/// genesis): the best tip, or the first invalid header and its height.
///
/// A file that is one chain, each header the child of the one before (what
/// a file of headers nearly always is), is checked by a [`ChainWindow`]:
/// every rule, nothing stored, so a header costs its hash and a few compares.
/// Any other file (a fork, a header repeated, no genesis first) goes to a
/// [`HeaderTree`] from the start, which takes parents before children in any
/// order and skips known headers, as Core does; on a chain both give the same
/// answer (`tests/chain_window.rs`, and the `chain_rules` fuzz target).
fn check(
    params: &Params,
    headers: &[BlockHeader],
    start_height: Option<u32>,
    now: u64,
) -> Result<Tip, (u64, HeaderRejection)> {
    let window = match start_height {
        Some(h) => Some((ChainWindow::with_anchor(params, &headers[0], h), h)),
        None if headers[0].block_hash() == params.genesis_hash => {
            Some((ChainWindow::new(params), 0))
        }
        None => None,
    };
    if let Some((mut window, root_height)) = window {
        match window.extend_par(&headers[1..], now) {
            Ok(_) => {
                return Ok(Tip {
                    hash: window.tip_hash(),
                    height: window.tip_height(),
                    chainwork: window.chainwork(),
                })
            }
            Err(rej) if !matches!(rej.error, HeaderError::PrevBlkNotFound { .. }) => {
                return Err((u64::from(root_height) + 1 + rej.index as u64, rej))
            }
            Err(_) => {} // not one chain: the tree decides
        }
    }
    let (mut tree, rest, first_height) = match start_height {
        Some(h) => (HeaderTree::with_anchor(params, &headers[0], h), &headers[1..], h + 1),
        None => (HeaderTree::new(params), headers, 0),
    };
    tree.reserve(rest.len());
    match tree.accept_par(rest, now) {
        Ok(_) => Ok(tree.tip()),
        Err(rej) => {
            // Its parent's height plus one when the tree has the parent;
            // otherwise (prev-blk-not-found) where it would be in a chain.
            let height = tree
                .height_of(&rest[rej.index].prev_hash())
                .map_or(u64::from(first_height) + rej.index as u64, |h| u64::from(h) + 1);
            Err((height, rej))
        }
    }
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
    let result = check(params, headers, args.start_height, now);
    let elapsed = started.elapsed().as_secs_f64();

    match result {
        Err((height, rej)) => {
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
        Ok(tip) => {
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
