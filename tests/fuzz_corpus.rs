//! Plain `cargo test` replays every seed in corpus/<target>/ for every
//! cargo-fuzz target through the same check the target runs (the library's
//! `fuzzing` modules, or tests/{wire_support,fuzz_support}/ for the checks
//! that need the `bitcoin` dev-dependency). A last test keeps the list
//! honest: every [[bin]] of fuzz/Cargo.toml has a seed folder and a replay
//! here, and nothing here is stale.

use std::sync::OnceLock;

use bitwire::chain::{params::Params, HeaderTree};
use bitwire::wire::BlockHeader;
use bitwire::Network;

#[path = "wire_support/differential.rs"]
#[allow(dead_code)]
mod differential;
#[path = "fuzz_support/pow_hash.rs"]
mod pow_hash;

fn mainnet(n: usize) -> Vec<BlockHeader> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/corpus/vectors/headers/mainnet_0_39999.bin");
    let bytes = std::fs::read(path).unwrap();
    bytes[..n * 80]
        .chunks_exact(80)
        .map(|c| BlockHeader::from_array(c.try_into().unwrap()))
        .collect()
}

/// The sync_engine target's chain: the first 2,100 mainnet headers.
fn sync_chain() -> &'static [BlockHeader] {
    static CHAIN: OnceLock<Vec<BlockHeader>> = OnceLock::new();
    CHAIN.get_or_init(|| mainnet(2100))
}

/// The chain_rules target's context: mainnet 0..=2100 in a tree.
fn rules_context() -> &'static HeaderTree {
    static TREE: OnceLock<HeaderTree> = OnceLock::new();
    TREE.get_or_init(|| {
        let headers = mainnet(2101);
        let mut tree = HeaderTree::new(Params::for_network(Network::Main));
        tree.accept(&headers[1..], u64::MAX / 4).unwrap();
        tree
    })
}

/// A fuzz check: panics on a broken property.
type Check = fn(&[u8]);

/// Every fuzz target and its check.
const TARGETS: [(&str, Check); 9] = [
    ("wire_envelope", bitwire::wire::fuzzing::check_envelope),
    ("wire_payloads", bitwire::wire::fuzzing::check_payloads),
    ("wire_deframer", bitwire::wire::fuzzing::check_deframer),
    ("wire_differential", differential::check),
    ("chain_tree", bitwire::chain::fuzzing::tree_ops),
    ("chain_rules", |d| bitwire::chain::fuzzing::check_rules(d, rules_context())),
    ("pow_hash", pow_hash::check),
    ("sync_engine", |d| bitwire::sync::fuzzing::run(d, sync_chain())),
    ("peer_handshake", |d| {
        bitwire::peer::fuzzing::handshake(d);
    }),
];

/// Runs `target`'s check on every file of corpus/<target>/; the error names
/// the seeds that failed.
fn replay(target: &str) -> Result<usize, String> {
    let check = TARGETS.iter().find(|(t, _)| *t == target).expect("a known target").1;
    let dir = format!("{}/corpus/{target}", env!("CARGO_MANIFEST_DIR"));
    let mut failed = Vec::new();
    let mut n = 0;
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .map_err(|e| format!("{dir}: {e}"))?
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    for path in paths {
        let data = std::fs::read(&path).unwrap();
        if std::panic::catch_unwind(|| check(&data)).is_err() {
            failed.push(path.display().to_string());
        }
        n += 1;
    }
    if failed.is_empty() {
        Ok(n)
    } else {
        Err(format!("{} of {n} seeds fail: {failed:?}", failed.len()))
    }
}

fn replay_all_of(target: &str) {
    let n = replay(target).unwrap();
    assert!(n >= 3, "{target}: only {n} seeds");
}

#[test]
fn wire_envelope() {
    replay_all_of("wire_envelope");
}

#[test]
fn wire_payloads() {
    replay_all_of("wire_payloads");
}

