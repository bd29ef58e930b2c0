//! Memory budgets through the engine's API, without sockets: every peer's
//! buffers stay within `Config::peer_budget`, all of them together within
//! `Config::max_buffered_total`, and the peer holding the most is the one
//! dropped when the total would pass it. (The same with real sockets and
//! resident memory: tests/memory_budget.rs.)

use bitwire::chain::{params::Params, HeaderTree};
use bitwire::net::{Link, PeerId, Service};
use bitwire::peer::DisconnectReason;
use bitwire::sync::sim::{Sim, START};
use bitwire::sync::{Config, Engine, Event};
use bitwire::wire::msg::{Verack, Version};
use bitwire::wire::{write_message, NetAddr, ServiceFlags};
use bitwire::Network;

const MAGIC: bitwire::Magic = bitwire::Magic::MAIN;

fn handshake(nonce: u64) -> Vec<u8> {
    let mut out = Vec::new();
    let v = Version {
        version: 70016,
        services: ServiceFlags(9),
        timestamp: START.as_secs() as i64,
        receiver: NetAddr::new(ServiceFlags::NONE, [0; 16], 0),
        sender: NetAddr::new(ServiceFlags::NONE, [0; 16], 0),
        nonce,
        user_agent: b"/budget:0/",
        start_height: 0,
        relay: false,
    };
    write_message(&mut out, MAGIC, &v);
    write_message(&mut out, MAGIC, &Verack);
    out
}

/// The envelope of a `block` message declaring the wire maximum, 4,000,000
/// bytes of payload, followed by that many bytes.
fn max_block() -> Vec<u8> {
    let mut big = Vec::with_capacity(24 + 4_000_000);
    big.extend_from_slice(&MAGIC.0);
    big.extend_from_slice(b"block\0\0\0\0\0\0\0");
    big.extend_from_slice(&4_000_000u32.to_le_bytes());
    big.extend_from_slice(&[0; 4]);
    big.resize(24 + 4_000_000, 0xab);
    big
}

fn disconnects(e: &mut Engine) -> Vec<DisconnectReason> {
    std::iter::from_fn(|| e.poll_event())
        .filter_map(|ev| match ev {
            Event::Disconnected { reason, .. } => Some(reason),
            _ => None,
        })
        .collect()
}

#[test]
fn the_overall_budget_drops_the_peer_holding_the_most() {
    const PEERS: u64 = 40;
    const TOTAL: usize = 8 << 20;
    let mut config = Config::new(Network::Main);
    config.max_buffered_total = TOTAL;
    let per_peer = config.peer_budget();
    let mut e = Engine::new(config, HeaderTree::new(Params::for_network(Network::Main)), None);
    let now = START;
    for p in 1..=PEERS {
        e.connected(PeerId(p), Sim::addr_of(p as usize), Link::Inbound, now);
        e.received(PeerId(p), &handshake(p), now);
    }
    assert_eq!(e.ready_count(), PEERS as usize);
    let big = max_block();
    let mut peak = 0;
    // Round robin, 64 KiB a turn; peer p starts p turns late, so at any time
    // one peer holds more than the others.
    for turn in 0..200usize {
        for p in 1..=PEERS {
            let Some(at) = turn.checked_sub(p as usize).map(|t| t * 65_536) else { continue };
            if at >= big.len() {
                continue;
            }
            e.received(PeerId(p), &big[at..(at + 65_536).min(big.len())], now);
            let total = e.buffered_bytes();
            peak = peak.max(total);
            assert!(total <= TOTAL, "total {total} over the budget after a call");
            for q in 1..=PEERS {
                if let Some(held) = e.peer_buffered_bytes(PeerId(q)) {
                    assert!(held <= per_peer, "peer {q} holds {held} > {per_peer}");
                }
            }
        }
    }
    eprintln!("peak buffered {peak} bytes, budget {TOTAL}");
    let reasons = disconnects(&mut e);
    let budget_drops: Vec<_> =
        reasons.iter().filter(|r| matches!(r, DisconnectReason::MemoryBudget { .. })).collect();
    assert!(!budget_drops.is_empty(), "{reasons:?}");
    for r in &budget_drops {
        let DisconnectReason::MemoryBudget { budget, total, held } = r else { unreachable!() };
        assert_eq!(*budget, TOTAL);
        assert!(total > budget && *held > 0);
        // The largest holder goes: at least its fair share.
        assert!(*held >= total / PEERS as usize, "{r}");
    }
    // Every attacker ends dropped, by the budget or by the per-peer input
    // budget (2 MiB by default, below the 4,000,000 declared).
    assert_eq!(e.peer_count(), 0, "{reasons:?}");
    assert!(reasons.iter().all(|r| matches!(
        r,
        DisconnectReason::MemoryBudget { .. } | DisconnectReason::MessageTooLarge { .. }
    )));
}

#[test]
fn the_input_buffer_stops_one_byte_past_the_message_budget() {
    let mut config = Config::new(Network::Main);
    config.max_message = 100_000;
    config.max_output_per_peer = 50_000;
    assert_eq!(config.peer_budget(), 100_001 + 100_000);
    let mut e = Engine::new(config, HeaderTree::new(Params::for_network(Network::Main)), None);
    let p = PeerId(1);
    e.connected(p, Sim::addr_of(1), Link::Inbound, START);
    e.received(p, &handshake(1), START);
    let big = max_block();
    let mut peak = 0;
    for chunk in big.chunks(7_000).take(40) {
        e.received(p, chunk, START);
        peak = peak.max(e.peer_buffered_bytes(p).unwrap_or(0));
    }
    assert!(peak <= 100_001 + 4096, "input capacity {peak}");
    assert_eq!(
        disconnects(&mut e),
        [DisconnectReason::MessageTooLarge { max: 100_000, found: 100_001 }]
    );
}
