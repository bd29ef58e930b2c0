//! End-to-end header sync in the deterministic simulator: real mainnet
//! headers served by bitwire engines, honest, silent and lying servers,
//! virtual time, no sockets.

use core::time::Duration;

use bitwire::chain::{params::Params, HeaderError, HeaderTree};
use bitwire::peer::DisconnectReason;
use bitwire::sync::sim::Sim;
use bitwire::sync::{Config, Engine, Event};
use bitwire::wire::{BlockHeader, Command, HEADER_SIZE};
use bitwire::Network;

mod support;
use support::served;

fn mainnet_headers() -> Vec<BlockHeader> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/corpus/vectors/headers/mainnet_0_39999.bin");
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(bytes.len(), 40_000 * HEADER_SIZE);
    bytes
        .chunks_exact(HEADER_SIZE)
        .map(|c| BlockHeader::from_array(c.try_into().unwrap()))
        .collect()
}

fn params() -> &'static Params {
    Params::for_network(Network::Main)
}

/// A serving engine whose tree holds `headers[..=tip]`.
fn server(headers: &[BlockHeader], tip: usize, seed: u64) -> Engine {
    let mut tree = HeaderTree::new(params());
    for chunk in headers[1..=tip].chunks(2000) {
        tree.accept(chunk, 1_767_225_600).unwrap();
    }
    let mut config = Config::new(Network::Main);
    config.sync = false;
    config.nonce_seed = seed;
    Engine::new(config, tree, None)
}

fn client(servers: &[usize], seed: u64) -> Engine {
    let mut config = Config::new(Network::Main);
    config.connect = servers.iter().map(|&i| Sim::addr_of(i)).collect();
    config.serve = false;
    config.stop_when_synced = true;
    config.nonce_seed = seed;
    Engine::new(config, HeaderTree::new(params()), None)
}

#[test]
fn syncs_40000_mainnet_headers_from_one_server() {
    let headers = mainnet_headers();
    let mut sim = Sim::new();
    let s = sim.add_engine(server(&headers, 39_999, 10));
    let c = sim.add_engine(client(&[s], 11));
    assert!(sim.run_until(Duration::from_secs(60), |sim| sim.engine(c).is_done()));
    let e = sim.engine(c);
    assert!(e.is_synced());
    assert_eq!(e.height(), 39_999);
    assert_eq!(e.tip(), headers[39_999].block_hash());
    assert_eq!(served(&sim, s), 39_999);
    assert!(sim.nodes[c].events.iter().any(|e| matches!(e, Event::Synced { height: 39_999, .. })));
}

#[test]
fn spreads_requests_over_several_servers() {
    let headers = mainnet_headers();
    let mut sim = Sim::new();
    let servers: Vec<usize> =
        (0..4).map(|i| sim.add_engine(server(&headers, 39_999, 20 + i))).collect();
    let c = sim.add_engine(client(&servers, 30));
    assert!(sim.run_until(Duration::from_secs(60), |sim| sim.engine(c).is_done()));
    assert_eq!(sim.engine(c).height(), 39_999);
    assert_eq!(sim.engine(c).tip(), headers[39_999].block_hash());
    let counts: Vec<u64> = servers.iter().map(|&s| served(&sim, s)).collect();
    // 20 requests of 2000 round-robin over 4 servers: each serves 5 batches.
    assert!(counts.iter().all(|&n| n >= 4 * 2000), "{counts:?}");
    assert!(counts.iter().sum::<u64>() >= 39_999);
    assert!(sim.disconnects(c).iter().all(|r| matches!(r, DisconnectReason::Closed(_))));
}

#[test]
fn silent_server_is_stalled_and_sync_completes_from_others() {
    let headers = mainnet_headers();
    let mut sim = Sim::new();
    let s0 = sim.add_engine(server(&headers, 39_999, 40));
    let s1 = sim.add_engine(server(&headers, 39_999, 41));
    let s2 = sim.add_engine(server(&headers, 39_999, 42));
    let c = sim.add_engine(client(&[s0, s1, s2], 43));
    // Let the sync get going, then silence s1 for good.
    assert!(sim.run_until(Duration::from_secs(10), |sim| sim.engine(c).height() >= 10_000));
    sim.nodes[s1].mute = true;
    let start = sim.now;
    assert!(sim.run_until(Duration::from_secs(600), |sim| sim.engine(c).is_done()));
    assert_eq!(sim.engine(c).height(), 39_999);
    assert!(sim.engine(c).is_synced());
    let stalled: Vec<_> = sim
        .disconnects(c)
        .into_iter()
        .filter(|r| matches!(r, DisconnectReason::Stalled { .. }))
        .collect();
    assert_eq!(stalled, [DisconnectReason::Stalled { waited: Duration::from_secs(30) }]);
    // The stall cost the stall timeout in virtual time, nothing more.
    let took = sim.now.saturating_since(start);
    assert!(took >= Duration::from_secs(30) && took < Duration::from_secs(60), "{took:?}");
}