#[test]
fn wire_deframer() {
    replay_all_of("wire_deframer");
}

#[test]
fn wire_differential() {
    replay_all_of("wire_differential");
}

#[test]
fn chain_tree() {
    replay_all_of("chain_tree");
}

#[test]
fn chain_rules() {
    replay_all_of("chain_rules");
}

#[test]
fn pow_hash() {
    replay_all_of("pow_hash");
}

#[test]
fn sync_engine() {
    replay_all_of("sync_engine");
}

#[test]
fn peer_handshake() {
    replay_all_of("peer_handshake");
}

/// The seeds reach the code under test: a chain_rules seed of real headers
/// validates, and one with changed bits is refused at that header (by its
/// proof of work here; under `cfg(fuzzing)`, which bypasses it, by
/// `bad-diffbits`).
#[test]
fn seeds_reach_deep() {
    let tree = rules_context();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/corpus/chain_rules");
    let valid = std::fs::read(format!("{dir}/real_across_first_retarget")).unwrap();
    let mut t = tree.clone();
    let headers: Vec<BlockHeader> = valid[6..]
        .chunks_exact(80)
        .map(|c| BlockHeader::from_array(c.try_into().unwrap()))
        .collect();
    assert!(t.accept(headers.as_slice(), u64::MAX / 4).is_ok(), "real headers are valid");
    let bad = std::fs::read(format!("{dir}/bad_bits_third")).unwrap();
    let headers: Vec<BlockHeader> =
        bad[6..].chunks_exact(80).map(|c| BlockHeader::from_array(c.try_into().unwrap())).collect();
    let rej = tree.clone().accept(headers.as_slice(), u64::MAX / 4).unwrap_err();
    assert_eq!(rej.index, 2);
    assert!(matches!(rej.error.to_string().as_str(), "high-hash" | "bad-diffbits"), "{rej}");
    // The handshake seeds that complete a handshake reach `Ready`; the
    // hostile ones stop short of it.
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/corpus/peer_handshake");
    let state = |name: &str| {
        bitwire::peer::fuzzing::handshake(&std::fs::read(format!("{dir}/{name}")).unwrap())
    };
    use bitwire::peer::HandshakeState::{AwaitVersion, Ready};
    assert_eq!(state("outbound_full_handshake"), Ready);
    assert_eq!(state("inbound_full_handshake"), Ready);
    assert_eq!(state("negotiation_after_verack"), Ready);
    assert_eq!(state("inbound_self_connection"), AwaitVersion);
    assert_eq!(state("obsolete_version"), AwaitVersion);
}

#[test]
fn every_fuzz_target_has_seeds_and_a_replay() {
    let root = env!("CARGO_MANIFEST_DIR");
    let manifest = std::fs::read_to_string(format!("{root}/fuzz/Cargo.toml")).unwrap();
    let mut bins: Vec<&str> = manifest
        .split("\n[[bin]]\n")
        .skip(1)
        .filter_map(|b| b.lines().find(|l| l.starts_with("name = ")))
        .filter_map(|l| l.split('"').nth(1))
        .collect();
    bins.sort();
    let mut replayed: Vec<&str> =
        TARGETS.iter().map(|(t, _)| *t).filter(|t| !t.starts_with("__")).collect();
    replayed.sort();
    assert!(bins.len() >= 9, "{bins:?}");
    assert_eq!(bins, replayed, "fuzz/Cargo.toml targets vs the replays here");
    for t in bins {
        assert!(std::path::Path::new(&format!("{root}/fuzz/fuzz_targets/{t}.rs")).exists());
        let seeds = std::fs::read_dir(format!("{root}/corpus/{t}")).unwrap().count();
        assert!(seeds >= 3, "corpus/{t}: {seeds} seeds");
    }
    assert!(std::path::Path::new(&format!("{root}/corpus/bitwire.dict")).exists());
}
