//! DNS seeds: the host names Bitcoin Core asks for its first peers.
//!
//! The lists are Core's `vSeeds` in src/kernel/chainparams.cpp (v29 and
//! later), in Core's order; regtest has none. A seed answers an `A` / `AAAA`
//! query with addresses of nodes it crawled, all on the network's default
//! port. Resolution goes through the system resolver
//! ([`std::net::ToSocketAddrs`]) and blocks: call it before the reactor runs.

use std::collections::HashSet;
use std::net::{SocketAddr, ToSocketAddrs};

use crate::Network;

/// Core's `vSeeds` for mainnet (src/kernel/chainparams.cpp, `CMainParams`).
const MAIN: &[&str] = &[
    "seed.bitcoin.sipa.be",
    "dnsseed.bluematt.me",
    "seed.bitcoin.jonasschnelli.ch",
    "seed.btc.petertodd.net",
    "seed.bitcoin.sprovoost.nl",
    "dnsseed.emzy.de",
    "seed.bitcoin.wiz.biz",
    "seed.mainnet.achownodes.xyz",
];

/// Core's `vSeeds` for testnet3 (src/kernel/chainparams.cpp, `CTestNetParams`).
const TESTNET3: &[&str] = &[
    "testnet-seed.bitcoin.jonasschnelli.ch",
    "seed.tbtc.petertodd.net",
    "seed.testnet.bitcoin.sprovoost.nl",
    "testnet-seed.bluematt.me",
    "seed.testnet.achownodes.xyz",
];

/// Core's `vSeeds` for testnet4 (src/kernel/chainparams.cpp, `CTestNet4Params`).
const TESTNET4: &[&str] = &["seed.testnet4.bitcoin.sprovoost.nl", "seed.testnet4.wiz.biz"];

/// Core's `vSeeds` for the default signet (src/kernel/chainparams.cpp,
/// `SigNetParams`, used only without a custom `-signetchallenge`).
const SIGNET: &[&str] = &["seed.signet.bitcoin.sprovoost.nl", "seed.signet.achownodes.xyz"];

/// The DNS seed host names of `network`, as Bitcoin Core lists them (empty
/// for regtest).
pub fn dns_seeds(network: Network) -> &'static [&'static str] {
    match network {
        Network::Main => MAIN,
        Network::Testnet3 => TESTNET3,
        Network::Testnet4 => TESTNET4,
        Network::Signet => SIGNET,
        Network::Regtest => &[],
    }
}

/// What resolving the seeds gave.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct Resolved {
    /// Distinct addresses, at most the number asked for, taken from every
    /// seed in turn so that no one seed picks all our peers.
    pub addrs: Vec<SocketAddr>,
    /// Seeds that failed to resolve, with the resolver's error.
    pub failed: Vec<(&'static str, std::io::Error)>,
}

/// Resolves every DNS seed of `network` on its default port and returns up to
/// `max` distinct addresses, alternating between seeds.
pub fn resolve_seeds(network: Network, max: usize) -> Resolved {
    let port = network.default_port();
    let mut per_seed = Vec::new();
    let mut failed = Vec::new();
    for &seed in dns_seeds(network) {
        match (seed, port).to_socket_addrs() {
            Ok(addrs) => per_seed.push(addrs.collect::<Vec<_>>()),
            Err(e) => failed.push((seed, e)),
        }
    }
    Resolved { addrs: interleave(&per_seed, max), failed }
}

/// Takes one address from each list in turn, skipping duplicates, until
/// `max` are taken or the lists run out.
fn interleave(lists: &[Vec<SocketAddr>], max: usize) -> Vec<SocketAddr> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    let longest = lists.iter().map(Vec::len).max().unwrap_or(0);
    for i in 0..longest {
        for list in lists {
            if out.len() >= max {
                return out;
            }
            if let Some(&addr) = list.get(i) {
                if seen.insert(addr) {
                    out.push(addr);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_public_network_has_seeds_and_regtest_none() {
        for n in Network::ALL {
            let seeds = dns_seeds(n);
            assert_eq!(seeds.is_empty(), n == Network::Regtest, "{n}");
            for s in seeds {
                assert!(s.contains('.') && !s.ends_with('.'), "{s}");
            }
        }
        assert_eq!(dns_seeds(Network::Main).len(), 8);
    }

    #[test]
    fn interleave_alternates_dedups_and_caps() {
        let a: SocketAddr = "1.1.1.1:8333".parse().unwrap();
        let b: SocketAddr = "2.2.2.2:8333".parse().unwrap();
        let c: SocketAddr = "3.3.3.3:8333".parse().unwrap();
        let d: SocketAddr = "4.4.4.4:8333".parse().unwrap();
        let lists = vec![vec![a, b, c], vec![a, d]];
        assert_eq!(interleave(&lists, 10), [a, b, d, c]);
        assert_eq!(interleave(&lists, 2), [a, b]);
        assert!(interleave(&[], 5).is_empty());
    }

    #[test]
    fn regtest_resolves_to_nothing_without_touching_the_network() {
        let r = resolve_seeds(Network::Regtest, 8);
        assert!(r.addrs.is_empty() && r.failed.is_empty());
    }
}
