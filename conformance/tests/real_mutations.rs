//! Issue 7, item 2 on real chains: single-field mutations of real headers
//! where the rules bite (retarget boundaries and the headers after them,
//! median-time edges, headers earlier than their parent, testnet3's
//! 20-minute blocks and the headers after them, testnet4's min-difficulty
//! blocks), plus out-of-order and repeated real headers. Both engines get
//! every mutant right after the real parent, then the real header; they must
//! agree on each.
//!
//! A mutant's hash is new, so at real difficulty its proof of work fails:
//! these cases prove the two engines check PoW first, before the parent
//! link and the contextual rules, and agree on `high-hash` for every field.
//! The contextual rules themselves are swept on mined regtest chains
//! (tests/regtest_sweep.rs).

use std::collections::{BTreeMap, BTreeSet};

use bitwire::wire::{BlockHash, BlockHeader};
use bitwire::Network;
use bitwire_conformance::regtest::Ancestry;
use bitwire_conformance::{read_headers, repo_root, unix_now, Pair};

/// The heights worth mutating in `headers` (a chain from genesis), by why.
fn sites(headers: &[BlockHeader], network: Network) -> BTreeMap<u32, &'static str> {
    let mut anc = Ancestry::new(network);
    let mut out = BTreeMap::new();
    let limit = 0x1d00_ffff;
    for (h, hdr) in headers.iter().enumerate().skip(1) {
        let h = h as u32;
        let parent = headers[h as usize - 1];
        let mtp = anc.median_time_past(&parent.block_hash()).expect("parent known");
        anc.add(hdr);
        if h.is_multiple_of(2016) {
            out.insert(h, "retarget boundary");
            out.entry(h + 1).or_insert("after a retarget boundary");
            out.entry(h - 1).or_insert("last of a period");
        } else if hdr.time() <= mtp + 2 {
            out.entry(h).or_insert("median-time edge");
        } else if hdr.time() < parent.time() {
            out.entry(h).or_insert("earlier than its parent");
        } else if i64::from(hdr.time()) > i64::from(parent.time()) + 1200
            && matches!(network, Network::Testnet3 | Network::Testnet4)
        {
            out.entry(h).or_insert("20-minute block");
            out.entry(h + 1).or_insert("after a 20-minute block");
        } else if network == Network::Testnet3 && hdr.bits().to_consensus() == limit {
            out.entry(h).or_insert("min-difficulty block");
        } else if h.is_multiple_of(97) {
            out.entry(h).or_insert("ordinary header");
        }
    }
    out.retain(|h, _| (*h as usize) < headers.len());
    // At most MAX_PER_KIND sites of each kind, spread over the chain.
    let mut per_kind: BTreeMap<&str, Vec<u32>> = BTreeMap::new();
    for (h, why) in &out {
        per_kind.entry(why).or_default().push(*h);
    }
    let mut keep = BTreeMap::new();
    for (why, hs) in per_kind {
        let step = hs.len().div_ceil(MAX_PER_KIND);
        for h in hs.iter().step_by(step.max(1)) {
            keep.insert(*h, why);
        }
    }
    keep
}

/// Sites of one kind to mutate per chain.
const MAX_PER_KIND: usize = 40;

/// Single-field mutants of `h` (whose parent is `parent`, grandparent `gp`).
fn mutants(h: &BlockHeader, gp: Option<BlockHash>, mtp: u32) -> Vec<(&'static str, BlockHeader)> {
    let mut out = Vec::new();
    let mut m = |name: &'static str, f: &dyn Fn(&mut BlockHeader)| {
        let mut x = *h;
        f(&mut x);
        if x != *h {
            out.push((name, x));
        }
    };
    m("version+1", &|x| x.version = (x.version() + 1).into());
    m("version 1", &|x| x.version = 1.into());
    m("version 4", &|x| x.version = 4.into());
    m("version 0x20000000", &|x| x.version = 0x2000_0000.into());
    m("prev bit flip", &|x| x.prev_blockhash.0[0] ^= 1);
    if let Some(gp) = gp {
        m("prev = grandparent", &|x| x.prev_blockhash = gp);
    }
    m("time+1", &|x| x.time = (x.time() + 1).into());
    m("time-1", &|x| x.time = (x.time() - 1).into());
    m("time = median time past", &|x| x.time = mtp.into());
    m("time = median time past + 1", &|x| x.time = (mtp + 1).into());
    m("time 3 h ahead of the clock", &|x| x.time = (unix_now() as u32 + 3 * 3600).into());
    m("bits+1", &|x| x.bits = (x.bits().to_consensus() + 1).into());
    m("bits-1", &|x| x.bits = (x.bits().to_consensus() - 1).into());
    m("bits = powLimit", &|x| x.bits = 0x1d00_ffffu32.into());
    m("bits negative", &|x| x.bits = (x.bits().to_consensus() | 0x0080_0000).into());
    m("nonce+1", &|x| x.nonce = x.nonce().wrapping_add(1).into());
    out
}

fn sweep(network: Network, file: &str) {
    let path = repo_root().join("corpus/vectors/headers").join(file);
    let headers = read_headers(&path).expect("header file");
    let sites = sites(&headers, network);
    assert!(!sites.is_empty());
    let mut pair = Pair::new(network).expect("kernel starts");
    let mut anc = Ancestry::new(network);
    let mut verdicts: BTreeMap<String, usize> = BTreeMap::new();
    let mut kinds = BTreeSet::new();
    let mut cases = 0usize;
    for (i, h) in headers.iter().enumerate().skip(1) {
        let height = i as u32;
        if let Some(why) = sites.get(&height) {
            kinds.insert(*why);
            let parent = headers[i - 1];
            let gp = (i >= 2).then(|| headers[i - 2].block_hash());
            let mtp = anc.median_time_past(&parent.block_hash()).expect("known");
            let mut probes = mutants(h, gp, mtp);
            // A real header out of order (its parent not yet given), and a
            // real header given again.
            if let Some(next) = headers.get(i + 1) {
                probes.push(("next header before this one", *next));
            }
            probes.push(("parent again", parent));
            for (name, m) in probes {
                let v = pair.submit(&m).unwrap_or_else(|d| {
                    panic!("{network} height {height} ({why}), mutant {name}: {d}")
                });
                *verdicts.entry(format!("{name}: {v}")).or_insert(0) += 1;
                cases += 1;
            }
        }
        anc.add(h);
        pair.submit(h).unwrap_or_else(|d| panic!("{network} real header {height}: {d}"));
    }
    eprintln!("{network}: {cases} mutants at {} sites ({kinds:?}), all agreed:", sites.len());
    for (k, n) in &verdicts {
        eprintln!("  {n:5} x {k}");
    }
    assert_eq!(pair.bitwire.best_tip().hash, headers.last().unwrap().block_hash());
}

#[test]
fn mainnet_mutations() {
    sweep(Network::Main, "mainnet_0_39999.bin");
}

#[test]
fn testnet3_mutations() {
    sweep(Network::Testnet3, "testnet3_0_9999.bin");
}

#[test]
fn signet_mutations() {
    sweep(Network::Signet, "signet_0_2016.bin");
}

#[test]
fn testnet4_mutations() {
    sweep(Network::Testnet4, "testnet4_0_30.bin");
}
