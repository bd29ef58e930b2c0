//! Serving `getheaders` allocates nothing once the caller's buffer has held
//! a full answer: `HeaderTree::headers_after_into` (the sync engine's
//! serving path) gives exactly what `headers_after` gives, into a reused
//! buffer. One test per file: the counting allocator is process-wide.

use bitwire::chain::mine::generate_chain;
use bitwire::chain::{HeaderTree, Params};
use bitwire::wire::BlockHash;
use bitwire::Network;

mod support;
use support::Counting;

#[global_allocator]
static GLOBAL: Counting = Counting::new();

#[test]
fn serving_into_a_reused_buffer_allocates_nothing_and_matches() {
    let p = Params::for_network(Network::Regtest);
    let chain = generate_chain(p, &p.genesis(), p.genesis_hash, 9000, 400, 11);
    let mut tree = HeaderTree::new(p);
    tree.accept(&chain, 2_000_000_000).unwrap();
    // Locators a syncing peer sends as it advances 2000 headers at a time.
    let locators: Vec<Vec<BlockHash>> =
        (0..5).map(|k| vec![tree.hash_at(k * 2000).unwrap(), p.genesis_hash]).collect();
    let mut buf = Vec::new();
    tree.headers_after_into(&locators[0], BlockHash::ZERO, 2000, &mut buf); // sizes it
    let before = GLOBAL.allocations();
    let mut served = 0;
    for loc in &locators {
        tree.headers_after_into(loc, BlockHash::ZERO, 2000, &mut buf);
        served += buf.len();
        assert_eq!(buf.first().map(|h| h.prev_hash()), Some(loc[0]));
    }
    let allocs = GLOBAL.allocations() - before;
    assert_eq!(allocs, 0, "{allocs} allocations serving {served} headers");
    assert_eq!(served, 4 * 2000 + 1000);
    // The same answers as the allocating form, the stop hash and max included.
    for loc in &locators {
        for (stop, max) in
            [(BlockHash::ZERO, 2000), (tree.hash_at(4100).unwrap(), 2000), (BlockHash::ZERO, 7)]
        {
            tree.headers_after_into(loc, stop, max, &mut buf);
            assert_eq!(buf, tree.headers_after(loc, stop, max));
        }
    }
}