#[test]
fn lying_server_is_dropped_with_reason_and_sync_completes() {
    let headers = mainnet_headers();
    let mut sim = Sim::new();
    let honest = sim.add_engine(server(&headers, 39_999, 50));
    let liar = sim.add_engine(server(&headers, 39_999, 51));
    // The liar breaks proof of work in the last header of every full answer.
    sim.set_tamper(
        liar,
        Box::new(|command, payload| {
            if command != Command::HEADERS || payload.len() < 3 + 2000 * 81 {
                return None;
            }
            let mut p = payload.to_vec();
            let last = p.len() - 81;
            p[last + 76] ^= 0x55; // nonce
            Some(p)
        }),
    );
    let c = sim.add_engine(client(&[honest, liar], 52));
    assert!(sim.run_until(Duration::from_secs(120), |sim| sim.engine(c).is_done()));
    assert_eq!(sim.engine(c).height(), 39_999);
    assert_eq!(sim.engine(c).tip(), headers[39_999].block_hash());
    let invalid: Vec<_> = sim
        .disconnects(c)
        .into_iter()
        .filter(|r| matches!(r, DisconnectReason::InvalidHeader { .. }))
        .collect();
    assert_eq!(invalid.len(), 1, "{invalid:?}");
    match &invalid[0] {
        DisconnectReason::InvalidHeader { height, error: HeaderError::HighHash(_) } => {
            assert_eq!(height % 2000, 0, "the last header of a batch");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(invalid[0].name(), "invalid-header");
    assert!(invalid[0].to_string().contains("high-hash"), "{}", invalid[0]);
    // Misbehaviour is not forgiven: no second connection to the liar.
    let liar_conns =
        sim.nodes[liar].events.iter().filter(|e| matches!(e, Event::Connected { .. })).count();
    assert_eq!(liar_conns, 1);
}

#[test]
fn follows_new_headers_after_initial_sync() {
    let headers = mainnet_headers();
    let mut sim = Sim::new();
    let s = sim.add_engine(server(&headers, 30_000, 60));
    let mut config = Config::new(Network::Main);
    config.connect = vec![Sim::addr_of(s)];
    config.nonce_seed = 61;
    let c = sim.add_engine(Engine::new(config, HeaderTree::new(params()), None));
    assert!(sim.run_until(Duration::from_secs(60), |sim| sim.engine(c).is_synced()));
    assert_eq!(sim.engine(c).height(), 30_000);
    // New blocks arrive at the server one at a time, a few at a time, and
    // in a burst too large to announce as headers (then by inv).
    let mut next = 30_001;
    for n in [1usize, 1, 3, 8, 20, 1] {
        let now = sim.now;
        let added = sim.engine_mut(s).add_headers(&headers[next..next + n], now).unwrap();
        assert_eq!(added, n);
        next += n;
        let want = next as u32 - 1;
        assert!(sim.run_until(Duration::from_secs(5), |sim| sim.engine(c).height() == want));
        assert_eq!(sim.engine(c).tip(), headers[next - 1].block_hash());
    }
    assert!(sim.disconnects(c).is_empty(), "{:?}", sim.disconnects(c));
}

/// A syncing engine driven by hand through the `Service` calls (as a
/// reactor would), after a handshake with one serving peer: the engine,
/// the peer and the time.
fn handshaken_client() -> (Engine, bitwire::net::PeerId, bitwire::net::Time) {
    let mut e = client(&[0], 9);
    let (peer, now) = (bitwire::net::PeerId(1), bitwire::sync::sim::START);
    support::handshake_with_server(&mut e, peer, now);
    (e, peer, now)
}

/// The messages in `e`'s output to `peer`, which is then written.
fn sent(e: &mut Engine, peer: bitwire::net::PeerId) -> Vec<(Command, Vec<u8>)> {
    use bitwire::net::Service;
    let out = e.pending_output(peer).to_vec();
    e.written(peer, out.len());
    let mut d = bitwire::wire::Deframer::new(Network::Main.magic());
    d.push(&out);
    let mut frames = Vec::new();
    while let Some(f) = d.next_frame() {
        let f = f.unwrap();
        frames.push((f.command, f.payload.to_vec()));
    }
    frames
}

#[test]
fn the_next_request_goes_out_before_a_full_answer_is_validated() {
    // Pipelining: the request asked ahead from a full answer must reach the
    // peer while the engine validates that answer, not after. The engine
    // hands it to the reactor first (pending output after `received`) and
    // validates the batch on its next call, which `next_wakeup` makes due
    // at once.
    use bitwire::net::Service;
    use bitwire::wire::msg::{GetHeadersView, Headers};
    use bitwire::wire::write_message;

    let headers = mainnet_headers();
    let (mut e, peer, now) = handshaken_client();
    assert!(sent(&mut e, peer).iter().any(|(c, _)| *c == Command::GETHEADERS));
    let mut bytes = Vec::new();
    for (i, batch) in headers[1..6001].chunks(2000).enumerate() {
        bytes.clear();
        write_message(&mut bytes, Network::Main.magic(), &Headers(batch));
        e.received(peer, &bytes, now);
        // Before any validation: the next request is already out, asking
        // for what follows this batch's last header.
        assert_eq!(e.height(), i as u32 * 2000, "batch {i} was validated before the request");
        let frames = sent(&mut e, peer);
        let (_, payload) = frames.iter().find(|(c, _)| *c == Command::GETHEADERS).unwrap();
        let locator = GetHeadersView::decode(payload).unwrap();
        assert_eq!(locator.locator()[0], batch[1999].block_hash());
        // Then the batch, on the call `next_wakeup` asks for now.
        assert!(e.next_wakeup().is_some_and(|t| t <= now));
        e.tick(now);
        assert_eq!(e.height(), (i as u32 + 1) * 2000);
    }
}

#[test]
fn a_batch_set_aside_is_never_overtaken_or_lost() {
    // What follows a full answer (another message in the same read, a
    // broken stream, the connection closing) waits for the answer to be
    // validated, as Core processes one message before the next.
    use bitwire::net::{Closed, Service};
    use bitwire::wire::msg::{Headers, Ping};
    use bitwire::wire::write_message;

    let headers = mainnet_headers();
    let magic = Network::Main.magic();
    let mut bytes = Vec::new();

    // The next batch in the same read: the first is validated before the
    // second is looked at (the second is then set aside in turn). A ping
    // there is answered by the peer layer, which the tree does not concern.
    let (mut e, peer, now) = handshaken_client();
    sent(&mut e, peer);
    write_message(&mut bytes, magic, &Headers(&headers[1..2001]));
    write_message(&mut bytes, magic, &Ping(7));
    write_message(&mut bytes, magic, &Headers(&headers[2001..4001]));
    e.received(peer, &bytes, now);
    assert_eq!(e.height(), 2000);
    let commands: Vec<Command> = sent(&mut e, peer).into_iter().map(|(c, _)| c).collect();
    assert_eq!(commands, [Command::GETHEADERS, Command::PONG, Command::GETHEADERS]);
    e.tick(now);
    assert_eq!(e.height(), 4000);

    // Garbage after it in the same read: the headers count, then the peer
    // is dropped for the garbage.
    let (mut e, peer, now) = handshaken_client();
    bytes.clear();
    write_message(&mut bytes, magic, &Headers(&headers[1..2001]));
    bytes.extend_from_slice(b"not a message header at all");
    e.received(peer, &bytes, now);
    assert_eq!(e.height(), 2000);
    assert!(matches!(
        dropped_reasons(&mut e)[..],
        [DisconnectReason::Wire(bitwire::wire::WireError::BadMagic { .. })]
    ));

    // The connection closes before the engine's next call: still counted.
    let (mut e, peer, now) = handshaken_client();
    bytes.clear();
    write_message(&mut bytes, magic, &Headers(&headers[1..2001]));
    e.received(peer, &bytes, now);
    assert_eq!(e.height(), 0);
    e.disconnected(peer, Closed::ByPeer, now);
    assert_eq!(e.height(), 2000);
    assert_eq!(e.peer_count(), 0);

    // An invalid batch from a peer that then closes: dropped for the batch,
    // and the reactor is not asked to close it again.
    let (mut e, peer, now) = handshaken_client();
    let mut bad = headers[1..2001].to_vec();
    bad[1500].merkle_root[0] ^= 1; // breaks the link to the next header
    bytes.clear();
    write_message(&mut bytes, magic, &Headers(&bad));
    e.received(peer, &bytes, now);
    while e.next_io().is_some() {}
    e.disconnected(peer, Closed::ByPeer, now);
    while let Some(io) = e.next_io() {
        assert!(
            !matches!(io, bitwire::net::Io::Disconnect(p) | bitwire::net::Io::Write(p) if p == peer),
            "{io:?} for a closed connection"
        );
    }
    assert!(matches!(
        dropped_reasons(&mut e)[..],
        [DisconnectReason::NonContinuousHeaders { index: 1501 }]
    ));
    assert_eq!(e.height(), 0);
}

/// The disconnect reasons among `e`'s events so far.
fn dropped_reasons(e: &mut Engine) -> Vec<DisconnectReason> {
    let mut reasons = Vec::new();
    while let Some(ev) = e.poll_event() {
        if let Event::Disconnected { reason, .. } = ev {
            reasons.push(reason);
        }
    }
    reasons
}

#[test]
fn a_full_answer_with_a_bad_checksum_is_dropped_before_anything_acts_on_it() {
    // A large `headers` frame is shown to the engine before its checksum is
    // checked, and its headers start hashing on another thread. A frame
    // whose checksum is wrong must still be dropped whole, as Core drops it
    // (the peer stays): no request from it, nothing added, and its headers
    // never stand in for the next frame's.
    use bitwire::net::Service;
    use bitwire::wire::msg::{GetHeadersView, Headers};
    use bitwire::wire::write_message;

    let headers = mainnet_headers();
    let magic = Network::Main.magic();
    let corrupt = |batch: &[BlockHeader]| {
        let mut bytes = Vec::new();
        write_message(&mut bytes, magic, &Headers(batch));
        bytes[20] ^= 0xff; // the envelope's checksum
        bytes
    };
    let good = |batch: &[BlockHeader]| {
        let mut bytes = Vec::new();
        write_message(&mut bytes, magic, &Headers(batch));
        bytes
    };
    let frame_dropped = |e: &mut Engine| {
        let mut n = 0;
        while let Some(ev) = e.poll_event() {
            match ev {
                Event::FrameDropped { error, .. } => {
                    assert!(matches!(error, bitwire::wire::WireError::BadChecksum { .. }));
                    n += 1;
                }
                Event::Disconnected { reason, .. } => panic!("dropped the peer: {reason}"),
                _ => {}
            }
        }
        n
    };

    // Alone in its read: dropped, no request, nothing added.
    let (mut e, peer, now) = handshaken_client();
    sent(&mut e, peer);
    e.received(peer, &corrupt(&headers[1..2001]), now);
    e.tick(now);
    assert_eq!(e.height(), 0);
    assert!(sent(&mut e, peer).is_empty(), "something was sent for a dropped frame");
    assert_eq!(frame_dropped(&mut e), 1);
    assert_eq!(e.peer_count(), 1);

    // Then a good frame of the same size with other headers: its own
    // headers are validated, not the dropped frame's.
    let (mut e, peer, now) = handshaken_client();
    sent(&mut e, peer);
    e.received(peer, &corrupt(&headers[2001..4001]), now);
    e.received(peer, &good(&headers[1..2001]), now);
    let frames = sent(&mut e, peer);
    let (_, payload) = frames.iter().find(|(c, _)| *c == Command::GETHEADERS).unwrap();
    assert_eq!(GetHeadersView::decode(payload).unwrap().locator()[0], headers[2000].block_hash());
    e.tick(now);
    assert_eq!(e.height(), 2000);
    assert_eq!(e.tree().tip().hash, headers[2000].block_hash());
    assert_eq!(frame_dropped(&mut e), 1);

    // Then a small frame, too small to be prepared: its own headers.
    let (mut e, peer, now) = handshaken_client();
    sent(&mut e, peer);
    e.received(peer, &corrupt(&headers[1..2001]), now);
    e.received(peer, &good(&headers[1..11]), now);
    e.tick(now);
    assert_eq!(e.height(), 10);
    assert_eq!(frame_dropped(&mut e), 1);

    // Both in one read, the good one first and set aside: the dropped one
    // after it changes nothing.
    let (mut e, peer, now) = handshaken_client();
    sent(&mut e, peer);
    let mut bytes = good(&headers[1..2001]);
    bytes.extend(corrupt(&headers[2001..4001]));
    e.received(peer, &bytes, now);
    e.tick(now);
    assert_eq!(e.height(), 2000);
    assert_eq!(frame_dropped(&mut e), 1);
    e.received(peer, &good(&headers[2001..4001]), now);
    e.tick(now);
    assert_eq!(e.height(), 4000);
}
