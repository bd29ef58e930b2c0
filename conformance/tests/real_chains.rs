//! Issue 7, item 1: on every consecutive header file in corpus/vectors/headers,
//! libbitcoinkernel and bitwire agree on every header (accepted or rejected,
//! class and reason) and on the best tip after each one.

use std::collections::BTreeMap;
use std::time::Instant;

use bitwire::Network;
use bitwire_conformance::{read_headers, repo_root, Pair, Verdict};

fn headers_file(name: &str) -> Vec<bitwire::wire::BlockHeader> {
    let path = repo_root().join("corpus/vectors/headers").join(name);
    read_headers(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Feeds `files` in order to one fresh pair; returns the verdict counts.
fn run(network: Network, files: &[&str]) -> (Pair, BTreeMap<String, usize>) {
    let mut pair = Pair::new(network).expect("kernel starts");
    let mut counts = BTreeMap::new();
    let start = Instant::now();
    for file in files {
        for (i, h) in headers_file(file).iter().enumerate() {
            let v = pair
                .submit(h)
                .unwrap_or_else(|d| panic!("{network} {file} header #{i}: engines disagree: {d}"));
            *counts.entry(v.to_string()).or_insert(0) += 1;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    eprintln!(
        "{network} {files:?}: {} headers through both engines in {secs:.2} s ({:.0}/s): {counts:?}",
        pair.submitted,
        pair.submitted as f64 / secs
    );
    (pair, counts)
}

/// A file that starts at genesis: every header accepted by both, and both end
/// on its last header at its height.
fn from_genesis(network: Network, file: &str) {
    let headers = headers_file(file);
    let (pair, counts) = run(network, &[file]);
    assert_eq!(counts.get("accepted"), Some(&headers.len()), "{counts:?}");
    let tip = pair.bitwire.best_tip();
    assert_eq!(tip.hash, headers.last().unwrap().block_hash());
    assert_eq!(tip.height as usize, headers.len() - 1);
}

#[test]
fn mainnet_0_39999() {
    from_genesis(Network::Main, "mainnet_0_39999.bin");
}

#[test]
fn testnet3_0_9999() {
    from_genesis(Network::Testnet3, "testnet3_0_9999.bin");
}

#[test]
fn signet_0_2016() {
    from_genesis(Network::Signet, "signet_0_2016.bin");
}

#[test]
fn testnet4_0_30() {
    from_genesis(Network::Testnet4, "testnet4_0_30.bin");
}

/// The testnet3 fork at heights 1..2 (a real alternative branch), before and
/// after the main chain: first it is the best chain, then the main chain
/// overtakes it; after the main chain it is a side branch with less work.
#[test]
fn testnet3_fork_before_and_after_the_main_chain() {
    let fork = headers_file("testnet3_core_fork_1_2.bin");
    let main = headers_file("testnet3_0_9999.bin");
    let (pair, counts) =
        run(Network::Testnet3, &["testnet3_core_fork_1_2.bin", "testnet3_0_9999.bin"]);
    assert_eq!(counts.get("accepted"), Some(&(fork.len() + main.len())), "{counts:?}");
    assert_eq!(pair.bitwire.best_tip().hash, main.last().unwrap().block_hash());

    let (pair, counts) =
        run(Network::Testnet3, &["testnet3_0_9999.bin", "testnet3_core_fork_1_2.bin"]);
    assert_eq!(counts.get("accepted"), Some(&(fork.len() + main.len())), "{counts:?}");
    assert_eq!(pair.bitwire.best_tip().hash, main.last().unwrap().block_hash());
}

/// Files that do not start at genesis: the kernel has no anchor mechanism, so
/// both engines (bitwire without its anchor) must call every header an orphan.
#[test]
fn files_above_genesis_are_orphans_to_both() {
    let cases = [
        (Network::Main, "mainnet_900000_900002.bin"),
        (Network::Testnet4, "testnet4_2010_2020.bin"),
        (Network::Testnet4, "testnet4_143136.bin"),
        (Network::Testnet4, "testnet4_145130_145160.bin"),
    ];
    for (network, file) in cases {
        let n = headers_file(file).len();
        let (pair, counts) = run(network, &[file]);
        let orphan = Verdict::Rejected {
            class: bitwire_conformance::Class::MissingPrev,
            reason: "prev-blk-not-found".to_string(),
        };
        assert_eq!(counts.get(&orphan.to_string()), Some(&n), "{file}: {counts:?}");
        assert_eq!(pair.bitwire.best_tip().height, 0);
    }
}
