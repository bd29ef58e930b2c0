//! Connection-level rules against scripted (raw) peers: every misbehaviour
//! ends in the typed reason Core would act on, and what Core ignores is
//! ignored.

use core::time::Duration;

use bitwire::chain::{params::Params, HeaderError, HeaderTree};
use bitwire::net::{Io, Link, PeerId, Service, Time};
use bitwire::peer::{DisconnectReason, MIN_PEER_PROTO_VERSION};
use bitwire::sync::sim::{RawPeer, Sim, START};
use bitwire::sync::{Config, Engine, Event};
use bitwire::wire::msg::{
    GetData, GetHeaders, Headers, Ping, SendAddrV2, Verack, Version, WtxidRelay,
};
use bitwire::wire::{
    write_message, BlockHash, BlockHeader, Command, InvEntry, InvType, NetAddr, ServiceFlags,
    HEADER_SIZE,
};
use bitwire::Network;

const MAGIC: bitwire::Magic = bitwire::Magic::MAIN;

fn mainnet_headers(n: usize) -> Vec<BlockHeader> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/corpus/vectors/headers/mainnet_0_39999.bin");
    let bytes = std::fs::read(path).unwrap();
    bytes
        .chunks_exact(HEADER_SIZE)
        .take(n)
        .map(|c| BlockHeader::from_array(c.try_into().unwrap()))
        .collect()
}

fn engine_with(connect: &[usize], seed: u64, tree: HeaderTree) -> Engine {
    let mut config = Config::new(tree.params().network);
    config.connect = connect.iter().map(|&i| Sim::addr_of(i)).collect();
    config.nonce_seed = seed;
    Engine::new(config, tree, None)
}

fn engine(connect: &[usize], seed: u64) -> Engine {
    engine_with(connect, seed, HeaderTree::new(Params::for_network(Network::Main)))
}

fn version(nonce: u64, proto: i32, services: u64) -> Version<'static> {
    Version {
        version: proto,
        services: ServiceFlags(services),
        timestamp: START.as_secs() as i64,
        receiver: NetAddr::new(ServiceFlags::NONE, [0; 16], 0),
        sender: NetAddr::new(ServiceFlags::NONE, [0; 16], 0),
        nonce,
        user_agent: b"/raw:0/",
        start_height: 0,
        relay: false,
    }
}

/// An engine at 0 and a raw peer at 1 that dialled it and finished the
/// handshake; the raw peer's inbox is cleared.
fn inbound_pair(e: Engine) -> (Sim, usize, usize) {
    let mut sim = Sim::new();
    let en = sim.add_engine(e);
    let r = sim.add_raw(RawPeer::new(MAGIC));
    sim.raw(r).connect(Sim::addr_of(en));
    sim.raw(r).send(&version(7, 70016, 9));
    sim.raw(r).send(&Verack);
    sim.run_for(Duration::from_millis(10));
    assert_eq!(sim.engine(en).ready_count(), 1);
    sim.raw(r).clear();
    (sim, en, r)
}

fn only_disconnect(sim: &Sim, node: usize) -> DisconnectReason {
    match &sim.disconnects(node)[..] {
        [one] => one.clone(),
        other => panic!("expected one disconnect, found {other:?}"),
    }
}

#[test]
fn self_connection_is_detected_by_nonce() {
    let mut sim = Sim::new();
    let e = sim.add_engine(engine(&[0], 1));
    sim.run_for(Duration::from_secs(1));
    let reasons = sim.disconnects(e);
    assert!(reasons.contains(&DisconnectReason::SelfConnection), "{reasons:?}");
    assert_eq!(sim.engine(e).peer_count(), 0);
    // Not dialled again.
    sim.run_for(Duration::from_secs(60));
    let connects = sim.nodes[e]
        .events
        .iter()
        .filter(|e| matches!(e, Event::Connected { link: Link::Outbound, .. }))
        .count();
    assert_eq!(connects, 1);
}

