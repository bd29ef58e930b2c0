//! The header tree through its public API: real chains, forks and reorgs,
//! Core's locator and getheaders answers, memory per header, and a property
//! test of its invariants over random fork-and-extend sequences.

use bitwire::chain::fuzzing::{check_invariants, tree_ops};
use bitwire::chain::mine::{mine_chain, mine_child};
use bitwire::chain::{HeaderTree, Params};
use bitwire::pow::{work_from_bits, CompactTarget};
use bitwire::wire::{BlockHash, BlockHeader};
use bitwire::Network;
use proptest::prelude::*;

fn real(name: &str) -> Vec<BlockHeader> {
    let path = format!("{}/corpus/vectors/headers/{name}.bin", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(path).unwrap().chunks_exact(80).map(|c| *BlockHeader::view(c).unwrap()).collect()
}

const NOW: u64 = 2_000_000_000;

fn mainnet_tree() -> (HeaderTree, Vec<BlockHeader>) {
    let chain = real("mainnet_0_39999");
    let mut tree = HeaderTree::new(Params::for_network(Network::Main));
    for batch in chain.chunks(2000) {
        tree.accept(batch, NOW).unwrap();
    }
    (tree, chain)
}

#[test]
fn entry_size_and_memory_per_header() {
    assert_eq!(HeaderTree::ENTRY_BYTES, 120);
    // Grown by doubling: capacity slack included.
    let (tree, chain) = mainnet_tree();
    assert_eq!(tree.len(), 40_000);
    let grown = tree.heap_bytes() / tree.len();
    assert!(grown < 340, "{grown} bytes per header");
    // Reserved for its size, as the store's loader does.
    let mut tree = HeaderTree::new(Params::for_network(Network::Main));
    tree.reserve(chain.len());
    tree.accept(&chain, NOW).unwrap();
    let reserved = tree.heap_bytes() / tree.len();
    assert!(reserved < 200, "{reserved} bytes per header");
    eprintln!("tree memory: {reserved} B/header reserved, {grown} B/header grown");
}

#[test]
fn real_chain_heights_headers_and_chainwork() {
    let (tree, chain) = mainnet_tree();
    let tip = tree.tip();
    assert_eq!(tip.height, 39_999);
    assert_eq!(tip.hash, chain[39_999].block_hash());
    for h in [0usize, 1, 2015, 2016, 32_256, 39_999] {
        let hash = chain[h].block_hash();
        assert_eq!(tree.height_of(&hash), Some(h as u32));
        assert_eq!(tree.header_at(h as u32), Some(chain[h]));
        assert_eq!(tree.hash_at(h as u32), Some(hash));
        let info = tree.get(&hash).unwrap();
        assert_eq!(info.header, chain[h]);
        assert!(info.in_best_chain);
    }
    let sum = chain
        .iter()
        .fold(bitwire::pow::U256::ZERO, |acc, h| acc.wrapping_add(&work_from_bits(h.bits())));
    assert_eq!(tip.chainwork, sum);
    assert_eq!(tree.header_at(40_000), None);
    assert_eq!(tree.get(&BlockHash([9; 32])), None);
}

#[test]
fn locator_is_cores_exponential_step_back() {
    let (tree, chain) = mainnet_tree();
    let loc = tree.locator();
    let mut want = Vec::new();
    let (mut h, mut step) = (39_999i64, 1i64);
    loop {
        want.push(chain[h as usize].block_hash());
        if h == 0 {
            break;
        }
        h = (h - step).max(0);
        if want.len() > 10 {
            step *= 2;
        }
    }
    assert_eq!(loc, want);
    assert_eq!(&loc[..11], &(0..11).map(|i| chain[39_999 - i].block_hash()).collect::<Vec<_>>());
    assert_eq!(loc.last(), Some(&chain[0].block_hash()));
}

#[test]
fn headers_after_answers_getheaders_like_core() {
    let (tree, chain) = mainnet_tree();
    let hash = |i: usize| chain[i].block_hash();
    // From the first locator entry on the best chain, at most `max`.
    let got = tree.headers_after(&[BlockHash([1; 32]), hash(100), hash(5)], BlockHash::ZERO, 2000);
    assert_eq!(got.len(), 2000);
    assert_eq!(got[0], chain[101]);
    assert_eq!(got[1999], chain[2100]);
    // Up to and including the stop hash.
    let got = tree.headers_after(&[hash(100)], hash(110), 2000);
    assert_eq!(got, chain[101..=110].to_vec());
    // No locator entry known: after genesis.
    let got = tree.headers_after(&[BlockHash([1; 32])], BlockHash::ZERO, 3);
    assert_eq!(got, chain[1..4].to_vec());
    // Near the tip: what there is.
    assert_eq!(tree.headers_after(&[hash(39_990)], BlockHash::ZERO, 2000).len(), 9);
    assert!(tree.headers_after(&tree.locator(), BlockHash::ZERO, 2000).is_empty());
    // An empty locator asks for the stop header alone.
    assert_eq!(tree.headers_after(&[], hash(7), 2000), vec![chain[7]]);
    assert!(tree.headers_after(&[], BlockHash([1; 32]), 2000).is_empty());
    assert!(tree.headers_after(&[hash(1)], BlockHash::ZERO, 0).is_empty());
}

#[test]
fn testnet3_core_fork_is_kept_beside_the_best_chain_and_reorgs() {
    let t3 = Params::for_network(Network::Testnet3);
    let chain = real("testnet3_0_9999");
    let fork = real("testnet3_core_fork_1_2");
    assert_eq!(fork[0].prev_hash(), t3.genesis_hash);

    // The fork first: it is the best chain until the real chain outgrows it.
    let mut tree = HeaderTree::new(t3);
    let acc = tree.accept(&fork, NOW).unwrap();
    assert_eq!((acc.new, acc.best_tip_changed, acc.reorg_height), (2, true, None));
    assert_eq!(tree.tip().hash, fork[1].block_hash());
    // Real 1..2: equal work, first seen stays best (Core's m_best_header).
    let acc = tree.accept(&chain[1..3], NOW).unwrap();
    assert_eq!((acc.new, acc.best_tip_changed), (2, false));
    assert_eq!(tree.tip().hash, fork[1].block_hash());
    // Real 3: more work, reorg from height 1.
    let acc = tree.accept(&chain[3..], NOW).unwrap();
    assert_eq!(acc.reorg_height, Some(1));
    assert!(acc.best_tip_changed);
    assert_eq!(tree.tip().hash, chain[9999].block_hash());
    let f = tree.get(&fork[1].block_hash()).unwrap();
    assert_eq!((f.height, f.in_best_chain), (2, false));
    assert_eq!(tree.hash_at(1), Some(chain[1].block_hash()));

    // Real chain first: the fork is stored on the side, no reorg.
    let mut tree = HeaderTree::new(t3);
    tree.accept(&chain, NOW).unwrap();
    let acc = tree.accept(&fork, NOW).unwrap();
    assert_eq!((acc.new, acc.best_tip_changed, acc.reorg_height), (2, false, None));
    assert_eq!(tree.len(), 10_002);
    assert_eq!(tree.height_of(&fork[0].block_hash()), Some(1));
}

#[test]
fn regtest_forks_reorg_to_most_work_and_back() {
    let p = Params::for_network(Network::Regtest).clone();
    let g = p.genesis();
    let a = mine_chain(&p, &g, 5, 600, 1);
    let b = mine_chain(&p, &a[1], 5, 600, 2); // forks at height 2, reaches 7
    let mut tree = HeaderTree::new(&p);
    tree.accept(&a, NOW).unwrap();
    let acc = tree.accept(&b[..3], NOW).unwrap(); // height 5: a tie, a stays
    assert!(!acc.best_tip_changed);
    assert_eq!(tree.tip().hash, a[4].block_hash());
    let acc = tree.accept(&b[3..], NOW).unwrap();
    assert_eq!(acc.reorg_height, Some(3));
    assert_eq!(tree.tip().height, 7);
    assert_eq!(tree.hash_at(3), Some(b[0].block_hash()));
    assert!(!tree.get(&a[4].block_hash()).unwrap().in_best_chain);
    // Extend a past b: back again.
    let a2 = mine_chain(&p, &a[4], 3, 600, 3);
    let acc = tree.accept(&a2, NOW).unwrap();
    assert_eq!(acc.reorg_height, Some(3));
    assert_eq!(tree.tip().hash, a2[2].block_hash());
    assert_eq!(tree.header_at(5), Some(a[4]));
    let mut known = vec![(g, p.genesis_hash)];
    for h in a.iter().chain(&b).chain(&a2) {
        known.push((*h, h.block_hash()));
    }
    check_invariants(&tree, &known);
}

#[test]
fn inserted_since_yields_new_headers_in_order() {
    let p = Params::for_network(Network::Regtest);
    let chain = mine_chain(p, &p.genesis(), 10, 600, 0);
    let mut tree = HeaderTree::new(p);
    tree.accept(&chain[..4], NOW).unwrap();
    let mark = tree.len();
    tree.accept(&chain, NOW).unwrap();
    assert_eq!(tree.inserted_since(mark).collect::<Vec<_>>(), chain[4..].to_vec());
    assert_eq!(tree.inserted_since(usize::MAX).count(), 0);
}

#[test]
fn replays_every_chain_tree_fuzz_seed() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/chain_tree");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).expect("corpus/chain_tree exists") {
        let data = std::fs::read(entry.unwrap().path()).unwrap();
        tree_ops(&data);
        n += 1;
    }
    assert!(n >= 3, "seeds in {}", dir.display());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Random forks and extensions, each a mined regtest header: after every
    /// batch the best tip has the most work (first seen on ties), the locator
    /// resolves on the best chain, and getheaders from genesis is linked.
    #[test]
    fn tree_invariants_hold(ops in proptest::collection::vec((any::<u8>(), 1u32..2000, any::<bool>()), 1..120)) {
        let p = Params::for_network(Network::Regtest);
        let mut tree = HeaderTree::new(p);
        let mut known: Vec<(BlockHeader, BlockHash)> = vec![(p.genesis(), p.genesis_hash)];
        let mut batch: Vec<BlockHeader> = Vec::new();
        for (i, (pick, spacing, flush)) in ops.into_iter().enumerate() {
            let parent = if pick < 160 {
                batch.last().copied().unwrap_or(known[known.len() - 1].0)
            } else {
                known[usize::from(pick) * known.len() / 256].0
            };
            let mut root = [0u8; 32];
            root[..8].copy_from_slice(&(i as u64).to_le_bytes());
            let h = mine_child(&parent, 4, spacing, CompactTarget(0x207fffff), root).unwrap();
            batch.push(h);
            if flush {
                let mark = tree.len();
                // Headers may be rejected (time-too-old after a fork far back):
                // the valid prefix stays, as in Core.
                let _ = tree.accept(&batch, NOW);
                for h in tree.inserted_since(mark) {
                    known.push((h, h.block_hash()));
                }
                batch.clear();
                check_invariants(&tree, &known);
            }
        }
    }
}

