//! Low-work header spam protection (Core's headers presync): a chain below
//! the minimum chain work is not stored until the peer has shown the work,
//! an endless cheap chain is cut off at a fixed per-peer budget, and the
//! honest chain still syncs beside it.

use core::time::Duration;

use bitwire::chain::{params::Params, HeaderTree};
use bitwire::peer::DisconnectReason;
use bitwire::pow::U256;
use bitwire::sync::sim::{Sim, START};
use bitwire::sync::{Config, Engine};
use bitwire::wire::{BlockHeader, HEADER_SIZE};
use bitwire::Network;

mod support;
use support::served;

/// A regtest chain of `n` headers on genesis; `salt` makes it distinct.
fn regtest_chain(n: usize, salt: u8) -> Vec<BlockHeader> {
    let genesis = Params::for_network(Network::Regtest).genesis();
    let mut out = vec![genesis];
    for i in 0..n {
        let prev = out[out.len() - 1];
        let mut h = prev;
        h.prev_blockhash = prev.block_hash();
        h.version.set(0x2000_0000);
        h.time.set(genesis.time() + 600 * (i as u32 + 1));
        h.merkle_root = [salt; 32];
        for nonce in 0.. {
            h.nonce.set(nonce);
            // Regtest target 0x207fffff: the hash's top byte below 0x7f is enough.
            if h.block_hash().0[31] < 0x7f {
                break;
            }
        }
        out.push(h);
    }
    out
}

fn server(chain: &[BlockHeader], seed: u64) -> Engine {
    let mut tree = HeaderTree::new(Params::for_network(chain_network(chain)));
    for c in chain[1..].chunks(2000) {
        tree.accept(c, START.as_secs()).unwrap();
    }
    let mut config = Config::new(tree.params().network);
    config.sync = false;
    config.nonce_seed = seed;
    Engine::new(config, tree, None)
}

fn chain_network(chain: &[BlockHeader]) -> Network {
    if chain[0] == Params::for_network(Network::Main).genesis() {
        Network::Main
    } else {
        Network::Regtest
    }
}

/// The chainwork a tree holding `chain[..=height]` has at `height`.
fn work_at(chain: &[BlockHeader], height: usize) -> U256 {
    let mut tree = HeaderTree::new(Params::for_network(chain_network(chain)));
    for c in chain[1..=height].chunks(2000) {
        tree.accept(c, START.as_secs()).unwrap();
    }
    tree.tip().chainwork
}

fn client(network: Network, servers: &[usize], min: U256, max_presync: u64) -> Engine {
    let mut config = Config::new(network);
    config.connect = servers.iter().map(|&i| Sim::addr_of(i)).collect();
    config.serve = false;
    config.stop_when_synced = true;
    config.nonce_seed = 99;
    config.min_chain_work = Some(min);
    config.max_presync_headers = max_presync;
    Engine::new(config, HeaderTree::new(Params::for_network(network)), None)
}

#[test]
fn mainnet_chain_is_presynced_then_redownloaded() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/corpus/vectors/headers/mainnet_0_39999.bin");
    let bytes = std::fs::read(path).unwrap();
    let chain: Vec<BlockHeader> = bytes
        .chunks_exact(HEADER_SIZE)
        .map(|c| BlockHeader::from_array(c.try_into().unwrap()))
        .collect();
    let min = work_at(&chain, 30_000);
    let mut sim = Sim::new();
    let s = sim.add_engine(server(&chain, 1));
    let c = sim.add_engine(client(Network::Main, &[s], min, 1_000_000));
    // While presyncing, nothing is stored.
    assert!(sim.run_until(Duration::from_secs(60), |sim| served(sim, s) >= 20_000));
    assert_eq!(sim.engine(c).tree().len(), 1);
    assert!(sim.run_until(Duration::from_secs(60), |sim| sim.engine(c).is_done()));
    assert_eq!(sim.engine(c).height(), 39_999);
    assert_eq!(sim.engine(c).tip(), chain[39_999].block_hash());
    // Presync up to the batch that reaches the minimum (30,000), then all again.
    assert_eq!(served(&sim, s), 30_000 + 39_999);
    assert!(sim.disconnects(c).iter().all(|r| matches!(r, DisconnectReason::Closed(_))));
}