#[test]
fn peers_below_min_version_are_refused() {
    let mut sim = Sim::new();
    let e = sim.add_engine(engine(&[], 2));
    let r = sim.add_raw(RawPeer::new(MAGIC));
    sim.raw(r).connect(Sim::addr_of(e));
    sim.raw(r).send(&version(7, MIN_PEER_PROTO_VERSION - 1, 9));
    sim.run_for(Duration::from_millis(10));
    assert_eq!(
        only_disconnect(&sim, e),
        DisconnectReason::ObsoleteVersion { min: 31800, found: 31799 }
    );
    // 31800 itself is fine (and gets no wtxidrelay / sendaddrv2 / sendheaders).
    let r2 = sim.add_raw(RawPeer::new(MAGIC));
    sim.raw(r2).connect(Sim::addr_of(e));
    sim.raw(r2).send(&version(8, MIN_PEER_PROTO_VERSION, 9));
    sim.raw(r2).send(&Verack);
    sim.run_for(Duration::from_millis(10));
    assert_eq!(sim.engine(e).ready_count(), 1);
    assert_eq!(sim.raw(r2).commands(), ["version", "verack", "ping"]);
}

#[test]
fn messages_before_version_are_ignored() {
    let mut sim = Sim::new();
    let e = sim.add_engine(engine(&[], 3));
    let r = sim.add_raw(RawPeer::new(MAGIC));
    sim.raw(r).connect(Sim::addr_of(e));
    sim.raw(r).send(&Ping(1));
    sim.raw(r).send(&Verack);
    sim.raw(r).send(&Headers(&mainnet_headers(3)[1..]));
    sim.raw(r).send(&GetHeaders { version: 70016, locator: &[], stop_hash: BlockHash::ZERO });
    sim.run_for(Duration::from_secs(1));
    assert!(sim.raw(r).received.is_empty(), "{:?}", sim.raw(r).commands());
    assert_eq!(sim.engine(e).height(), 0, "headers before version are not processed");
    assert!(sim.disconnects(e).is_empty());
    // The handshake still works afterwards.
    sim.raw(r).send(&version(7, 70016, 9));
    sim.raw(r).send(&Verack);
    sim.run_for(Duration::from_millis(10));
    assert_eq!(sim.engine(e).ready_count(), 1);
}

#[test]
fn messages_before_verack_are_ignored_and_version_repeated_is_ignored() {
    let mut sim = Sim::new();
    let e = sim.add_engine(engine(&[], 4));
    let r = sim.add_raw(RawPeer::new(MAGIC));
    sim.raw(r).connect(Sim::addr_of(e));
    sim.raw(r).send(&version(7, 70016, 9));
    sim.raw(r).send(&Ping(5));
    sim.raw(r).send(&version(7, 70016, 9));
    sim.run_for(Duration::from_millis(10));
    assert_eq!(sim.raw(r).commands(), ["version", "wtxidrelay", "sendaddrv2", "verack"]);
    sim.raw(r).send(&Verack);
    sim.raw(r).send(&version(9, 70016, 9));
    sim.run_for(Duration::from_millis(10));
    assert_eq!(sim.engine(e).ready_count(), 1);
    assert!(sim.disconnects(e).is_empty());
}

#[test]
fn wtxidrelay_or_sendaddrv2_after_verack_disconnects() {
    let (mut sim, e, r) = inbound_pair(engine(&[], 5));
    sim.raw(r).send(&WtxidRelay);
    sim.run_for(Duration::from_millis(10));
    assert_eq!(
        only_disconnect(&sim, e),
        DisconnectReason::NegotiationAfterVerack { command: Command::WTXIDRELAY }
    );
    let (mut sim, e, r) = inbound_pair(engine(&[], 6));
    sim.raw(r).send(&SendAddrV2);
    sim.run_for(Duration::from_millis(10));
    assert_eq!(
        only_disconnect(&sim, e),
        DisconnectReason::NegotiationAfterVerack { command: Command::SENDADDRV2 }
    );
}

