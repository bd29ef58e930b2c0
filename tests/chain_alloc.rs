//! The validation hot path allocates nothing: with the tree reserved for the
//! batch and the hashes computed into a caller-owned buffer,
//! `HeaderTree::accept_hashed` over 2,000 real mainnet headers (a full
//! `headers` message) makes no heap allocation. Also the rejection path.

use bitwire::chain::{HeaderTree, Params};
use bitwire::pow::hash_headers;
use bitwire::wire::BlockHeader;
use bitwire::Network;

mod support;
use support::Counting;

#[global_allocator]
static GLOBAL: Counting = Counting::new();

#[test]
fn accept_hashed_allocates_nothing_once_reserved() {
    let path = format!("{}/corpus/vectors/headers/mainnet_0_39999.bin", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(path).unwrap();
    let chain: Vec<BlockHeader> =
        bytes.chunks_exact(80).map(|c| *BlockHeader::view(c).unwrap()).collect();
    let mut tree = HeaderTree::new(Params::for_network(Network::Main));
    tree.accept(&chain[1..31_000], 2_000_000_000).unwrap();
    // The next message: 2000 headers crossing the 32256 retarget.
    let batch = &chain[31_000..33_000];
    let mut hashes = Vec::with_capacity(batch.len());
    hash_headers(batch, &mut hashes);
    tree.reserve(batch.len());

    let before = GLOBAL.allocations();
    let acc = tree.accept_hashed(batch, &hashes, 2_000_000_000).unwrap();
    let during = GLOBAL.allocations() - before;
    assert_eq!(acc.new, 2000);
    assert_eq!(during, 0, "allocations while accepting 2000 headers");

    // A rejected batch allocates nothing either.
    let mut bad = chain[33_000..33_010].to_vec();
    bad[5].nonce = 0.into();
    let mut hashes = Vec::with_capacity(bad.len());
    hash_headers(&bad, &mut hashes);
    tree.reserve(bad.len());
    let before = GLOBAL.allocations();
    let rej = tree.accept_hashed(&bad, &hashes, 2_000_000_000).unwrap_err();
    assert_eq!(GLOBAL.allocations() - before, 0);
    assert_eq!((rej.index, rej.error.reason()), (5, "high-hash"));
}