#[test]
fn endless_low_work_chain_is_cut_off_and_honest_chain_syncs() {
    // On regtest every header has the same work, so "low work" means "long
    // below the minimum": the client resumes with 8,000 honest headers, the
    // minimum is the honest work at 10,000; the honest peer needs 2,000
    // presynced headers to show it, the cheap chain from genesis would need
    // 10,000 and hits the 6,000-header budget first.
    let honest = regtest_chain(12_000, 1);
    let cheap = regtest_chain(20_000, 2);
    let min = work_at(&honest, 10_000);
    let mut sim = Sim::new();
    let a = sim.add_engine(server(&cheap, 2));
    let h = sim.add_engine(server(&honest, 1));
    let mut tree = HeaderTree::new(Params::for_network(Network::Regtest));
    for c in honest[1..=8000].chunks(2000) {
        tree.accept(c, START.as_secs()).unwrap();
    }
    let mut config = Config::new(Network::Regtest);
    config.connect = vec![Sim::addr_of(a), Sim::addr_of(h)];
    config.serve = false;
    config.min_chain_work = Some(min);
    config.max_presync_headers = 6_000;
    let c = sim.add_engine(Engine::new(config, tree, None));
    let mut max_tree = 0;
    let mut synced_before_cut_off = false;
    let cut_off = DisconnectReason::PresyncTooLong { max: 6_000 };
    let done = sim.run_until(Duration::from_secs(120), |sim| {
        max_tree = max_tree.max(sim.engine(c).tree().len());
        let cut = sim.disconnects(c).contains(&cut_off);
        synced_before_cut_off |= !cut && sim.engine(c).is_synced();
        sim.engine(c).is_synced() && cut
    });
    assert!(done);
    // The attacker's presync runs beside the honest sync, not before it.
    assert!(synced_before_cut_off);
    assert_eq!(sim.engine(c).height(), 12_000);
    assert_eq!(sim.engine(c).tip(), honest[12_000].block_hash());
    // Nothing of the cheap chain was ever stored.
    assert!(!sim.engine(c).tree().contains(&cheap[1].block_hash()));
    assert_eq!(max_tree, 12_001);
    let reasons = sim.disconnects(c);
    assert!(reasons.contains(&DisconnectReason::PresyncTooLong { max: 6_000 }), "{reasons:?}");
    // The attacker was cut off after the budget plus one batch.
    assert!(served(&sim, a) <= 8_000, "{}", served(&sim, a));
}

#[test]
fn a_chain_that_ends_below_the_minimum_is_not_stored() {
    let chain = regtest_chain(5_000, 3);
    let min = work_at(&regtest_chain(6_000, 3), 6_000);
    let mut sim = Sim::new();
    let s = sim.add_engine(server(&chain, 1));
    let c = sim.add_engine(client(Network::Regtest, &[s], min, 1_000_000));
    assert!(sim.run_until(Duration::from_secs(60), |sim| sim.engine(c).is_done()));
    // Synced in the sense that the peer has nothing more; nothing stored.
    assert!(sim.engine(c).is_synced());
    assert_eq!(sim.engine(c).height(), 0);
    assert_eq!(served(&sim, s), 5_000);
}

#[test]
fn a_different_chain_in_redownload_is_caught() {
    let honest = regtest_chain(6_000, 1);
    let other = regtest_chain(2_000, 4);
    let min = work_at(&honest, 4_000);
    let mut sim = Sim::new();
    let s = sim.add_engine(server(&honest, 1));
    // Honest through presync (two batches), then the first redownloaded
    // batch is swapped for another chain from genesis.
    let mut sent = 0;
    let mut swapped = Vec::new();
    bitwire::wire::write_message(
        &mut swapped,
        Network::Regtest.magic(),
        &bitwire::wire::msg::Headers(&other[1..]),
    );
    let swapped = swapped[24..].to_vec();
    sim.set_tamper(
        s,
        Box::new(move |command, _payload| {
            if command != bitwire::wire::Command::HEADERS {
                return None;
            }
            sent += 1;
            (sent == 3).then(|| swapped.clone())
        }),
    );
    let c = sim.add_engine(client(Network::Regtest, &[s], min, 1_000_000));
    sim.run_until(Duration::from_secs(60), |sim| !sim.disconnects(c).is_empty());
    assert_eq!(sim.disconnects(c)[0], DisconnectReason::RedownloadMismatch { batch: 0 });
    assert_eq!(sim.engine(c).tree().len(), 1, "nothing stored from the swapped batch");
}
