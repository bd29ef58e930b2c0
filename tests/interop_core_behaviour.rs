//! Bitcoin Core's real behaviour towards `bitwire serve`, replayed byte for
//! byte in the deterministic simulator.
//!
//! The byte streams in corpus/vectors/interop/ were captured on loopback
//! between a Bitcoin Core v31.99 (master) `bitcoind -regtest
//! -connect=<bitwire serve>` and `bitwire serve --network regtest --headers
//! regtest_core_0_3000.bin` (a chain mined by another bitcoind). Core dials:
//! first a BIP324 v2 handshake (`core_regtest_outbound_v2_attempt.bin`),
//! which bitwire, a v1 node, must close without sending a byte so Core
//! retries with v1 (src/net.cpp `V2Transport::ShouldReconnectV1`); then the
//! v1 connection (`core_regtest_outbound_v1.bin`): version, wtxidrelay,
//! sendaddrv2, verack, getaddr, sendcmpct, ping, getheaders, feefilter,
//! pong, getheaders, sendheaders, getdata (16 blocks).
//!
//! The other direction, `bitwire sync --connect <bitcoind>`:
//! `core_regtest_inbound_v1.bin` is what a `bitcoind -regtest -listen` with
//! 2100 mined blocks sent to bitwire: version, wtxidrelay, sendaddrv2,
//! verack, sendcmpct, ping, getheaders, feefilter, pong, then the answers to
//! bitwire's two getheaders (2000 and 100 headers).

use core::time::Duration;

use bitwire::chain::{params::Params, HeaderTree};
use bitwire::net::Time;
use bitwire::peer::DisconnectReason;
use bitwire::sync::sim::{RawPeer, Sim};
use bitwire::sync::{Config, Engine};
use bitwire::wire::{BlockHash, BlockHeader, Command, WireError, HEADER_SIZE};
use bitwire::Network;

