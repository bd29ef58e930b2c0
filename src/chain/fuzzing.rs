//! The body of the `chain_tree` fuzz target, kept in the crate so the target
//! is one line and `cargo test` can replay every seed in corpus/chain_tree/.
//!
//! The input is read as a sequence of 8-byte operations that build headers on
//! regtest (forks anywhere, times forward and back, wrong bits and versions,
//! unmined nonces, raw garbage) and feed them to a [`HeaderTree`] in batches.
//! After every batch the tree's invariants are asserted: the best tip has the
//! most work and was first seen among equals, every header links to a parent
//! one height below it, the locator starts at the tip, ends at genesis and
//! resolves on the best chain, and `headers_after` serves a linked chain.

use super::mine::mine;
use super::params::Params;
use super::HeaderTree;
use crate::network::Network;
use crate::pow::{block_hash, CompactTarget};
use crate::wire::{BlockHash, BlockHeader};

/// Most headers one input may build (keeps each run fast).
const MAX_HEADERS: usize = 512;

/// Runs one fuzz input through a regtest [`HeaderTree`], panicking if an
/// invariant breaks. Any input is valid.
pub fn tree_ops(data: &[u8]) {
    let mut params = Params::for_network(Network::Regtest).clone();
    // The first byte picks the regtest variant: plain, BIP94 (Core's
    // `-test=bip94`), or testnet-style retargeting rules.
    match data.first().map(|b| b % 3) {
        Some(1) => params.enforce_bip94 = true,
        Some(2) => params.no_retargeting = false,
        _ => {}
    }
    let mut tree = HeaderTree::new(&params);
    let genesis = params.genesis();
    // Every header the tree holds, in insertion order.
    let mut known: Vec<(BlockHeader, BlockHash)> = vec![(genesis, params.genesis_hash)];
    let now = u64::from(genesis.time()) + 1_000_000;
    let mut batch: Vec<BlockHeader> = Vec::new();

    for (n, op) in data.get(1..).unwrap_or_default().chunks_exact(8).enumerate() {
        if n >= MAX_HEADERS {
            break;
        }
        let parent = if op[0] & 0x80 == 0 {
            // Mostly extend the last header built, to grow long chains.
            batch.last().copied().unwrap_or(known[known.len() - 1].0)
        } else {
            known[usize::from(op[0] & 0x7f) * known.len() / 128].0
        };
        let header = if op[1] == 0xff {
            // Raw bytes: an arbitrary header (the rest of the op, repeated).
            let mut raw = [0u8; 80];
            for (i, b) in raw.iter_mut().enumerate() {
                *b = op[i % 8];
            }
            BlockHeader::from_array(&raw)
        } else {
            let delta = i64::from(i16::from_le_bytes([op[1], op[2]])) * 4;
            let time = (i64::from(parent.time()) + delta).clamp(0, i64::from(u32::MAX)) as u32;
            let bits = if op[3] < 0xf0 {
                params.pow_limit_bits()
            } else {
                CompactTarget(u32::from_le_bytes([op[3], op[4], 0x7f, 0x20]))
            };
            let version = if op[5] < 0xf0 { 4 } else { i32::from(op[5] & 0x0f) };
            let mut h = BlockHeader::from_array(&[0u8; 80]);
            h.version = version.into();
            h.prev_blockhash = block_hash(&parent);
            h.merkle_root[..8].copy_from_slice(op);
            h.time = time.into();
            h.bits = bits.to_consensus().into();
            if op[6] & 0x0f != 0 {
                let _ = mine(&mut h, 64);
            }
            h
        };
        batch.push(header);
        if op[7] & 0x03 == 0 {
            feed(&mut tree, &mut known, &mut batch, now);
        }
    }
    feed(&mut tree, &mut known, &mut batch, now);
}

