//! The version handshake and connection-level rules, driven through the
//! engine's public API in the deterministic simulator.

use core::time::Duration;

use bitwire::chain::{params::Params, HeaderTree};
use bitwire::net::{Closed, Link};
use bitwire::peer::{DisconnectReason, HandshakeState, PROTOCOL_VERSION};
use bitwire::sync::sim::{RawPeer, Sim};
use bitwire::sync::{Config, Engine, Event};
use bitwire::wire::msg::{Encode, Ping, Verack, Version};
use bitwire::wire::{Command, NetAddr, ServiceFlags};
use bitwire::Network;

fn engine(connect: &[usize], seed: u64) -> Engine {
    let mut config = Config::new(Network::Main);
    config.connect = connect.iter().map(|&i| Sim::addr_of(i)).collect();
    config.nonce_seed = seed;
    Engine::new(config, HeaderTree::new(Params::for_network(Network::Main)), None)
}

fn version(nonce: u64, proto: i32, services: u64) -> Version<'static> {
    Version {
        version: proto,
        services: ServiceFlags(services),
        timestamp: 1_767_225_600,
        receiver: NetAddr::new(ServiceFlags::NONE, [0; 16], 0),
        sender: NetAddr::new(ServiceFlags::NONE, [0; 16], 0),
        nonce,
        user_agent: b"/test:0/",
        start_height: 0,
        relay: false,
    }
}

#[test]
fn handshake_completes_both_directions() {
    let mut sim = Sim::new();
    let a = sim.add_engine(engine(&[1], 1));
    let b = sim.add_engine(engine(&[], 2));
    assert!(sim.run_until(Duration::from_secs(5), |s| {
        s.engine(a).ready_count() == 1 && s.engine(b).ready_count() == 1
    }));
    let pa = &sim.engine(a).peers()[0];
    assert_eq!(pa.link, Link::Outbound);
    assert_eq!(pa.state, HandshakeState::Ready);
    let remote = pa.remote.as_ref().unwrap();
    assert_eq!(remote.version, PROTOCOL_VERSION);
    assert!(remote.user_agent.starts_with("/bitwire:"));
    let pb = &sim.engine(b).peers()[0];
    assert_eq!(pb.link, Link::Inbound);
    assert!(sim.nodes[b].events.iter().any(|e| matches!(e, Event::Ready { .. })));
    // Both stay connected through several ping rounds.
    sim.run_for(Duration::from_secs(30 * 60));
    assert_eq!(sim.engine(a).ready_count(), 1);
    assert_eq!(sim.engine(b).ready_count(), 1);
    assert!(sim.disconnects(a).is_empty(), "{:?}", sim.disconnects(a));
}

#[test]
fn outbound_message_order_matches_core() {
    // A raw peer listens; the engine dials it.
    let mut sim = Sim::new();
    let _e = sim.add_engine(engine(&[1], 3));
    let r = sim.add_raw(RawPeer::new(Network::Main.magic()));
    sim.run_for(Duration::from_millis(10));
    assert_eq!(sim.raw(r).commands(), ["version"]);
    sim.raw(r).send(&version(99, 70016, 9));
    sim.run_for(Duration::from_millis(10));
    assert_eq!(sim.raw(r).commands(), ["version", "wtxidrelay", "sendaddrv2", "verack"]);
    sim.raw(r).clear();
    sim.raw(r).send(&Verack);
    sim.run_for(Duration::from_millis(10));
    let cmds = sim.raw(r).commands();
    assert_eq!(cmds[..2], ["sendheaders", "ping"]);
    assert!(cmds.contains(&"getheaders"), "{cmds:?}");
}