fn corpus(name: &str) -> Vec<u8> {
    let path = format!("{}/corpus/vectors/interop/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The regtest chain that was served (genesis and 3000 headers).
fn chain() -> Vec<BlockHeader> {
    let bytes = corpus("regtest_core_0_3000.bin");
    assert_eq!(bytes.len(), 3001 * HEADER_SIZE);
    bytes
        .chunks_exact(HEADER_SIZE)
        .map(|c| BlockHeader::from_array(c.try_into().unwrap()))
        .collect()
}

/// What `bitwire serve` runs: a serving-only engine over `headers`.
fn server(headers: &[BlockHeader]) -> Engine {
    let params = Params::for_network(Network::Regtest);
    assert_eq!(headers[0].block_hash(), params.genesis_hash);
    let mut tree = HeaderTree::new(params);
    // The headers were mined in November 2026, after the simulator's clock:
    // validate them against their own time.
    let last_time = u64::from(headers[headers.len() - 1].time());
    tree.accept(&headers[1..], last_time).unwrap();
    let mut config = Config::new(Network::Regtest);
    config.sync = false;
    config.serve = true;
    config.nonce_seed = 4;
    Engine::new(config, tree, None)
}

/// Splits a captured stream into (command, payload) messages.
fn messages(stream: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut rest = stream;
    while !rest.is_empty() {
        let command =
            String::from_utf8(rest[4..16].iter().copied().take_while(|&b| b != 0).collect())
                .unwrap();
        let len = u32::from_le_bytes(rest[16..20].try_into().unwrap()) as usize;
        out.push((command, rest[24..24 + len].to_vec()));
        rest = &rest[24 + len..];
    }
    out
}

#[test]
fn captured_stream_is_what_core_sent() {
    let stream = corpus("core_regtest_outbound_v1.bin");
    assert_eq!(&stream[..4], Network::Regtest.magic().0.as_slice());
    let commands: Vec<String> = messages(&stream).into_iter().map(|(c, _)| c).collect();
    assert_eq!(
        commands,
        [
            "version",
            "wtxidrelay",
            "sendaddrv2",
            "verack",
            "getaddr",
            "sendcmpct",
            "ping",
            "getheaders",
            "feefilter",
            "pong",
            "getheaders",
            "sendheaders",
            "getdata"
        ]
    );
}

#[test]
fn core_syncs_headers_and_gets_notfound_for_blocks() {
    let headers = chain();
    let stream = corpus("core_regtest_outbound_v1.bin");
    let getdata = messages(&stream).into_iter().find(|(c, _)| c == "getdata").unwrap().1;
    let mut sim = Sim::new();
    let e = sim.add_engine(server(&headers));
    let mut core = RawPeer::new(Network::Regtest.magic());
    core.connect(Sim::addr_of(e));
    core.send_bytes(&stream);
    let r = sim.add_raw(core);
    sim.run_for(Duration::from_secs(5));

    let got: Vec<(Command, Vec<u8>)> = sim.raw(r).received.clone();
    let commands: Vec<&str> = got.iter().map(|(c, _)| c.as_str()).collect();
    assert_eq!(
        commands,
        [
            "version",
            "wtxidrelay",
            "sendaddrv2",
            "verack",
            "sendheaders",
            "ping",
            "pong",
            "headers",
            "headers",
            "notfound"
        ]
    );
    // Core's first getheaders (locator: genesis) gets headers 1..=2000, its
    // second (from 2000) the remaining 1000: the whole chain.
    let served: Vec<&[u8]> =
        got.iter().filter(|(c, _)| *c == Command::HEADERS).map(|(_, p)| p.as_slice()).collect();
    let expect = |range: core::ops::RangeInclusive<usize>| {
        let mut p = Vec::new();
        let n = range.end() - range.start() + 1;
        p.extend_from_slice(&[0xfd, n as u8, (n >> 8) as u8]);
        for h in &headers[range] {
            p.extend_from_slice(h.bytes());
            p.push(0);
        }
        p
    };
    assert_eq!(served[0], expect(1..=2000).as_slice());
    assert_eq!(served[1], expect(2001..=3000).as_slice());
    // The 16 blocks Core asked for are answered notfound, entry for entry.
    let notfound = &got.last().unwrap().1;
    assert_eq!(notfound, &getdata);
    assert_eq!(getdata[0], 16);
    // Core's pong carries the nonce of the ping it saw on the live
    // connection, not ours here: ignored, as Core ignores a wrong nonce.
    assert!(sim.disconnects(e).is_empty(), "{:?}", sim.disconnects(e));
    assert!(sim.raw(r).closed.is_none());
    assert_eq!(sim.engine(e).ready_count(), 1);
}

#[test]
fn core_v2_handshake_is_closed_silently_so_core_retries_v1() {
    let headers = chain();
    let attempt = corpus("core_regtest_outbound_v2_attempt.bin");
    let mut sim = Sim::new();
    let e = sim.add_engine(server(&headers));
    let mut core = RawPeer::new(Network::Regtest.magic());
    core.connect(Sim::addr_of(e));
    core.send_bytes(&attempt);
    let r = sim.add_raw(core);
    sim.run_for(Duration::from_secs(5));
    // Not one byte back: Core reconnects with v1 only if it received nothing.
    assert!(sim.raw(r).received.is_empty());
    assert!(sim.raw(r).closed.is_some());
    let reasons = sim.disconnects(e);
    assert_eq!(reasons.len(), 1, "{reasons:?}");
    assert!(
        matches!(reasons[0], DisconnectReason::Wire(WireError::BadMagic { .. })),
        "{:?}",
        reasons[0]
    );
}

/// Re-frames captured messages (they were captured whole, checksums and all,
/// so re-encoding is only slicing the stream).
fn frames(stream: &[u8]) -> Vec<(String, &[u8])> {
    let mut out = Vec::new();
    let mut rest = stream;
    while !rest.is_empty() {
        let command =
            String::from_utf8(rest[4..16].iter().copied().take_while(|&b| b != 0).collect())
                .unwrap();
        let len = 24 + u32::from_le_bytes(rest[16..20].try_into().unwrap()) as usize;
        out.push((command, &rest[..len]));
        rest = &rest[len..];
    }
    out
}

#[test]
fn bitwire_syncs_from_core_as_core_answered() {
    let stream = corpus("core_regtest_inbound_v1.bin");
    let frames = frames(&stream);
    let names: Vec<&str> = frames.iter().map(|(c, _)| c.as_str()).collect();
    assert_eq!(
        names,
        [
            "version",
            "wtxidrelay",
            "sendaddrv2",
            "verack",
            "sendcmpct",
            "ping",
            "getheaders",
            "feefilter",
            "pong",
            "headers",
            "headers"
        ]
    );
    let payload = |i: usize| &frames[i].1[24..];
    // The last header Core sent (2100th) and its time: the clock must be past
    // it for the time-too-new rule.
    let last = BlockHeader::from_array(payload(10)[8101 - 81..8101 - 1].try_into().unwrap());
    let tip: BlockHash =
        "37e2dc9cc58909b0f60346d879902b4898d5c586f2c0ce5567c55f437a56d14b".parse().unwrap();
    assert_eq!(last.block_hash(), tip);

    let mut sim = Sim::new();
    sim.now = Time::from_secs(u64::from(last.time()) + 60);
    let mut core = RawPeer::new(Network::Regtest.magic());
    // Core answers the connection with its handshake and first messages.
    for (_, bytes) in &frames[..8] {
        core.send_bytes(bytes);
    }
    let r = sim.add_raw(core);
    let mut config = Config::new(Network::Regtest);
    config.connect = vec![Sim::addr_of(r)];
    config.stop_when_synced = true;
    config.nonce_seed = 5;
    let e = sim.add_engine(Engine::new(
        config,
        HeaderTree::new(Params::for_network(Network::Regtest)),
        None,
    ));
    let asked = |sim: &mut Sim, n: usize| {
        sim.raw(r).received.iter().filter(|(c, _)| *c == Command::GETHEADERS).count() >= n
    };
    sim.run_for(Duration::from_millis(100));
    assert!(asked(&mut sim, 1), "{:?}", sim.raw(r).commands());
    // Core's answers, in the order it sent them.
    sim.raw(r).send_bytes(frames[8].1);
    sim.raw(r).send_bytes(frames[9].1);
    sim.run_for(Duration::from_millis(100));
    assert!(asked(&mut sim, 2), "{:?}", sim.raw(r).commands());
    sim.raw(r).send_bytes(frames[10].1);
    assert!(sim.run_until(Duration::from_secs(5), |s| s.engine(e).is_done()));

    let engine = sim.engine(e);
    assert!(engine.is_synced());
    assert_eq!(engine.height(), 2100);
    assert_eq!(engine.tip(), tip);
    assert!(sim.disconnects(e).is_empty(), "{:?}", sim.disconnects(e));
    let got = sim.raw(r).received.clone();
    let commands: Vec<&str> = got.iter().map(|(c, _)| c.as_str()).collect();
    // The handshake in Core's order; then, interleaved as the bytes arrive
    // (live, the first getheaders went out before Core's ping was read),
    // our two getheaders, the pong and the answer to Core's getheaders.
    assert_eq!(
        commands[..6],
        ["version", "wtxidrelay", "sendaddrv2", "verack", "sendheaders", "ping"]
    );
    let mut rest = commands[6..].to_vec();
    rest.sort_unstable();
    assert_eq!(rest, ["getheaders", "getheaders", "headers", "pong"]);
    // Core's ping is answered with its nonce; its getheaders (a locator of a
    // chain bitwire does not have yet) with an empty headers message.
    let reply = |c: Command| &got.iter().find(|(k, _)| *k == c).unwrap().1;
    assert_eq!(reply(Command::PONG).as_slice(), payload(5));
    assert_eq!(reply(Command::HEADERS).as_slice(), [0]);
}