fn feed(
    tree: &mut HeaderTree,
    known: &mut Vec<(BlockHeader, BlockHash)>,
    batch: &mut Vec<BlockHeader>,
    now: u64,
) {
    let mark = tree.len();
    let result = tree.accept(batch.as_slice(), now);
    let added: Vec<BlockHeader> = tree.inserted_since(mark).collect();
    match &result {
        Ok(acc) => assert_eq!(acc.new, added.len()),
        Err(rej) => {
            assert!(rej.index < batch.len());
            assert_eq!(rej.accepted.new, added.len());
            assert_eq!(rej.hash, block_hash(&batch[rej.index]));
            assert!(!tree.contains(&rej.hash), "a rejected header is never added");
        }
    }
    for h in added {
        known.push((h, block_hash(&h)));
    }
    batch.clear();
    check_invariants(tree, known);
}

/// Asserts the tree's invariants against the list of every header it holds.
pub fn check_invariants(tree: &HeaderTree, known: &[(BlockHeader, BlockHash)]) {
    assert_eq!(tree.len(), known.len());
    let tip = tree.tip();
    // Most work, first seen on ties.
    let mut best = &known[0];
    let mut best_work = tree.get(&known[0].1).expect("root").chainwork;
    for k in known {
        let info = tree.get(&k.1).expect("every added header is found");
        assert_eq!(info.header, k.0);
        if info.chainwork > best_work {
            best = k;
            best_work = info.chainwork;
        }
        if info.height > tree.root_height() {
            let parent = tree.get(&k.0.prev_hash()).expect("parent present");
            assert_eq!(parent.height + 1, info.height);
            assert!(parent.chainwork < info.chainwork);
        }
    }
    assert_eq!(tip.hash, best.1, "best tip is the first header with the most work");
    assert_eq!(tip.chainwork, best_work);

    let loc = tree.locator();
    assert_eq!(loc.first(), Some(&tip.hash));
    assert_eq!(loc.last(), tree.hash_at(tree.root_height()).as_ref());
    let mut last_height = u32::MAX;
    for h in &loc {
        let info = tree.get(h).expect("locator entries are known");
        assert!(info.in_best_chain);
        assert!(info.height < last_height);
        last_height = info.height;
    }
    assert!(tree.headers_after(&loc, BlockHash::ZERO, 2000).is_empty());
    let served = tree.headers_after(&loc[loc.len() - 1..], BlockHash::ZERO, 2000);
    assert_eq!(served.len() as u32, (tip.height - tree.root_height()).min(2000));
    let mut prev = loc[loc.len() - 1];
    for h in &served {
        assert_eq!(h.prev_hash(), prev);
        prev = block_hash(h);
    }
}

/// Most headers one [`check_rules`] input validates.
const MAX_RULE_HEADERS: usize = 16;

