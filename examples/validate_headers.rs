//! Embedding header consensus: validate a file of raw 80-byte headers with
//! Bitcoin Core's rules, then answer a `getheaders` from the resulting tree.
//!
//! ```sh
//! cargo run --release --example validate_headers [FILE]
//! ```

use bitwire::chain::{HeaderTree, Params};
use bitwire::wire::{BlockHash, BlockHeader, HEADER_SIZE};
use bitwire::Network;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).unwrap_or_else(|| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/corpus/vectors/headers/mainnet_0_39999.bin").into()
    });
    let bytes = std::fs::read(&path)?;
    if bytes.len() % HEADER_SIZE != 0 {
        return Err(
            format!("{path}: {} bytes is not a whole number of headers", bytes.len()).into()
        );
    }
    // Zero-copy: every header is a view into `bytes`.
    let headers: Vec<&BlockHeader> =
        bytes.chunks_exact(HEADER_SIZE).filter_map(BlockHeader::view).collect();

    let params = Params::for_network(Network::Main);
    let mut tree = HeaderTree::new(params);
    // "now" for the time-too-new rule; a real node passes its clock.
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs();
    // The genesis header is the tree's root already; feed the rest in 2000-header batches,
    // as they would arrive in `headers` messages.
    for batch in headers[1..].chunks(2000) {
        if let Err(rejected) = tree.accept(batch.iter().copied(), now) {
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
