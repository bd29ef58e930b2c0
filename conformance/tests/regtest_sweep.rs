//! Issue 7, items 2 and 3 on chains mined in the test at regtest difficulty,
//! where a mutant can be re-mined, so every contextual rule is reached:
//! single-field mutations (version, prev hash, time back and forth and at
//! the median-time and clock edges, bits, nonce) at heights where the rules
//! bite (the first headers, the 11th and 12th, the last of the first period,
//! the 2016 boundary and after), the children of every accepted mutant at
//! their own median-time edge, and reorgs. Both engines must agree on every
//! header and on the best tip after it.

use std::collections::{BTreeMap, BTreeSet};

use bitwire::wire::{BlockHash, BlockHeader};
use bitwire::Network;
use bitwire_conformance::regtest::{wandering_chain, Ancestry, Spec};
use bitwire_conformance::{fuzz, repo_root, unix_now, Pair, Verdict};

/// Regtest mutants of the child of `parent` (which the engines have). The
/// clock's exact two-hour edge is probed apart, by [`clock_edge`].
fn mutants(anc: &Ancestry, parent: &BlockHeader, tag: u64) -> Vec<(String, BlockHeader)> {
    let base = Spec::child(parent, 600, tag);
    let mtp = anc.median_time_past(&parent.block_hash()).expect("parent known");
    let mut out = Vec::new();
    let mut add = |name: String, f: &dyn Fn(&mut Spec)| {
        let mut s = base;
        f(&mut s);
        out.push((name, s.mined()));
    };
    for v in [1, 2, 3, 0, -1, i32::MIN, 5, 0x2000_0000] {
        add(format!("version {v:#x}"), &|s| s.version = v);
    }
    add("prev unknown".into(), &|s| s.prev = BlockHash([0x5a; 32]));
    add("prev zero".into(), &|s| s.prev = BlockHash([0; 32]));
    if let Some((gp, _)) = anc.get(&parent.prev_hash()) {
        add("prev = grandparent".into(), &|s| {
            s.prev = gp.block_hash();
            s.time = s.time.max(anc.median_time_past(&gp.block_hash()).unwrap_or(0) + 1);
        });
    }
    let p = parent.time();
    let now = unix_now() as u32;
    let times = [
        ("mtp - 1", mtp - 1),
        ("mtp", mtp),
        ("mtp + 1", mtp + 1),
        ("parent - 1", p - 1),
        ("parent", p),
        ("parent + 1200", p + 1200),
        ("parent + 1201", p + 1201),
        ("now + 1 h", now + 3600),
        ("now + 3 h", now + 3 * 3600),
        ("u32::MAX", u32::MAX),
        ("zero", 0),
    ];
    for (name, t) in times {
        add(format!("time {name}"), &|s| s.time = t);
    }
    for bits in [
        0x207f_fffe,
        0x207f_ff00,
        0x2080_0000,
        0x2100_ffff,
        0x2200_0001,
        0,
        0x1d00_ffff,
        0x0300_0001,
    ] {
        add(format!("bits {bits:#010x}"), &|s| s.bits = bits);
    }
    out.push(("nonce unmined".into(), base.unmined()));
    let mut sib = base;
    sib.merkle_root[31] ^= 0xff;
    out.push(("sibling".into(), sib.mined()));
    out
}

/// A child of `parent` at exactly `now + 2 h + extra`, built from the clock
/// microseconds before [`Pair::submit`] reads it.
fn clock_edge(parent: &BlockHeader, extra: u32, tag: u64) -> BlockHeader {
    let mut s = Spec::child(parent, 0, tag);
    s.time = unix_now() as u32 + 7200 + extra;
    s.mined()
}

/// The sweep: a wandering chain of `len` headers, mutated at `sites`.
fn sweep(len: usize, sites: &BTreeSet<u32>) -> BTreeMap<String, BTreeSet<String>> {
    let mut pair = Pair::new(Network::Regtest).expect("kernel starts");
    let mut anc = Ancestry::new(Network::Regtest);
    let genesis = pair.bitwire.tree().params().genesis();
    let chain = wandering_chain(&mut anc, &genesis, len, 900, 1);
    // reason -> mutant names that earned it
    let mut seen: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut tag = 1u64 << 40;
    for (i, h) in chain.iter().enumerate() {
        let height = i as u32 + 1;
        if sites.contains(&height) {
            let parent = if i == 0 { genesis } else { chain[i - 1] };
            let mut probes: Vec<(String, Option<BlockHeader>)> =
                mutants(&anc, &parent, tag).into_iter().map(|(n, m)| (n, Some(m))).collect();
            // Built at submission time: `None` means "at the clock's edge".
            probes.push(("time now + 2 h + 1".into(), None));
            probes.push(("time now + 2 h".into(), None));
            for (name, m) in probes {
                tag += 1;
                let m = m.unwrap_or_else(|| clock_edge(&parent, name.ends_with("+ 1").into(), tag));
                let v = pair
                    .submit(&m)
                    .unwrap_or_else(|d| panic!("height {height}, mutant {name}: {d}"));
                seen.entry(v.to_string()).or_default().insert(name.clone());
                if v == Verdict::Accepted {
                    anc.add(&m);
                    // The headers after an accepted mutant, at its own edge.
                    let mtp = anc.median_time_past(&m.block_hash()).expect("added");
                    for (cname, t) in [("child at mtp", mtp), ("child at mtp + 1", mtp + 1)] {
                        let mut c = Spec::child(&m, 0, tag);
                        tag += 1;
                        c.time = t;
                        let c = c.mined();
                        let v = pair.submit(&c).unwrap_or_else(|d| {
                            panic!("height {height}, {cname} of mutant {name}: {d}")
                        });
                        if v == Verdict::Accepted {
                            anc.add(&c);
                        }
                        seen.entry(v.to_string()).or_default().insert(format!("{cname} of {name}"));
                    }
                }
            }
        }
        pair.submit(h).unwrap_or_else(|d| panic!("chain header {height}: {d}"));
    }
    let tip = pair.bitwire.best_tip();
    eprintln!("regtest sweep: {} headers, best tip {tip}", pair.submitted);
    for (v, names) in &seen {
        eprintln!(
            "  {v}: {} cases, e.g. {:?}",
            names.len(),
            names.iter().take(4).collect::<Vec<_>>()
        );
    }
    seen
}

