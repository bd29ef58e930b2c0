//! `ChainWindow` as a validator of whole chains (what `bitwire validate`
//! runs): the same verdict as the `HeaderTree` on real chains of every
//! network, and the same rejection, at the same index, for a header that
//! breaks any rule anywhere (inside a chunk, on a chunk's edge, at a
//! retarget boundary), on one thread and on two.

use bitwire::chain::mine::{generate_chain, mine, mine_chain};
use bitwire::chain::{ChainWindow, HeaderTree, Params, PAR_CHUNK_HEADERS};
use bitwire::pow::CompactTarget;
use bitwire::wire::{BlockHeader, HEADER_SIZE};
use bitwire::Network;
use zerocopy::little_endian::{I32, U32};

/// A clock after every header used here.
const NOW: u64 = 2_000_000_000;

fn real(name: &str) -> Vec<BlockHeader> {
    let path = format!("{}/corpus/vectors/headers/{name}.bin", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(&path).unwrap();
    bytes.chunks_exact(HEADER_SIZE).map(|c| *BlockHeader::view(c).unwrap()).collect()
}

/// The tree's and the window's verdicts on `headers` after genesis, on 1
/// and 2 threads, must be the same; returns the tree's.
fn both(params: &Params, headers: &[BlockHeader], now: u64) -> Result<usize, (usize, String)> {
    let mut tree = HeaderTree::new(params);
    let by_tree = tree.accept_par_threads(headers, now, 1);
    for threads in [1, 2] {
        let mut window = ChainWindow::new(params);
        let by_window = window.extend_par_threads(headers, now, threads);
        match (&by_tree, &by_window) {
            (Ok(acc), Ok(n)) => assert_eq!(acc.new, *n),
            (Err(a), Err(b)) => {
                assert_eq!((a.index, a.error, a.hash), (b.index, b.error, b.hash), "{threads}");
                assert_eq!(a.accepted.new, b.accepted.new, "{threads} threads");
            }
            _ => panic!("{threads} threads: tree {by_tree:?}, window {by_window:?}"),
        }
        // The valid prefix is the window's chain either way.
        assert_eq!(window.tip_hash(), tree.tip().hash, "{threads} threads");
        assert_eq!(window.tip_height(), tree.tip().height, "{threads} threads");
        assert_eq!(window.chainwork(), tree.tip().chainwork, "{threads} threads");
    }
    by_tree.map(|acc| acc.new).map_err(|rej| (rej.index, rej.error.to_string()))
}

#[test]
fn real_chains_of_every_network_validate_as_in_the_tree() {
    for (name, network) in [
        ("mainnet_0_39999", Network::Main),
        ("testnet3_0_9999", Network::Testnet3),
        ("signet_0_2016", Network::Signet),
        ("testnet4_0_30", Network::Testnet4),
    ] {
        let chain = real(name);
        let params = Params::for_network(network);
        assert_eq!(chain[0].block_hash(), params.genesis_hash, "{name}");
        assert_eq!(both(params, &chain[1..], NOW), Ok(chain.len() - 1), "{name}");
    }
}

#[test]
fn an_anchored_window_skips_what_lies_below_its_anchor_as_the_tree_does() {
    let chain = real("mainnet_0_39999");
    let main = Params::for_network(Network::Main);
    // Anchored one below a retarget boundary (32256): the new target needs
    // the period's first block, below the anchor, so neither checks it.
    let mut tree = HeaderTree::with_anchor(main, &chain[32255], 32255);
    let mut window = ChainWindow::with_anchor(main, &chain[32255], 32255);
    let acc = tree.accept_par_threads(&chain[32256..], NOW, 1).unwrap();
    assert_eq!(window.extend_par_threads(&chain[32256..], NOW, 2), Ok(acc.new));
    assert_eq!((window.tip_hash(), window.chainwork()), (tree.tip().hash, tree.tip().chainwork));
}

/// A regtest chain of `len` headers with realistic (out-of-order) times,
/// then header `at` replaced by `bad(header)` re-mined, and the rest mined on
/// top of it so that every link holds: only the rule `bad` breaks can stop
/// the chain, at `at`.
fn broken_regtest_chain(len: usize, at: usize, bad: impl Fn(&mut BlockHeader)) -> Vec<BlockHeader> {
    let p = Params::for_network(Network::Regtest);
    let mut chain = generate_chain(p, &p.genesis(), p.genesis_hash, at, 600, 7);
    let mut h = generate_chain(p, &chain[at - 1], chain[at - 1].block_hash(), 1, 600, 8)[0];
    bad(&mut h);
    if mine(&mut h, 1 << 20).is_none() {
        // An nBits with no valid target cannot be mined: leave it as is.
        h.nonce = U32::new(0);
    }
    chain.push(h);
    chain.extend(mine_chain(p, &h, len - at - 1, 600, 9));
    chain
}

/// A change to a header that breaks one rule.
type Break = fn(&mut BlockHeader);

#[test]
fn a_header_breaking_any_rule_anywhere_is_rejected_as_the_tree_rejects_it() {
    let p = Params::for_network(Network::Regtest);
    let len = 3 * PAR_CHUNK_HEADERS + 100;
    // Inside a chunk, first and last of a chunk, at and after a retarget
    // boundary (regtest does not retarget, but the window's quick path stops
    // there), near the start (fewer than 11 times for the median).
    let places =
        [5, 1000, PAR_CHUNK_HEADERS - 1, PAR_CHUNK_HEADERS, 2016, 2017, 2 * PAR_CHUNK_HEADERS + 7];
    let breaks: [(&str, Break); 5] = [
        ("bad-diffbits", |h| h.bits = U32::new(0x1f7f_ffff)),
        ("high-hash", |h| h.bits = U32::new(0x2180_0000)),
        ("time-too-old", |h| h.time = U32::new(1)),
        ("time-too-new", |h| h.time = U32::new((NOW + 2 * 60 * 60 + 1) as u32)),
        ("bad-version(0x00000003)", |h| h.version = I32::new(3)),
    ];
    for at in places {
        for (reason, bad) in breaks {
            let chain = broken_regtest_chain(len, at, bad);
            assert_eq!(both(p, &chain, NOW), Err((at, reason.to_string())), "{reason} at {at}");
        }
    }
    // A header whose parent is not the one before it.
    let mut chain = generate_chain(p, &p.genesis(), p.genesis_hash, len, 600, 3);
    chain.swap(3000, 3001);
    assert_eq!(both(p, &chain, NOW).map_err(|e| e.0), Err(3000));
}

#[test]
fn a_time_below_the_running_maximum_but_after_the_median_is_valid() {
    // The quick path answers the median rule from a running maximum first;
    // a header older than its parent (a sixth of the generated ones) must
    // still be taken, and exactly when the tree takes it.
    let p = Params::for_network(Network::Regtest);
    let chain = generate_chain(p, &p.genesis(), p.genesis_hash, 5000, 600, 11);
    let older = chain.windows(2).filter(|w| w[1].time() < w[0].time()).count();
    assert!(older > 500, "{older} headers older than their parent");
    assert_eq!(both(p, &chain, NOW), Ok(5000));
    // Exactly at the median: rejected, with the median in the error.
    let mut bad = chain[..100].to_vec();
    let mut times: Vec<u32> = bad[89..100].iter().map(|h| h.time()).collect();
    times.sort_unstable();
    let mut h = mine_chain(p, &bad[99], 1, 600, 1)[0];
    h.time = U32::new(times[5]);
    mine(&mut h, 1 << 20).unwrap();
    bad.push(h);
    assert_eq!(both(p, &bad, NOW), Err((100, "time-too-old".into())));
    // The same bits at another difficulty is not the required nBits.
    let mut h = mine_chain(p, &chain[99], 1, 600, 1)[0];
    h.bits = U32::new(CompactTarget(0x207f_fffe).to_consensus());
    mine(&mut h, 1 << 20).unwrap();
    let mut bad = chain[..100].to_vec();
    bad.push(h);
    assert_eq!(both(p, &bad, NOW), Err((100, "bad-diffbits".into())));
}

#[test]
fn testnets_twenty_minute_rule_is_decided_as_the_tree_decides_it() {
    // Regtest allows min-difficulty blocks (Core's 20-minute rule) and does
    // not retarget. From an anchor at a boundary with nBits harder than the
    // minimum, a header must carry the anchor's nBits, unless it comes more
    // than 20 minutes after its parent: then the minimum.
    use bitwire::chain::mine::mine_child;
    let p = Params::for_network(Network::Regtest);
    let (harder, limit) = (CompactTarget(0x207f_fffe), p.pow_limit_bits());
    let mut anchor = p.genesis();
    anchor.bits = U32::new(harder.to_consensus());
    anchor.time = U32::new(1_600_000_000);
    let child = |parent: &BlockHeader, gap: u32, bits: CompactTarget, tag: u8| {
        mine_child(parent, 4, gap, bits, [tag; 32]).expect("minable")
    };
    // 60 headers: every fifth more than 20 minutes late at the minimum.
    let mut chain = vec![anchor];
    for i in 0..60u8 {
        let late = i % 5 == 4;
        let (gap, bits) = if late { (1201 + u32::from(i), limit) } else { (300, harder) };
        chain.push(child(chain.last().unwrap(), gap, bits, i));
    }
    let check = |headers: &[BlockHeader]| {
        let mut tree = HeaderTree::with_anchor(p, &headers[0], 4032);
        let by_tree = tree.accept_par_threads(&headers[1..], NOW, 1);
        let mut window = ChainWindow::with_anchor(p, &headers[0], 4032);
        let by_window = window.extend_par_threads(&headers[1..], NOW, 1);
        match (&by_tree, &by_window) {
            (Ok(acc), Ok(n)) => assert_eq!(acc.new, *n),
            (Err(a), Err(b)) => assert_eq!((a.index, a.error), (b.index, b.error)),
            _ => panic!("tree {by_tree:?}, window {by_window:?}"),
        }
        assert_eq!(
            (window.tip_hash(), window.chainwork()),
            (tree.tip().hash, tree.tip().chainwork)
        );
        by_tree.map(|acc| acc.new).map_err(|rej| (rej.index, rej.error.to_string()))
    };
    assert_eq!(check(&chain), Ok(60));
    // At 40 (after 11 kept, so on the quick path): each wrong choice.
    let parent = chain[40];
    for (gap, bits, why) in [
        (300, limit, "the minimum, on time"),
        (1200, limit, "the minimum, exactly 20 minutes late"),
        (1201, harder, "the harder bits, late"),
    ] {
        let mut bad = chain[..41].to_vec();
        bad.push(child(&parent, gap, bits, 99));
        bad.push(child(bad.last().unwrap(), 300, harder, 98));
        assert_eq!(check(&bad), Err((40, "bad-diffbits".into())), "{why}");
    }
    // The right choices there are taken.
    for (gap, bits) in [(1200, harder), (1201, limit)] {
        let mut good = chain[..41].to_vec();
        good.push(child(&parent, gap, bits, 97));
        good.push(child(good.last().unwrap(), 300, harder, 96));
        assert_eq!(check(&good), Ok(42));
    }
}
