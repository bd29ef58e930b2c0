//! Issue 5 item 4 with real sockets: an attacker streams an endless chain of
//! valid, cheap (minimum difficulty) headers to a syncing node on the mio
//! reactor, beside an honest serving node. The node's presync
//! (src/sync/presync.rs) keeps a fixed state per peer, so while 200,000
//! attacker headers (16 MB of `headers` messages) go through:
//!
//! - the attacker's buffers in the node (`Engine::peer_buffered_bytes`) stay
//!   within one `headers` message, and nothing of its chain is stored;
//! - resident memory (VmRSS) stays flat: it grows by less than a fixed
//!   allowance from the first 20,000 headers to the last;
//! - the honest chain syncs to its tip meanwhile, and the attacker is cut off
//!   at its presync budget (`PresyncTooLong`).
//!
//! Regtest, where mining is cheap; alone in its test binary for the RSS.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bitwire::chain::{params::Params, HeaderTree};
use bitwire::net::{self, PeerId, Reactor, Time};
use bitwire::peer::DisconnectReason;
use bitwire::pow::{work_from_bits, U256};
use bitwire::sync::{Config, Engine, Event};
use bitwire::wire::msg::{Headers, Verack, Version};
use bitwire::wire::{write_message, BlockHeader, Command, Deframer, NetAddr, ServiceFlags};
use bitwire::{Magic, Network};

mod support;
use support::{rss_bytes, spawn_on_loopback, Watched};

const MAGIC: Magic = Magic::REGTEST;
/// On regtest every header carries the same work, so "low work" means
/// "shorter than the minimum": the honest chain is longer than the
/// attacker's presync budget, and the node already holds most of it.
const HONEST: usize = 210_000;
/// Honest headers the node holds at start.
const START: usize = 200_000;
/// Attacker headers the node presyncs before it gives up on the peer.
const PRESYNC_BUDGET: u64 = 200_000;
/// Resident memory the node may add while the attacker streams.
const ALLOWANCE: u64 = 4 << 20;

fn child(prev: &BlockHeader, time: u32, salt: u8) -> BlockHeader {
    let mut h = *prev;
    h.prev_blockhash = prev.block_hash();
    h.version.set(0x2000_0000);
    h.time.set(time);
    h.merkle_root = [salt; 32];
    for nonce in 0.. {
        h.nonce.set(nonce);
        if h.block_hash().0[31] < 0x7f {
            break;
        }
    }
    h
}

#[derive(Default)]
struct Seen {
    events: Vec<Event>,
    attacker: Option<PeerId>,
    attacker_peak: usize,
    tree_len: usize,
}

/// The attacker: answers the node's handshake, then every `getheaders` with
/// the next 2,000 headers of an endless cheap chain from genesis.
fn attacker(listener: TcpListener, sent: Arc<AtomicU64>) {
    let (mut s, _) = listener.accept().unwrap();
    s.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
    let mut d = Deframer::new(MAGIC);
    let mut out = Vec::new();
    let v = Version {
        version: 70016,
        services: ServiceFlags(9),
        timestamp: Time::now().as_secs() as i64,
        receiver: NetAddr::new(ServiceFlags::NONE, [0; 16], 0),
        sender: NetAddr::new(ServiceFlags::NONE, [0; 16], 0),
        nonce: 77,
        user_agent: b"/cheap-chain:0/",
        start_height: 10_000_000,
        relay: false,
    };
    write_message(&mut out, MAGIC, &v);
    write_message(&mut out, MAGIC, &Verack);
    if s.write_all(&out).is_err() {
        return;
    }
    let genesis = Params::for_network(Network::Regtest).genesis();
    let mut last = genesis;
    let mut n = 0u32;
    let mut batch = Vec::with_capacity(2000);
    let mut buf = vec![0u8; 64 * 1024];
    let end = Instant::now() + Duration::from_secs(120);
    while Instant::now() < end {
        let k = match s.read(&mut buf) {
            Ok(0) => return,
            Ok(k) => k,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => continue,
            Err(_) => return,
        };
        let mut rest = &buf[..k];
        let mut asked = 0;
        while !rest.is_empty() {
            let taken = d.push(rest);
            rest = &rest[taken..];
            while let Some(f) = d.next_frame() {
                if f.expect("well-formed").command == Command::GETHEADERS {
                    asked += 1;
                }
            }
        }
        for _ in 0..asked {
            batch.clear();
            for _ in 0..2000 {
                n += 1;
                last = child(&last, genesis.time() + 60 * n, 2);
                batch.push(last);
            }
            out.clear();
            write_message(&mut out, MAGIC, &Headers(&batch));
            if s.write_all(&out).is_err() {
                return;
            }
            sent.fetch_add(2000, Ordering::SeqCst);
        }
    }
}