#[test]
fn regtest_mutation_sweep_reaches_every_reachable_reason() {
    let sites: BTreeSet<u32> = [1, 2, 3, 10, 11, 12, 13, 2014, 2015, 2016, 2017].into();
    let seen = sweep(2020, &sites);
    // The sweep is only meaningful if it reached every rule the kernel
    // applies on regtest (time-timewarp-attack needs BIP94, which the
    // kernel's regtest does not enable).
    let reasons: BTreeSet<&str> = seen
        .keys()
        .map(|v| v.split(' ').nth(2).unwrap_or("accepted"))
        .map(|r| if r.starts_with("bad-version") { "bad-version" } else { r })
        .collect();
    for want in [
        "accepted",
        "high-hash",
        "bad-diffbits",
        "time-too-old",
        "time-too-new",
        "bad-version",
        "prev-blk-not-found",
    ] {
        assert!(reasons.contains(want), "no case reached {want}: {reasons:?}");
    }
    // The clock's edge was hit exactly: now + 2 h passes, one second more does not.
    assert!(seen["accepted"].contains("time now + 2 h"), "{seen:?}");
    assert!(seen["rejected TimeFuture time-too-new"].contains("time now + 2 h + 1"), "{seen:?}");
    // And the median-time edge: mtp fails, mtp + 1 passes.
    assert!(seen["accepted"].contains("time mtp + 1"), "{seen:?}");
    assert!(seen["rejected InvalidHeader time-too-old"].contains("time mtp"), "{seen:?}");
}

/// Two branches from height 10; the second overtakes, then the first again.
/// Both engines must switch their best tip at the same header.
#[test]
fn regtest_reorgs() {
    let mut pair = Pair::new(Network::Regtest).expect("kernel starts");
    let mut anc = Ancestry::new(Network::Regtest);
    let genesis = pair.bitwire.tree().params().genesis();
    let trunk = wandering_chain(&mut anc, &genesis, 10, 300, 10);
    let a = wandering_chain(&mut anc, trunk.last().unwrap(), 20, 300, 11);
    let b = wandering_chain(&mut anc, trunk.last().unwrap(), 25, 300, 12);
    let a2 = wandering_chain(&mut anc, a.last().unwrap(), 10, 300, 13);
    let c = wandering_chain(&mut anc, a.last().unwrap(), 10, 300, 14);
    let stages: [(&[BlockHeader], &BlockHeader); 5] = [
        (&trunk[..], trunk.last().unwrap()),
        (&a[..], a.last().unwrap()),
        // 25 > 20 headers past the fork: b takes over at its 21st header.
        (&b[..], b.last().unwrap()),
        // a + a2 is 30 > 25: back to the first branch.
        (&a2[..], a2.last().unwrap()),
        // c ties a2 in work: the first seen (a2) stays best on both.
        (&c[..], a2.last().unwrap()),
    ];
    for (headers, want_tip) in stages {
        for h in headers {
            assert_eq!(pair.submit(h), Ok(Verdict::Accepted));
        }
        assert_eq!(pair.bitwire.best_tip().hash, want_tip.block_hash());
    }
}

/// Every seed of the differential fuzz target, replayed (issue 7, item 3);
/// together the seeds reach every reason the kernel gives on regtest.
#[test]
fn fuzz_seeds_replay() {
    let dir = repo_root().join("corpus/kernel_diff");
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).expect("corpus/kernel_diff exists") {
        let path = entry.expect("dir entry").path();
        for v in fuzz::differential(&std::fs::read(&path).expect("seed")) {
            let r = match v {
                Verdict::Accepted => "accepted".to_string(),
                Verdict::Rejected { reason, .. } if reason.starts_with("bad-version") => {
                    "bad-version".to_string()
                }
                Verdict::Rejected { reason, .. } => reason,
            };
            *reasons.entry(r).or_insert(0) += 1;
        }
    }
    eprintln!("fuzz seeds: {reasons:?}");
    for want in [
        "accepted",
        "high-hash",
        "bad-diffbits",
        "time-too-old",
        "time-too-new",
        "bad-version",
        "prev-blk-not-found",
    ] {
        assert!(reasons.contains_key(want), "the seeds never reach {want}: {reasons:?}");
    }
}