#[test]
fn chain_window_checks_like_the_tree_in_fixed_memory() {
    use bitwire::chain::ChainWindow;
    let chain = real("mainnet_0_39999");
    let main = Params::for_network(Network::Main);
    let mut tree = HeaderTree::new(main);
    tree.accept(&chain[1..3000], NOW).unwrap();
    let mut w = ChainWindow::from_tree(&tree, &chain[2999].block_hash()).unwrap();
    assert_eq!(w.tip_height(), 2999);
    // 37,000 headers with 18 retargets, through a 2016-header window.
    for batch in chain[3000..].chunks(2000) {
        assert_eq!(w.extend(batch, NOW).unwrap(), batch.len());
    }
    tree.accept(&chain[3000..], NOW).unwrap();
    assert_eq!(w.tip_hash(), tree.tip().hash);
    assert_eq!(w.chainwork(), tree.tip().chainwork);
    // The same rejection as the tree for a wrong nBits at a retarget, out of
    // its context (anchored off by one, as in chain_rules.rs).
    let mut off = HeaderTree::with_anchor(main, &chain[32255], 32256);
    off.accept(&chain[32255..32256], NOW).unwrap();
    let mut w = ChainWindow::from_tree(&off, &chain[32255].block_hash()).unwrap();
    let rej = w.extend(&chain[32256..32257], NOW).unwrap_err();
    assert_eq!(rej.error.to_string(), "bad-diffbits");
    // Not a continuation of the tip.
    let mut w = ChainWindow::from_tree(&tree, &chain[100].block_hash()).unwrap();
    let rej = w.extend(&chain[200..201], NOW).unwrap_err();
    assert_eq!((rej.index, rej.error.reason()), (0, "prev-blk-not-found"));
    assert!(ChainWindow::from_tree(&tree, &BlockHash([3; 32])).is_none());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Feeding a real chain (testnet3, with its 20-minute blocks and
    /// retargets) in any split into batches, with repeats, gives the same tree.
    #[test]
    fn batch_splits_do_not_change_the_result(cuts in proptest::collection::vec(1usize..600, 1..40)) {
        let chain = real("testnet3_0_9999");
        let t3 = Params::for_network(Network::Testnet3);
        let mut whole = HeaderTree::new(t3);
        whole.accept(&chain[..4100], NOW).unwrap();
        let mut split = HeaderTree::new(t3);
        let mut at = 0;
        for c in cuts.iter().cycle() {
            if at >= 4100 {
                break;
            }
            let end = (at + c).min(4100);
            // Each batch starts a little before the last one ended: repeats are skipped.
            split.accept(&chain[at.saturating_sub(c % 7)..end], NOW).unwrap();
            at = end;
        }
        prop_assert_eq!(split.tip(), whole.tip());
        prop_assert_eq!(split.len(), whole.len());
        prop_assert_eq!(split.locator(), whole.locator());
    }
}

#[test]
fn accepts_headers_borrowed_from_a_headers_message_layout() {
    // A `headers` payload stores 81-byte records (header + tx count 0): the
    // tree takes the borrowed headers through an iterator, without copying.
    let chain = real("mainnet_0_39999");
    let mut payload = Vec::new();
    for h in &chain[1..2001] {
        payload.extend_from_slice(h.bytes());
        payload.push(0);
    }
    let view = payload.chunks_exact(81).map(|r| BlockHeader::view(&r[..80]).unwrap());
    let mut tree = HeaderTree::new(Params::for_network(Network::Main));
    let acc = tree.accept(view, NOW).unwrap();
    assert_eq!(acc.new, 2000);
    assert_eq!(tree.tip().hash, chain[2000].block_hash());
}