/// The body of the `chain_rules` fuzz target: header validation over
/// arbitrary headers with a valid parent context.
///
/// `context` is a tree of real headers (the target uses mainnet 0..=2100,
/// across the first retarget). The input picks a parent in it (bytes 0-1),
/// a clock (bytes 2-3, seconds after the parent's time, times 16), and two
/// masks (bytes 4-5); then come up to 16 headers of 80 bytes. Each header is
/// linked to the one before it (the first to the parent); where its bit in
/// the first mask is clear its `nBits` is replaced by the parent's, and
/// where its bit in the second mask is clear its time is set a little after
/// the previous header's, so the fuzzer reaches every contextual rule, not
/// only `bad-diffbits`. Asserted:
///
/// - the tree ([`HeaderTree::accept`]) and a [`ChainWindow`](super::ChainWindow)
///   over the same parent (the bounded validator) give the same verdict on a
///   batch of new headers: the same count on success, the same index and
///   rule on rejection (headers the tree holds already are skipped by it, as
///   by Core, and checked by the window: not compared);
/// - a rejection names one of Core's reasons, and leaves the rejected header
///   out of the tree and the ones before it in;
/// - accepted headers sit at the right heights, and the best tip never
///   loses work;
/// - `accept_par_threads` (one thread, the chunked path) agrees with
///   `accept`, and the window's `extend_par_threads` with its `extend`, and
///   on success the window ends where the tree put the last header, with
///   the same height and chainwork;
/// - faulting memory in ahead of use (`madvise(MADV_POPULATE_WRITE)`, the
///   tree's one `unsafe` call) changes no byte, on input-chosen buffers and ranges.
pub fn check_rules(data: &[u8], context: &HeaderTree) {
    // The one `unsafe` call outside `pow` (madvise in `mem`), over whole
    // pages: the batches below are too small to reach it through the tree.
    crate::mem::check_populate(data);
    let Some((head, rest)) = data.split_first_chunk::<6>() else { return };
    let tip_height = context.tip().height;
    let parent_height = u32::from(u16::from_le_bytes([head[0], head[1]])) % (tip_height + 1);
    let Some(parent) = context.header_at(parent_height) else { return };
    let parent_hash = block_hash(&parent);
    let now = u64::from(parent.time()) + u64::from(u16::from_le_bytes([head[2], head[3]])) * 16;
    let (bits_mask, time_mask) = (head[4], head[5]);

    let mut headers: Vec<BlockHeader> = Vec::new();
    let mut prev = (parent_hash, parent);
    for (i, raw) in rest.chunks_exact(80).take(MAX_RULE_HEADERS).enumerate() {
        let mut h = BlockHeader::from_array(raw.try_into().expect("80 bytes"));
        h.prev_blockhash = prev.0;
        if bits_mask & (1 << (i % 8)) == 0 {
            h.bits = prev.1.bits().to_consensus().into();
        }
        if time_mask & (1 << (i % 8)) == 0 {
            h.time = prev.1.time().wrapping_add(h.time() % 1200).into();
        }
        prev = (block_hash(&h), h);
        headers.push(h);
    }
    if headers.is_empty() {
        return;
    }

    let mut tree = context.clone();
    let before = tree.tip();
    let window = super::ChainWindow::from_tree(&tree, &parent_hash).expect("parent in the tree");
    let by_tree = tree.accept(headers.as_slice(), now);
    let mut window_after = window.clone();
    let by_window = window_after.extend(headers.as_slice(), now);
    // The chunked path `bitwire validate` takes on a chain (its quick path
    // over locals) gives the same answer as `extend`.
    let by_window_par = window.clone().extend_par_threads(&headers, now, 1);
    assert_eq!(by_window_par, by_window, "extend_par_threads and extend disagree");
    // The tree's chunked path (hash a chunk, fault in the entries ahead,
    // validate; `bitwire validate` of a file that is not one chain) gives
    // the same answer as `accept`.
    let by_par = context.clone().accept_par_threads(&headers, now, 1);
    assert_eq!(by_par, by_tree, "accept_par_threads and accept disagree");
    // The tree skips headers it already holds, as Core's `AcceptBlockHeader`
    // does (no rule is checked again, not even the clock); a window checks
    // every header. Compare them on batches of new headers only.
    let any_known = headers.iter().any(|h| context.contains(&block_hash(h)));
    match (&by_tree, &by_window) {
        _ if any_known => {}
        (Ok(acc), Ok(n)) => {
            assert_eq!(acc.new + acc.known, *n);
            let info = tree.get(&window_after.tip_hash()).expect("the window's tip is in the tree");
            assert_eq!(
                (info.height, info.chainwork),
                (window_after.tip_height(), window_after.chainwork()),
                "tree and window disagree on the tip"
            );
        }
        (Err(a), Err(b)) => {
            assert_eq!((a.index, a.error), (b.index, b.error), "tree and window disagree");
        }
        _ => panic!("tree {by_tree:?} but window {by_window:?}"),
    }
    let taken = match &by_tree {
        Ok(_) => headers.len(),
        Err(rej) => {
            let reason = rej.error.to_string();
            let core = [
                "high-hash",
                "bad-diffbits",
                "time-too-old",
                "time-too-new",
                "time-timewarp-attack",
                "prev-blk-not-found",
            ];
            assert!(
                core.contains(&reason.as_str()) || reason.starts_with("bad-version(0x"),
                "not a Core reason: {reason}"
            );
            assert!(!tree.contains(&rej.hash), "a rejected header is never added");
            assert_eq!(rej.hash, block_hash(&headers[rej.index]));
            rej.index
        }
    };
    for (i, h) in headers[..taken].iter().enumerate() {
        let info = tree.get(&block_hash(h)).expect("accepted headers are in the tree");
        assert_eq!(info.height, parent_height + 1 + i as u32);
    }
    assert!(tree.tip().chainwork >= before.chainwork, "the best tip lost work");
    assert!(tree.contains(&tree.tip().hash));
}
