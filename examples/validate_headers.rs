//! Embedding header consensus: check a file of raw 80-byte headers with
//! Bitcoin Core's rules in fixed memory (`ChainWindow`, what `bitwire
//! validate` does), then build the header tree from it and answer a
//! `getheaders` (what a node that serves headers keeps).
//!
//! ```sh
//! cargo run --release --example validate_headers [FILE]
//! ```

use bitwire::chain::{ChainWindow, HeaderTree, Params};
use bitwire::wire::{BlockHash, BlockHeader, HEADER_SIZE};
use bitwire::Network;
use zerocopy::FromBytes;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).unwrap_or_else(|| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/corpus/vectors/headers/mainnet_0_39999.bin").into()
    });
    let bytes = std::fs::read(&path)?;
    // Zero-copy: the file's bytes as a slice of headers (80 bytes each, no
    // alignment needed).
    let headers = <[BlockHeader]>::ref_from_bytes(&bytes).map_err(|_| {
        format!("{path}: {} bytes is not a whole number of {HEADER_SIZE}-byte headers", bytes.len())
    })?;
    if headers.is_empty() {
        return Err(format!("{path}: no headers").into());
    }

    let params = Params::for_network(Network::Main);
    // "now" for the time-too-new rule; a real node passes its clock.
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs();

    // Only checking: every rule over the last 2016 headers, nothing stored,
    // hashing on every core. The file must be one chain from genesis.
    let mut window = ChainWindow::new(params);
    match window.extend_par(&headers[1..], now) {
        Ok(n) => println!(
            "checked {n} headers: tip {} at height {}",
            window.tip_hash(),
            window.tip_height()
        ),
        Err(rejected) => {
            return Err(format!("header {} rejected: {}", rejected.hash, rejected.error).into())
        }
    }

    // Keeping them: the tree holds every header (forks too) with its chainwork.
    let mut tree = HeaderTree::new(params);
    // The genesis header is the tree's root already; feed the rest in 2000-header batches,
    // as they would arrive in `headers` messages.
    for batch in headers[1..].chunks(2000) {
        if let Err(rejected) = tree.accept(batch, now) {
            return Err(format!(
                "header {} rejected: {} ({})",
                rejected.hash,
                rejected.error,
                rejected.error.detail()
            )
            .into());
        }
    }
    let tip = tree.tip();
    println!("tip {} at height {}, chainwork {:x}", tip.hash, tip.height, tip.chainwork);

    // Serve a peer that knows the first 100 blocks: the next headers after its locator.
    let theirs = [tree.hash_at(99).expect("height 99 is in the tree")];
    let reply = tree.headers_after(&theirs, BlockHash::ZERO, 2000);
    println!("a peer at height 99 gets {} headers, first {}", reply.len(), reply[0].block_hash());
    Ok(())
}