#[test]
fn inbound_waits_for_version_then_answers() {
    let mut sim = Sim::new();
    let e = sim.add_engine(engine(&[], 4));
    let r = sim.add_raw(RawPeer::new(Network::Main.magic()));
    sim.raw(r).connect(Sim::addr_of(e));
    sim.run_for(Duration::from_secs(1));
    assert!(sim.raw(r).received.is_empty(), "inbound must not speak first");
    // Old peer (70015): no wtxidrelay / sendaddrv2, and no sendheaders? (>= 70012 gets it).
    sim.raw(r).send(&version(5, 70015, 9));
    sim.run_for(Duration::from_millis(10));
    assert_eq!(sim.raw(r).commands(), ["version", "verack"]);
    sim.raw(r).send(&Verack);
    sim.run_for(Duration::from_millis(10));
    assert_eq!(sim.raw(r).commands()[2..4], ["sendheaders", "ping"]);
    // An inbound peer is not asked for headers.
    assert!(!sim.raw(r).commands().contains(&"getheaders"));
    // Pings are answered with pongs carrying the nonce.
    sim.raw(r).clear();
    sim.raw(r).send(&Ping(0x1234));
    sim.run_for(Duration::from_millis(10));
    let (cmd, payload) = &sim.raw(r).received[0];
    assert_eq!(*cmd, Command::PONG);
    assert_eq!(payload[..], 0x1234u64.to_le_bytes());
}

#[test]
fn handshake_timeout_after_60s() {
    let mut sim = Sim::new();
    let e = sim.add_engine(engine(&[], 5));
    let r = sim.add_raw(RawPeer::new(Network::Main.magic()));
    sim.raw(r).connect(Sim::addr_of(e));
    let start = sim.now;
    sim.run_for(Duration::from_secs(59));
    assert_eq!(sim.engine(e).peer_count(), 1);
    sim.run_for(Duration::from_secs(2));
    assert_eq!(sim.engine(e).peer_count(), 0);
    match &sim.disconnects(e)[..] {
        [DisconnectReason::HandshakeTimeout { waited }] => {
            assert_eq!(*waited, Duration::from_secs(60));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(sim.raw(r).closed, Some(Closed::ByPeer));
    assert!(sim.now.saturating_since(start) >= Duration::from_secs(60));
}

/// A message followed by bytes Core does not read (a newer peer's extra
/// field, say).
struct WithExtra<M>(M, &'static [u8]);

impl<M: Encode> Encode for WithExtra<M> {
    fn command(&self) -> Command {
        self.0.command()
    }
    fn payload_len(&self) -> usize {
        self.0.payload_len() + self.1.len()
    }
    fn encode_payload(&self, out: &mut Vec<u8>) {
        self.0.encode_payload(out);
        out.extend_from_slice(self.1);
    }
}

#[test]
fn bytes_after_the_last_field_are_ignored_as_core_ignores_them() {
    // Core's ProcessMessage reads the fields it knows and never checks the
    // rest, so a version (or verack, or ping) with more bytes after them is
    // taken as if they were not there: no drop, no disconnect.
    let mut sim = Sim::new();
    let e = sim.add_engine(engine(&[], 6));
    let r = sim.add_raw(RawPeer::new(Network::Main.magic()));
    sim.raw(r).connect(Sim::addr_of(e));
    sim.run_for(Duration::from_millis(10));
    sim.raw(r).send(&WithExtra(version(6, PROTOCOL_VERSION, 9), b"\x01future field"));
    sim.run_for(Duration::from_millis(10));
    assert_eq!(sim.raw(r).commands(), ["version", "wtxidrelay", "sendaddrv2", "verack"]);
    sim.raw(r).send(&WithExtra(Verack, b"\x00"));
    sim.run_for(Duration::from_millis(10));
    assert_eq!(sim.engine(e).ready_count(), 1);
    let remote = sim.engine(e).peers()[0].remote.clone().unwrap();
    assert_eq!((remote.version, remote.user_agent.as_str()), (PROTOCOL_VERSION, "/test:0/"));
    sim.raw(r).clear();
    sim.raw(r).send(&WithExtra(Ping(0x77), &[0xff; 9]));
    sim.run_for(Duration::from_millis(10));
    let (cmd, payload) = &sim.raw(r).received[0];
    assert_eq!((*cmd, &payload[..]), (Command::PONG, &0x77u64.to_le_bytes()[..]));
    sim.run_for(Duration::from_secs(60));
    assert!(sim.disconnects(e).is_empty(), "{:?}", sim.disconnects(e));
}
