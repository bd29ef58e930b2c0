//! One test per Core reject reason, each on a real header made invalid or on a
//! short chain mined here at regtest difficulty; plus the accepting side of
//! each rule's edge, and the retarget / testnet rules through a chain context.

use bitwire::chain::mine::{mine, mine_chain, mine_child};
use bitwire::chain::rules::{self, ChainContext};
use bitwire::chain::{HeaderError, HeaderTree, Params};
use bitwire::pow::CompactTarget;
use bitwire::wire::{BlockHash, BlockHeader};
use bitwire::Network;

fn real(name: &str) -> Vec<BlockHeader> {
    let path = format!("{}/corpus/vectors/headers/{name}.bin", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(path).unwrap().chunks_exact(80).map(|c| *BlockHeader::view(c).unwrap()).collect()
}

const NOW: u64 = 2_000_000_000;

fn regtest() -> Params {
    Params::for_network(Network::Regtest).clone()
}

/// A regtest tree with `n` mined headers on genesis, 600 s apart.
fn regtest_chain(params: &Params, n: usize) -> (HeaderTree, Vec<BlockHeader>) {
    let mut tree = HeaderTree::new(params);
    let chain = mine_chain(params, &params.genesis(), n, 600, 0);
    tree.accept(&chain, NOW).unwrap();
    assert_eq!(tree.tip().height as usize, n);
    (tree, chain)
}

fn reject(tree: &mut HeaderTree, h: BlockHeader) -> HeaderError {
    let before = tree.len();
    let rej = tree.accept(&[h], NOW).expect_err("must be rejected");
    assert_eq!(rej.index, 0);
    assert_eq!(rej.hash, h.block_hash());
    assert_eq!(tree.len(), before, "nothing added");
    rej.error
}

fn child(parent: &BlockHeader, version: i32, spacing: u32, bits: u32) -> BlockHeader {
    mine_child(parent, version, spacing, CompactTarget(bits), [7; 32]).unwrap()
}

#[test]
fn high_hash_on_a_real_header_with_its_nonce_changed() {
    let chain = real("mainnet_0_39999");
    let mut tree = HeaderTree::new(Params::for_network(Network::Main));
    tree.accept(&chain[1..10], NOW).unwrap();
    let mut bad = chain[10];
    bad.nonce = (bad.nonce() ^ 1).into();
    let e = reject(&mut tree, bad);
    assert_eq!(e.to_string(), "high-hash");
    assert!(e.detail().contains("above target"), "{}", e.detail());
    tree.accept(&chain[10..11], NOW).unwrap();
}

#[test]
fn high_hash_before_prev_blk_not_found_as_core_orders_them() {
    // An unconnected header with bad proof of work: Core's CheckBlockHeader runs
    // before the parent lookup.
    let chain = real("mainnet_0_39999");
    let mut tree = HeaderTree::new(Params::for_network(Network::Main));
    let mut bad = chain[500];
    bad.nonce = (bad.nonce() ^ 1).into();
    assert_eq!(reject(&mut tree, bad).reason(), "high-hash");
    assert_eq!(reject(&mut tree, chain[500]).to_string(), "prev-blk-not-found");
}

#[test]
fn prev_blk_not_found_on_a_real_header() {
    let chain = real("testnet3_0_9999");
    let mut tree = HeaderTree::new(Params::for_network(Network::Testnet3));
    let e = reject(&mut tree, chain[2]);
    assert_eq!(e, HeaderError::PrevBlkNotFound { prev: chain[1].block_hash() });
    assert_eq!(e.to_string(), "prev-blk-not-found");
}

#[test]
fn bad_diffbits_on_a_real_retarget_header_out_of_its_context() {
    // Block 32256 carries the first real retarget (1d00d86a). Anchored one
    // height off, it is no longer a boundary, so Core wants the parent's bits.
    let chain = real("mainnet_0_39999");
    let main = Params::for_network(Network::Main);
    let mut tree = HeaderTree::with_anchor(main, &chain[32255], 32256);
    let e = reject(&mut tree, chain[32256]);
    assert_eq!(
        e,
        HeaderError::BadDiffBits {
            expected: CompactTarget(0x1d00ffff),
            found: CompactTarget(0x1d00d86a)
        }
    );
    assert_eq!(e.to_string(), "bad-diffbits");
    // In its true context it is accepted.
    let mut tree = HeaderTree::new(main);
    tree.accept(&chain[1..32257], NOW).unwrap();
    assert_eq!(tree.tip().hash, chain[32256].block_hash());
}

#[test]
fn bad_diffbits_on_regtest() {
    let p = regtest();
    let (mut tree, chain) = regtest_chain(&p, 3);
    let bad = child(&chain[2], 4, 600, 0x207ffffe);
    let e = reject(&mut tree, bad);
    assert_eq!(
        e,
        HeaderError::BadDiffBits {
            expected: CompactTarget(0x207fffff),
            found: CompactTarget(0x207ffffe)
        }
    );
}

#[test]
fn time_too_old_at_the_median_and_accepted_one_second_later() {
    let p = regtest();
    let (mut tree, chain) = regtest_chain(&p, 12);
    // Times are genesis + 600*i; the median of blocks 2..12 is block 7's.
    let mtp = chain[6].time();
    let spacing_to_mtp = mtp.wrapping_sub(chain[11].time());
    let at_mtp = child(&chain[11], 4, spacing_to_mtp, 0x207fffff);
    let e = reject(&mut tree, at_mtp);
    assert_eq!(e, HeaderError::TimeTooOld { time: mtp, median_time_past: i64::from(mtp) });
    assert_eq!(e.to_string(), "time-too-old");
    let after = child(&chain[11], 4, spacing_to_mtp.wrapping_add(1), 0x207fffff);
    tree.accept(&[after], NOW).unwrap();
}

#[test]
fn time_too_old_decided_exactly_at_every_time_around_an_unordered_window() {
    // The tree answers the median-time rule for a child of its last header
    // by counting (no sort). Times here repeat and step back, and every
    // candidate time at and around each of the last 11 is tried: accepted
    // exactly when it is after the median the slow way (sort, take the 6th).
    let p = regtest();
    let mut tree = HeaderTree::new(&p);
    let offsets: [u32; 17] = [
        600, 1200, 1800, 1800, 2400, 3000, 3000, 3600, 3300, 4200, 4200, 4100, 4800, 4600, 5400,
        5400, 5300,
    ];
    let mut parent = p.genesis();
    let mut chain = Vec::new();
    for off in offsets {
        let time = p.genesis().time() + off;
        let h = child(&parent, 4, time.wrapping_sub(parent.time()), 0x207fffff);
        tree.accept(&[h], NOW).unwrap();
        chain.push(h);
        parent = h;
    }
    let mut window: Vec<u32> = chain[chain.len() - 11..].iter().map(|h| h.time()).collect();
    window.sort_unstable();
    let median = window[5];
    let last = *chain.last().unwrap();
    for t in window.iter().flat_map(|&w| [w - 1, w, w + 1]) {
        let h = child(&last, 4, t.wrapping_sub(last.time()), 0x207fffff);
        let got = tree.clone().accept(&[h], NOW);
        if t > median {
            assert!(got.is_ok(), "time {t} after the median {median} must pass: {got:?}");
        } else {
            let e = got.expect_err("at or before the median").error;
            assert_eq!(e, HeaderError::TimeTooOld { time: t, median_time_past: i64::from(median) });
        }
    }
}

#[test]
fn time_too_old_on_a_real_header_with_fewer_than_11_ancestors() {
    // Near genesis Core takes the median of what there is: for block 2 that
    // is max(time 0, time 1). A real block 2 re-timed to block 1's time fails.
    let chain = real("mainnet_0_39999");
    let mut tree = HeaderTree::new(Params::for_network(Network::Main));
    tree.accept(&chain[1..2], NOW).unwrap();
    let mut h = chain[2];
    h.time = chain[1].time.get().into();
    assert_eq!(reject(&mut tree, h).reason(), "high-hash"); // its PoW is gone too
                                                            // On regtest the same shape is cheap to mine.
    let p = regtest();
    let (mut tree, chain) = regtest_chain(&p, 1);
    let h = child(&chain[0], 4, 0, 0x207fffff);
    assert_eq!(reject(&mut tree, h).to_string(), "time-too-old");
}

#[test]
fn time_too_new_past_two_hours_and_accepted_at_two_hours() {
    let p = regtest();
    let (mut tree, chain) = regtest_chain(&p, 2);
    let now = u64::from(chain[1].time()) + 1000;
    let limit = now + 7200;
    let spacing = (limit - u64::from(chain[1].time())) as u32;
    let too_new = child(&chain[1], 4, spacing + 1, 0x207fffff);
    let rej = tree.accept(&[too_new], now).unwrap_err();
    assert_eq!(rej.error, HeaderError::TimeTooNew { time: too_new.time(), max_time: limit as i64 });
    assert_eq!(rej.error.to_string(), "time-too-new");
    // After two hours it would be accepted: the rule is about the caller's clock.
    assert!(tree.accept(&[too_new], now + 1).is_ok());
    let edge = child(&chain[1], 4, spacing, 0x207fffff);
    assert!(tree.accept(&[edge], now).is_ok());
}

#[test]
fn time_timewarp_attack_on_regtest_with_bip94() {
    // Core's regtest with -test=bip94: the first block of each period may not
    // be more than 600 s before its parent.
    let mut p = regtest();
    p.enforce_bip94 = true;
    let (mut tree, chain) = regtest_chain(&p, 2015);
    let last = chain[2014];
    let warp = child(&last, 4, (-601i32) as u32, 0x207fffff);
    let e = reject(&mut tree, warp);
    assert_eq!(e, HeaderError::TimeTimewarpAttack { time: warp.time(), prev_time: last.time() });
    assert_eq!(e.to_string(), "time-timewarp-attack");
    let edge = child(&last, 4, (-600i32) as u32, 0x207fffff);
    tree.accept(&[edge], NOW).unwrap();
    assert_eq!(tree.tip().height, 2016);
    // Without BIP94 (plain regtest) the same header is fine.
    let (mut plain, chain2) = regtest_chain(&regtest(), 2015);
    let warp2 = child(&chain2[2014], 4, (-601i32) as u32, 0x207fffff);
    plain.accept(&[warp2], NOW).unwrap();
}

#[test]
fn bad_version_on_regtest_and_on_a_real_header_past_bip34() {
    let p = regtest();
    let (mut tree, chain) = regtest_chain(&p, 1);
    for (v, text) in [(3, "bad-version(0x00000003)"), (-1, "bad-version(0xffffffff)")] {
        let e = reject(&mut tree, child(&chain[0], v, 600, 0x207fffff));
        assert_eq!(e.to_string(), text);
        assert_eq!(e.reason(), "bad-version");
    }
    // A real version-1 header (mainnet block 1) anchored where BIP34 is active.
    let real = real("mainnet_0_39999");
    let main = Params::for_network(Network::Main);
    let mut tree = HeaderTree::with_anchor(main, &real[0], main.bip34_height - 1);
    let e = reject(&mut tree, real[1]);
    assert_eq!(e, HeaderError::BadVersion { version: 1, min_version: 2 });
    assert_eq!(e.to_string(), "bad-version(0x00000001)");
    let mut tree = HeaderTree::with_anchor(main, &real[0], main.bip34_height - 2);
    tree.accept(&real[1..2], NOW).unwrap();
}

#[test]
fn known_headers_are_not_an_error() {
    let chain = real("mainnet_0_39999");
    let mut tree = HeaderTree::new(Params::for_network(Network::Main));
    let first = tree.accept(&chain[..100], NOW).unwrap();
    assert_eq!((first.new, first.known), (99, 1)); // genesis was known
    let again = tree.accept(&chain[50..150], NOW).unwrap();
    assert_eq!((again.new, again.known), (50, 50));
    assert!(again.best_tip_changed);
    let same = tree.accept(&chain[..150], NOW).unwrap();
    assert_eq!((same.new, same.known, same.best_tip_changed), (0, 150, false));
}

#[test]
fn a_rejection_keeps_the_valid_prefix() {
    let chain = real("mainnet_0_39999");
    let mut tree = HeaderTree::new(Params::for_network(Network::Main));
    let mut batch = chain[1..2001].to_vec();
    batch[1500].nonce = 0.into();
    let rej = tree.accept(&batch, NOW).unwrap_err();
    assert_eq!(rej.index, 1500);
    assert_eq!(rej.accepted.new, 1500);
    assert!(rej.accepted.best_tip_changed);
    assert_eq!(tree.tip().height, 1500);
    assert!(rej.to_string().starts_with("header 1500 ("), "{rej}");
}

/// A plain chain in memory, for the work rules without proof of work.
struct Line {
    base: u32,
    blocks: Vec<(u32, CompactTarget)>,
}

impl ChainContext for Line {
    type Block = u32;
    fn height(&self, b: u32) -> u32 {
        b
    }
    fn time(&self, b: u32) -> u32 {
        self.blocks[(b - self.base) as usize].0
    }
    fn bits(&self, b: u32) -> CompactTarget {
        self.blocks[(b - self.base) as usize].1
    }
    fn parent(&self, b: u32) -> Option<u32> {
        (b > self.base).then(|| b - 1)
    }
    fn ancestor(&self, _: u32, h: u32) -> Option<u32> {
        (h >= self.base).then_some(h)
    }
}

#[test]
fn testnet_min_difficulty_walk_back_and_bip94_base() {
    let t3 = Params::for_network(Network::Testnet3);
    let limit = t3.pow_limit_bits();
    let real_bits = CompactTarget(0x1c0ffff0);
    // Heights 4032..=4040: 4032 at real difficulty, then min-difficulty blocks.
    let mut blocks = vec![(1_000_000, real_bits)];
    for i in 1..=8 {
        blocks.push((1_000_000 + i * 1300, limit));
    }
    let line = Line { base: 4032, blocks };
    let tip = 4040;
    let tip_time = line.time(tip);
    // More than 20 minutes after the parent: minimum difficulty.
    assert_eq!(rules::next_work_required(t3, &line, tip, tip_time + 1201), Some(limit));
    // Exactly 20 minutes: walk back to the last real difficulty (block 4032).
    assert_eq!(rules::next_work_required(t3, &line, tip, tip_time + 1200), Some(real_bits));
    // Mainnet has no such rule: the parent's bits.
    let main = Params::for_network(Network::Main);
    assert_eq!(rules::next_work_required(main, &line, tip, tip_time + 5000), Some(limit));
    // Anchored in the middle of a min-difficulty run, the walk-back is unknown.
    let cut = Line { base: 4035, blocks: line.blocks[3..].to_vec() };
    assert_eq!(rules::next_work_required(t3, &cut, tip, tip_time + 10), None);

    // BIP94: testnet4's retarget base is the period's first block, not its last.
    let t4 = Params::for_network(Network::Testnet4);
    let mut blocks = vec![(2_000_000, real_bits)];
    for i in 1..2016u32 {
        blocks.push((2_000_000 + i * 600, if i == 2015 { limit } else { real_bits }));
    }
    let period = Line { base: 0, blocks };
    let first_time = i64::from(period.time(0));
    let last_time = i64::from(period.time(2015));
    let want = rules::calculate_next_work_required(t4, last_time, first_time, real_bits);
    assert_eq!(rules::next_work_required(t4, &period, 2015, 0), Some(want));
    let legacy = rules::calculate_next_work_required(t3, last_time, first_time, limit);
    assert_eq!(rules::next_work_required(t3, &period, 2015, 0), Some(legacy));
    assert_ne!(want, legacy);
}

#[test]
fn regtest_never_retargets() {
    let p = regtest();
    let (tree, _) = regtest_chain(&p, 2017);
    assert_eq!(tree.header_at(2016).unwrap().bits(), CompactTarget(0x207fffff));
}

#[test]
fn mined_headers_meet_their_target() {
    let p = regtest();
    let mut h = p.genesis();
    h.nonce = 0.into();
    let hash = mine(&mut h, 1000).unwrap();
    assert!(rules::check_header(&p, &hash, &h).is_ok());
    assert_ne!(hash, BlockHash::ZERO);
}

#[test]
fn anchored_rules_apply_once_their_context_is_present() {
    let p = regtest();
    let chain = mine_chain(&p, &p.genesis(), 20, 600, 0);
    let mut tree = HeaderTree::with_anchor(&p, &chain[0], 1000);
    tree.accept(&chain[1..5], NOW).unwrap();
    // Five blocks known: the median of 11 is unknown, so an early time passes.
    let early = child(&chain[4], 4, (-3000i32) as u32, 0x207fffff);
    assert!(tree.accept(&[early], NOW).is_ok());
    tree.accept(&chain[5..15], NOW).unwrap();
    assert_eq!(tree.tip().height, 1014);
    // Fifteen known: the rule applies again.
    let mtp = chain[9].time(); // median of heights 1004..=1014
    let at_mtp = child(&chain[14], 4, mtp.wrapping_sub(chain[14].time()), 0x207fffff);
    assert_eq!(reject(&mut tree, at_mtp).to_string(), "time-too-old");
}
