//! Correctness of the fast paths: `HeaderTree::accept_par` gives exactly what
//! `HeaderTree::accept` gives (tip, counts, the first rejection), and the
//! generated benchmark chains are valid. Speed lives in benches/ and
//! `bitwire bench`.

use bitwire::chain::mine::{generate_chain, mine_chain};
use bitwire::chain::{ChainWindow, HeaderTree, Params, PAR_CHUNK_HEADERS};
use bitwire::wire::BlockHeader;
use bitwire::Network;
use zerocopy::FromBytes;

const NOW: u64 = 2_000_000_000;

fn regtest() -> &'static Params {
    Params::for_network(Network::Regtest)
}

fn chain(count: usize, seed: u64) -> Vec<BlockHeader> {
    let p = regtest();
    generate_chain(p, &p.genesis(), p.genesis_hash, count, 400, seed)
}

#[test]
fn accept_par_matches_accept_on_a_generated_chain() {
    let headers = chain(20_000, 1);
    let mut one = HeaderTree::new(regtest());
    let a = one.accept(&headers, NOW).unwrap();
    for threads in [1, 2, 3] {
        let mut par = HeaderTree::new(regtest());
        let b = par.accept_par_threads(&headers, NOW, threads).unwrap();
        assert_eq!(a, b, "{threads} threads");
        assert_eq!(one.tip(), par.tip());
        assert_eq!(one.len(), par.len());
        // Everything again: all known, nothing changes.
        let again = par.accept_par_threads(&headers, NOW, threads).unwrap();
        assert_eq!((again.new, again.known, again.best_tip_changed), (0, 20_000, false));
    }
}

#[test]
fn accept_par_matches_accept_on_mainnet() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/corpus/vectors/headers/mainnet_0_39999.bin");
    let bytes = std::fs::read(path).unwrap();
    let headers = <[BlockHeader]>::ref_from_bytes(&bytes).unwrap();
    let main = Params::for_network(Network::Main);
    let mut one = HeaderTree::new(main);
    let a = one.accept(headers, NOW).unwrap();
    let mut par = HeaderTree::new(main);
    par.reserve(headers.len());
    let b = par.accept_par_threads(headers, NOW, 2).unwrap();
    assert_eq!(a, b);
    assert_eq!(one.tip(), par.tip());
    assert_eq!(par.tip().height, 39_999);
}

#[test]
fn accept_par_stops_at_the_same_invalid_header_as_accept() {
    let mut headers = chain(12_000, 2);
    // Spoil a header in the middle of a later chunk: its hash changes, so it
    // fails proof of work (or, if it still meets it, its child does not link).
    let bad = 3 * PAR_CHUNK_HEADERS + 17;
    headers[bad].merkle_root[31] ^= 1;
    let mut one = HeaderTree::new(regtest());
    let a = one.accept(&headers, NOW).unwrap_err();
    let mut par = HeaderTree::new(regtest());
    let b = par.accept_par_threads(&headers, NOW, 2).unwrap_err();
    assert_eq!(a, b);
    assert!(a.index == bad || a.index == bad + 1, "rejected at {}", a.index);
    assert_eq!(one.tip(), par.tip());
    assert_eq!(par.len(), a.index + 1); // genesis + the valid prefix
}

#[test]
fn min_difficulty_walk_cache_agrees_with_the_walk_across_forks() {
    // Regtest allows min-difficulty blocks: every header's nBits rule walks
    // back; the tree answers from a cache, the window walks. A fork off an
    // old block (cache miss) and back to the first branch must agree too.
    let p = regtest();
    let main = chain(3000, 3);
    let fork_at = 1500;
    let fork = mine_chain(p, &main[fork_at - 1], 2000, 1, 4);
    let mut tree = HeaderTree::new(p);
    tree.accept(&main, NOW).unwrap();
    tree.accept(&fork, NOW).unwrap();
    assert_eq!(tree.tip().height as usize, fork_at + 2000);
    let more = mine_chain(p, &main[2999], 600, 1, 5);
    let acc = tree.accept(&more, NOW).unwrap();
    assert!(acc.reorg_height.is_some());
    assert_eq!(tree.tip().height, 3600);
    let mut window = ChainWindow::from_tree(&tree, &main[2999].block_hash()).unwrap();
    assert_eq!(window.extend(&more, NOW), Ok(600));
}

#[test]
fn window_walk_cache_agrees_with_the_tree_on_real_testnet3() {
    // testnet3 allows min-difficulty blocks; its first 10,000 headers mix
    // retargeted and minimum-difficulty blocks, so a wrong cached walk-back
    // answer would be a bad-diffbits rejection somewhere.
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/corpus/vectors/headers/testnet3_0_9999.bin");
    let bytes = std::fs::read(path).unwrap();
    let headers = <[BlockHeader]>::ref_from_bytes(&bytes).unwrap();
    let p = Params::for_network(Network::Testnet3);
    let limit = p.pow_limit_bits();
    let mixed = headers.iter().filter(|h| h.bits() != limit).count();
    assert!(mixed > 100, "{mixed} headers above the minimum difficulty");
    let mut tree = HeaderTree::new(p);
    tree.accept(&headers[..2100], NOW).unwrap();
    let mut window = ChainWindow::from_tree(&tree, &headers[2099].block_hash()).unwrap();
    assert_eq!(window.extend(&headers[2100..], NOW), Ok(headers.len() - 2100));
    tree.accept(&headers[2100..], NOW).unwrap();
    assert_eq!(window.tip_hash(), tree.tip().hash);
    assert_eq!(window.chainwork(), tree.tip().chainwork);
}

#[test]
fn concurrent_calls_share_the_helpers_and_each_gets_its_own_answer() {
    // Several threads validate at once on every core: they share bitwire's
    // helper threads (a call that finds none free validates alone), and
    // each gets the answer a one-thread call gives, the invalid chain
    // included.
    let good = chain(30_000, 5);
    let mut bad = good.clone();
    let spoilt = 5 * PAR_CHUNK_HEADERS + 3;
    bad[spoilt].merkle_root[0] ^= 1;
    let expect_good = ChainWindow::new(regtest()).extend_par_threads(&good, NOW, 1);
    let expect_bad = ChainWindow::new(regtest()).extend_par_threads(&bad, NOW, 1);
    assert_eq!(expect_good, Ok(30_000));
    assert!(expect_bad.is_err());
    std::thread::scope(|s| {
        let runs: Vec<_> = (0..6)
            .map(|i| {
                let (headers, expect) =
                    if i % 2 == 0 { (&good, &expect_good) } else { (&bad, &expect_bad) };
                s.spawn(move || {
                    for _ in 0..3 {
                        let got = ChainWindow::new(regtest()).extend_par(headers, NOW);
                        assert_eq!(&got, expect, "thread {i}");
                        let mut tree = HeaderTree::new(regtest());
                        let acc = tree.accept_par(headers, NOW);
                        assert_eq!(acc.is_ok(), expect.is_ok(), "thread {i}");
                    }
                })
            })
            .collect();
        for r in runs {
            r.join().unwrap();
        }
    });
}