#[test]
fn an_endless_cheap_chain_costs_a_fixed_memory_budget() {
    let params = Params::for_network(Network::Regtest);
    let genesis = params.genesis();
    let mut honest = vec![genesis];
    for i in 0..HONEST {
        let prev = honest[i];
        honest.push(child(&prev, genesis.time() + 600 * (i as u32 + 1), 1));
    }
    let tree_at = |n: usize| {
        let mut t = HeaderTree::new(params);
        for c in honest[1..=n].chunks(2000) {
            t.accept(c, Time::now().as_secs()).unwrap();
        }
        t
    };
    // The honest server.
    let mut config = Config::new(Network::Regtest);
    config.sync = false;
    let server = Engine::new(config, tree_at(HONEST), None);
    let (server, honest_addr) = spawn_on_loopback("honest", server);
    // The attacker.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let attacker_addr = listener.local_addr().unwrap();
    let sent = Arc::new(AtomicU64::new(0));
    let atk = {
        let sent = sent.clone();
        std::thread::spawn(move || attacker(listener, sent))
    };
    // The node: it holds 200,000 honest headers; the minimum chain work is
    // the honest tip's, which the honest peer shows with 10,000 presynced
    // headers and the cheap chain from genesis would only reach after
    // 210,000, past its presync budget.
    let one = work_from_bits(genesis.bits());
    let min = (0..=HONEST).fold(U256::ZERO, |w, _| w.saturating_add(&one));
    let mut config = Config::new(Network::Regtest);
    config.connect = vec![attacker_addr, honest_addr];
    config.min_chain_work = Some(min);
    config.max_presync_headers = PRESYNC_BUDGET;
    config.reconnect_delay = Duration::from_secs(600);
    let per_peer = config.peer_budget();
    let seen = Arc::new(Mutex::new(Seen::default()));
    let node = Engine::new(config, tree_at(START), None);
    let watch = {
        let seen = seen.clone();
        move |engine: &mut Engine, _: Option<PeerId>| {
            let mut seen = seen.lock().unwrap();
            while let Some(e) = engine.poll_event() {
                if let Event::Connected { peer, addr, .. } = &e {
                    if *addr == attacker_addr {
                        seen.attacker = Some(*peer);
                    }
                }
                seen.events.push(e);
            }
            if let Some(held) = seen.attacker.and_then(|a| engine.peer_buffered_bytes(a)) {
                seen.attacker_peak = seen.attacker_peak.max(held);
            }
            seen.tree_len = engine.tree().len();
        }
    };
    let node = Reactor::new(net::Config::default())
        .unwrap()
        .spawn("node", Watched::new(node, watch))
        .unwrap();

    // Sample resident memory as the attacker's headers go through.
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut samples: Vec<(u64, u64)> = Vec::new();
    let cut_off = DisconnectReason::PresyncTooLong { max: PRESYNC_BUDGET };
    loop {
        assert!(Instant::now() < deadline, "sent {}", sent.load(Ordering::SeqCst));
        std::thread::sleep(Duration::from_millis(5));
        let n = sent.load(Ordering::SeqCst);
        if (20_000..PRESYNC_BUDGET).contains(&n) {
            samples.push((n, rss_bytes()));
        }
        let seen = seen.lock().unwrap();
        assert!(seen.tree_len <= HONEST + 1, "attacker headers stored");
        let other = seen.events.iter().find_map(|e| match e {
            Event::Disconnected { peer, reason, .. }
                if Some(*peer) == seen.attacker && *reason != cut_off =>
            {
                Some(reason.clone())
            }
            _ => None,
        });
        assert_eq!(other, None, "the attacker was dropped for something else");
        if seen
            .events
            .iter()
            .any(|e| matches!(e, Event::Disconnected { reason, .. } if *reason == cut_off))
        {
            break;
        }
    }
    let (node, _, _) = node.stop().unwrap();
    server.stop().unwrap();
    atk.join().unwrap();

    let seen = seen.lock().unwrap();
    let synced = seen.events.iter().position(|e| matches!(e, Event::Synced { .. }));
    let cut = seen
        .events
        .iter()
        .position(|e| matches!(e, Event::Disconnected { reason, .. } if *reason == cut_off));
    assert!(
        synced.is_some() && synced < cut,
        "the honest sync finished while the attacker streamed"
    );
    assert_eq!(node.engine.height(), HONEST as u32);
    assert_eq!(node.engine.tip(), honest[HONEST].block_hash());
    assert_eq!(node.engine.tree().len(), HONEST + 1, "nothing of the cheap chain stored");

    let sent = sent.load(Ordering::SeqCst);
    assert!(sent >= PRESYNC_BUDGET, "the attacker streamed {sent} headers");
    let first = samples.first().copied().unwrap();
    let peak = samples.iter().map(|s| s.1).max().unwrap();
    eprintln!(
        "{sent} cheap headers ({} MB of headers messages): RSS {} at {} headers, peak {peak} \
         (+{} bytes); the attacker's buffers in the node peaked at {} bytes (per-peer budget {per_peer})",
        sent * 81 / 1_000_000,
        first.1,
        first.0,
        peak - first.1,
        seen.attacker_peak,
    );
    assert!(
        peak - first.1 <= ALLOWANCE,
        "RSS grew {} bytes while the attacker streamed",
        peak - first.1
    );
    assert!(seen.attacker_peak <= 512 * 1024, "attacker buffers {}", seen.attacker_peak);
    assert!(seen.attacker_peak <= per_peer);
}