#[test]
fn more_than_2000_headers_disconnects() {
    let (mut sim, e, r) = inbound_pair(engine(&[], 7));
    let h = mainnet_headers(2002);
    sim.raw(r).send(&Headers(&h[1..]));
    sim.run_for(Duration::from_millis(10));
    assert_eq!(
        only_disconnect(&sim, e),
        DisconnectReason::TooManyHeaders { max: 2000, found: 2001 }
    );
    assert_eq!(sim.engine(e).height(), 0);
}

#[test]
fn non_continuous_headers_disconnect() {
    let (mut sim, e, r) = inbound_pair(engine(&[], 8));
    let h = mainnet_headers(20);
    let batch = [h[1], h[2], h[4], h[5], h[6], h[7], h[8], h[9], h[10]];
    sim.raw(r).send(&Headers(&batch));
    sim.run_for(Duration::from_millis(10));
    assert_eq!(only_disconnect(&sim, e), DisconnectReason::NonContinuousHeaders { index: 2 });
}

#[test]
fn bad_proof_of_work_disconnects_keeping_the_valid_prefix() {
    let (mut sim, e, r) = inbound_pair(engine(&[], 9));
    let mut h = mainnet_headers(12);
    let last = h.len() - 1;
    let nonce = h[last].nonce();
    h[last].nonce.set(nonce ^ 1);
    sim.raw(r).send(&Headers(&h[1..]));
    sim.run_for(Duration::from_millis(10));
    match only_disconnect(&sim, e) {
        DisconnectReason::InvalidHeader { height: 11, error: HeaderError::HighHash(_) } => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(sim.engine(e).height(), 10);
}

#[test]
fn unconnecting_headers_are_never_a_fault() {
    // Current Core (`HandleUnconnectingHeaders`): headers whose first parent
    // is unknown may follow a block we missed; the gap is asked for with
    // getheaders unless a request to the peer is already out
    // (`MaybeSendGetHeaders`), and the peer is never dropped for them,
    // however many, however long (older releases dropped it after
    // MAX_NUM_UNCONNECTING_HEADERS_MSGS = 10).
    let (mut sim, e, r) = inbound_pair(engine(&[], 10));
    let h = mainnet_headers(100);
    // Answer whatever the engine asked so far: nothing beyond its tip.
    sim.raw(r).send(&Headers(&[]));
    sim.run_for(Duration::from_millis(10));
    sim.raw(r).clear();
    let asked =
        |sim: &mut Sim| sim.raw(r).commands().iter().filter(|c| **c == "getheaders").count();

    sim.raw(r).send(&Headers(&h[50..51]));
    sim.run_for(Duration::from_millis(10));
    assert_eq!(asked(&mut sim), 1, "the gap is asked for");
    // More while that request is out: not asked again.
    for i in 0..30 {
        sim.raw(r).send(&Headers(&h[51 + i..52 + i]));
    }
    sim.raw(r).send(&Headers(&h[40..100]));
    sim.run_for(Duration::from_millis(10));
    assert_eq!(asked(&mut sim), 1);
    // The answer (nothing new), then another announcement: asked again.
    sim.raw(r).send(&Headers(&[]));
    sim.raw(r).send(&Headers(&h[90..91]));
    sim.run_for(Duration::from_millis(10));
    assert_eq!(asked(&mut sim), 2);
    assert!(sim.disconnects(e).is_empty(), "{:?}", sim.disconnects(e));
    let unconnected: Vec<usize> = sim
        .events(e)
        .iter()
        .filter_map(|ev| match ev {
            Event::HeadersUnconnected { count, .. } => Some(*count),
            _ => None,
        })
        .collect();
    assert_eq!(unconnected.len(), 33);
    assert_eq!(unconnected[31], 60);
    // Headers that connect still go in.
    sim.raw(r).send(&Headers(&h[1..10]));
    sim.run_for(Duration::from_millis(10));
    assert_eq!(sim.engine(e).height(), 9);
    assert!(sim.disconnects(e).is_empty());
}

/// Mines a regtest header on `prev` with `bits` (regtest targets are so easy
/// that a few nonces do).
fn mine(prev: &BlockHeader, bits: u32, time: u32) -> BlockHeader {
    let mut h = *prev;
    h.prev_blockhash = prev.block_hash();
    h.time.set(time);
    h.bits.set(bits);
    h.merkle_root = [7; 32];
    h.version.set(0x2000_0000); // BIP9 versions bits: above every BIP34/65/66 minimum
    for nonce in 0.. {
        h.nonce.set(nonce);
        let hash = h.block_hash();
        // Regtest target 0x207fffff: the top hash byte (last in wire order) below 0x80.
        let easy_enough = hash.0[31] < 0x7f || bits != 0x207fffff && hash.0[31] < 0x40;
        if easy_enough {
            break;
        }
    }
    h
}

#[test]
fn wrong_nbits_disconnects() {
    let params = Params::for_network(Network::Regtest);
    let genesis = params.genesis();
    let (mut sim, e, r) = {
        let mut sim = Sim::new();
        let en = sim.add_engine(engine_with(&[], 12, HeaderTree::new(params)));
        let r = sim.add_raw(RawPeer::new(Network::Regtest.magic()));
        sim.raw(r).connect(Sim::addr_of(en));
        sim.raw(r).send(&version(7, 70016, 9));
        sim.raw(r).send(&Verack);
        sim.run_for(Duration::from_millis(10));
        (sim, en, r)
    };
    let good = mine(&genesis, 0x207fffff, genesis.time() + 600);
    // Valid proof of work for the stated target, but regtest demands 0x207fffff.
    let bad = mine(&good, 0x203fffff, genesis.time() + 1200);
    sim.raw(r).send(&Headers(&[good, bad]));
    sim.run_for(Duration::from_millis(10));
    match only_disconnect(&sim, e) {
        DisconnectReason::InvalidHeader { height: 2, error: HeaderError::BadDiffBits { .. } } => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(sim.engine(e).height(), 1);
}

#[test]
fn unanswered_pings_time_out_after_20_minutes() {
    let (mut sim, e, _r) = inbound_pair(engine(&[], 13));
    sim.run_for(Duration::from_secs(19 * 60 + 59));
    assert!(sim.disconnects(e).is_empty());
    sim.run_for(Duration::from_secs(2));
    assert_eq!(
        only_disconnect(&sim, e),
        DisconnectReason::PingTimeout { waited: Duration::from_secs(20 * 60) }
    );
}

#[test]
fn outbound_peer_without_desirable_services_is_dropped() {
    let mut sim = Sim::new();
    let e = sim.add_engine(engine(&[1], 14));
    let r = sim.add_raw(RawPeer::new(MAGIC));
    sim.run_for(Duration::from_millis(10));
    sim.raw(r).send(&version(7, 70016, 1)); // NODE_NETWORK without NODE_WITNESS
    sim.run_for(Duration::from_millis(10));
    assert_eq!(
        sim.disconnects(e)[0],
        DisconnectReason::MissingServices { expected: 0x409, found: 1 }
    );
    // NODE_NETWORK_LIMITED | NODE_WITNESS is enough (Core: HasAllDesirableServiceFlags).
    let mut sim = Sim::new();
    let e = sim.add_engine(engine(&[1], 15));
    let r = sim.add_raw(RawPeer::new(MAGIC));
    sim.run_for(Duration::from_millis(10));
    sim.raw(r).send(&version(7, 70016, (1 << 10) | (1 << 3)));
    sim.raw(r).send(&Verack);
    sim.run_for(Duration::from_millis(10));
    assert_eq!(sim.engine(e).ready_count(), 1);
}

#[test]
fn getdata_is_answered_with_notfound() {
    let (mut sim, _e, r) = inbound_pair(engine(&[], 16));
    let items = [
        InvEntry::new(InvType::WITNESS_BLOCK, BlockHash([1; 32])),
        InvEntry::new(InvType::BLOCK, BlockHash([2; 32])),
    ];
    sim.raw(r).send(&GetData(&items));
    sim.run_for(Duration::from_millis(10));
    let (cmd, payload) = sim.raw(r).received.last().unwrap().clone();
    assert_eq!(cmd, Command::NOTFOUND);
    let mut expected = Vec::new();
    write_message(&mut expected, MAGIC, &bitwire::wire::msg::NotFound(&items));
    assert_eq!(payload[..], expected[24..]);
}

#[test]
fn getheaders_is_served_and_oversized_locators_disconnect() {
    let h = mainnet_headers(5000);
    let mut tree = HeaderTree::new(Params::for_network(Network::Main));
    tree.accept(&h[1..], START.as_secs()).unwrap();
    let (mut sim, e, r) = inbound_pair(engine_with(&[], 17, tree));
    let genesis = h[0].block_hash();
    sim.raw(r).send(&GetHeaders {
        version: 70016,
        locator: &[genesis],
        stop_hash: BlockHash::ZERO,
    });
    sim.run_for(Duration::from_millis(10));
    let (cmd, payload) = sim.raw(r).received.last().unwrap().clone();
    assert_eq!(cmd, Command::HEADERS);
    let mut expected = Vec::new();
    write_message(&mut expected, MAGIC, &Headers(&h[1..2001]));
    assert_eq!(payload[..], expected[24..]);
    // With a stop hash.
    let stop = h[10].block_hash();
    sim.raw(r).send(&GetHeaders { version: 70016, locator: &[h[5].block_hash()], stop_hash: stop });
    sim.run_for(Duration::from_millis(10));
    let (_, payload) = sim.raw(r).received.last().unwrap().clone();
    expected.clear();
    write_message(&mut expected, MAGIC, &Headers(&h[6..11]));
    assert_eq!(payload[..], expected[24..]);
    assert!(sim.nodes[e]
        .events
        .iter()
        .any(|e| matches!(e, Event::Served { count: 5, total: 2005, .. })));
    // 102 locator hashes.
    let locator = vec![genesis; 102];
    sim.raw(r).send(&GetHeaders { version: 70016, locator: &locator, stop_hash: BlockHash::ZERO });
    sim.run_for(Duration::from_millis(10));
    assert_eq!(
        only_disconnect(&sim, e),
        DisconnectReason::LocatorTooLarge { max: 101, found: 102 }
    );
}

#[test]
fn bad_checksum_is_dropped_bad_magic_disconnects() {
    let (mut sim, e, r) = inbound_pair(engine(&[], 18));
    let mut bytes = Vec::new();
    write_message(&mut bytes, MAGIC, &Ping(3));
    bytes[20] ^= 1; // checksum
    write_message(&mut bytes, MAGIC, &Ping(4));
    sim.raw(r).send_bytes(&bytes);
    sim.run_for(Duration::from_millis(10));
    // The damaged ping is dropped, the next one answered; still connected.
    assert_eq!(sim.raw(r).commands(), ["pong"]);
    assert!(sim.nodes[e].events.iter().any(|e| matches!(e, Event::FrameDropped { .. })));
    assert!(sim.disconnects(e).is_empty());
    let mut bytes = Vec::new();
    write_message(&mut bytes, bitwire::Magic::TESTNET3, &Ping(5));
    sim.raw(r).send_bytes(&bytes);
    sim.run_for(Duration::from_millis(10));
    match only_disconnect(&sim, e) {
        DisconnectReason::Wire(err) => assert_eq!(err.name(), "bad-magic"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn oversized_length_disconnects_before_buffering() {
    let (mut sim, e, r) = inbound_pair(engine(&[], 19));
    let mut bytes = Vec::new();
    write_message(&mut bytes, MAGIC, &Ping(3));
    bytes[16..20].copy_from_slice(&4_000_001u32.to_le_bytes());
    sim.raw(r).send_bytes(&bytes[..24]);
    sim.run_for(Duration::from_millis(10));
    match only_disconnect(&sim, e) {
        DisconnectReason::Wire(err) => assert_eq!(err.name(), "oversized-payload"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_peer_that_does_not_read_is_dropped_at_the_output_budget() {
    // Driven through the Service trait by hand: nobody calls `written`.
    let h = mainnet_headers(2001);
    let mut tree = HeaderTree::new(Params::for_network(Network::Main));
    tree.accept(&h[1..], START.as_secs()).unwrap();
    let mut config = Config::new(Network::Main);
    config.max_output_per_peer = 500_000;
    let mut e = Engine::new(config, tree, None);
    let peer = PeerId(1);
    let now = Time(START.0);
    e.connected(peer, Sim::addr_of(1), Link::Inbound, now);
    let mut bytes = Vec::new();
    write_message(&mut bytes, MAGIC, &version(1, 70016, 9));
    write_message(&mut bytes, MAGIC, &Verack);
    e.received(peer, &bytes, now);
    bytes.clear();
    let genesis = h[0].block_hash();
    write_message(
        &mut bytes,
        MAGIC,
        &GetHeaders { version: 70016, locator: &[genesis], stop_hash: BlockHash::ZERO },
    );
    let mut ios = Vec::new();
    for _ in 0..4 {
        e.received(peer, &bytes, now);
        while let Some(io) = e.next_io() {
            ios.push(io);
        }
        assert!(e.pending_output(peer).len() <= 500_000);
    }
    assert_eq!(ios.last(), Some(&Io::Disconnect(peer)));
    let mut reasons = Vec::new();
    while let Some(ev) = e.poll_event() {
        if let Event::Disconnected { reason, .. } = ev {
            reasons.push(reason);
        }
    }
    match &reasons[..] {
        [DisconnectReason::OutputOverflow { limit: 500_000, found }] => assert!(*found > 500_000),
        other => panic!("{other:?}"),
    }
}

#[test]
fn many_peers_pushing_maximum_messages_stay_within_the_budget() {
    // 50 peers each start a 4,000,000-byte message (the wire maximum) and
    // push it in 64 KiB reads; the engine's input budget is 256 KiB.
    let mut config = Config::new(Network::Main);
    config.max_message = 256 * 1024;
    let mut e = Engine::new(config, HeaderTree::new(Params::for_network(Network::Main)), None);
    let now = START;
    let mut msg = Vec::new();
    write_message(&mut msg, MAGIC, &version(1, 70016, 9));
    write_message(&mut msg, MAGIC, &Verack);
    let handshake_len = msg.len();
    let mut big = Vec::new();
    write_message(&mut big, MAGIC, &bitwire::wire::msg::FeeFilter(0));
    big.truncate(24);
    big[4..16].copy_from_slice(b"block\0\0\0\0\0\0\0");
    big[16..20].copy_from_slice(&4_000_000u32.to_le_bytes());
    big.resize(24 + 4_000_000, 0xab);
    msg.extend_from_slice(&big);
    let budget = 50 * (2 * 256 * 1024 + 64 * 1024 + 4096);
    let mut peak = 0;
    for p in 1..=50 {
        e.connected(PeerId(p), Sim::addr_of(1), Link::Inbound, now);
    }
    for chunk in msg[handshake_len..].chunks(64 * 1024).take(20) {
        for p in 1..=50 {
            if e.peer_count() == 0 {
                break;
            }
            if chunk.as_ptr() == msg[handshake_len..].as_ptr() {
                e.received(PeerId(p), &msg[..handshake_len], now);
            }
            e.received(PeerId(p), chunk, now);
            peak = peak.max(e.buffered_bytes());
        }
    }
    assert!(peak <= budget, "peak {peak} above {budget}");
    let mut reasons = Vec::new();
    while let Some(ev) = e.poll_event() {
        if let Event::Disconnected { reason, .. } = ev {
            reasons.push(reason);
        }
    }
    assert_eq!(reasons.len(), 50);
    assert!(reasons
        .iter()
        .all(|r| matches!(r, DisconnectReason::MessageTooLarge { max: 262_144, .. })));
}

#[test]
fn a_fast_peer_saying_nothing_does_not_end_the_sync_before_the_others_are_ready() {
    // Two outbound raw peers: A finishes its handshake at once and answers
    // "nothing beyond your tip"; B is slow to answer its handshake but has
    // headers. The sync must not be declared over on A's word alone.
    let h = mainnet_headers(11);
    let mut sim = Sim::new();
    let e = sim.add_engine(engine(&[1, 2], 20));
    let a = sim.add_raw(RawPeer::new(MAGIC));
    let b = sim.add_raw(RawPeer::new(MAGIC));
    sim.run_for(Duration::from_millis(10));
    sim.raw(a).send(&version(7, 70016, 9));
    sim.raw(a).send(&Verack);
    sim.run_for(Duration::from_millis(10));
    assert_eq!(sim.raw(a).commands().last(), Some(&"getheaders"));
    sim.raw(a).send(&Headers(&[]));
    sim.run_for(Duration::from_secs(5));
    assert!(!sim.engine(e).is_synced(), "synced on the first peer's word");
    sim.raw(b).send(&version(8, 70016, 9));
    sim.raw(b).send(&Verack);
    sim.run_for(Duration::from_millis(10));
    assert_eq!(sim.raw(b).commands().last(), Some(&"getheaders"));
    sim.raw(b).send(&Headers(&h[1..]));
    sim.run_for(Duration::from_millis(10));
    assert!(sim.engine(e).is_synced());
    assert_eq!(sim.engine(e).height(), 10);
    let synced: Vec<u32> = sim.nodes[e]
        .events
        .iter()
        .filter_map(|ev| match ev {
            Event::Synced { height, .. } => Some(*height),
            _ => None,
        })
        .collect();
    assert_eq!(synced, [10]);
}

#[test]
fn an_idle_peer_gives_its_buffer_back_even_in_the_middle_of_skipping_a_message() {
    // The deframer keeps the buffer of the largest message seen; a quiet
    // peer gives it back on tick. Here the peer goes quiet halfway through a
    // message with a bad command (which is being skipped): the memory is
    // released and the skip goes on, so the next ping is answered (replacing
    // the deframer would have lost the skip and read the rest as garbage).
    let h = mainnet_headers(2001);
    let mut e = engine(&[], 21);
    let p = PeerId(1);
    let mut now = START;
    e.connected(p, Sim::addr_of(1), Link::Inbound, now);
    let mut bytes = Vec::new();
    write_message(&mut bytes, MAGIC, &version(1, 70016, 9));
    write_message(&mut bytes, MAGIC, &Verack);
    write_message(&mut bytes, MAGIC, &Headers(&h[1..]));
    let mut bad = Vec::new();
    write_message(&mut bad, MAGIC, &Ping(0));
    bad.truncate(24);
    bad[4..16].copy_from_slice(b"bad\x7fcmd\0\0\0\0\0");
    bad[16..20].copy_from_slice(&100_000u32.to_le_bytes());
    bad.resize(24 + 100_000, 0x33);
    bytes.extend_from_slice(&bad[..60_000]);
    e.received(p, &bytes, now);
    assert_eq!(e.height(), 2000);
    let n = e.pending_output(p).len();
    e.written(p, n);
    assert!(e.peer_buffered_bytes(p).unwrap() > 200_000, "{:?}", e.peer_buffered_bytes(p));
    now = now + Duration::from_secs(3 * 60);
    e.tick(now);
    let n = e.pending_output(p).len();
    e.written(p, n);
    e.tick(now);
    assert!(
        e.peer_buffered_bytes(p).unwrap() <= bitwire::peer::IDLE_INPUT_CAPACITY + 4096,
        "{:?}",
        e.peer_buffered_bytes(p)
    );
    let mut rest = bad[60_000..].to_vec();
    write_message(&mut rest, MAGIC, &Ping(77));
    e.received(p, &rest, now);
    let mut pong = Vec::new();
    write_message(&mut pong, MAGIC, &bitwire::wire::msg::Pong(77));
    assert!(e.pending_output(p).ends_with(&pong), "the ping after the skipped message is answered");
    let events: Vec<Event> = std::iter::from_fn(|| e.poll_event()).collect();
    assert!(!events.iter().any(|ev| matches!(ev, Event::Disconnected { .. })), "{events:?}");
    assert!(events.iter().any(|ev| matches!(ev, Event::FrameDropped { .. })));
}
