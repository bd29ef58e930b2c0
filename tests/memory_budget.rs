//! Issue 5 item 5 with real sockets: 100 peers connect to a serving node on
//! the mio reactor and each streams a `block` message declaring the wire
//! maximum, 4,000,000 bytes. Without an overall budget each could pin its
//! per-peer input budget (2 MiB by default): 200 MiB. With
//! `Config::max_buffered_total` at 32 MiB the node drops the peers holding
//! the most as the total reaches it, and resident memory (VmRSS from
//! /proc/self/status, sampled every millisecond) stays under the budget
//! plus a fixed allowance for the process's own churn.
//!
//! Alone in its test binary so no other test's memory is counted.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bitwire::chain::{params::Params, HeaderTree};
use bitwire::net::{PeerId, Time};
use bitwire::peer::DisconnectReason;
use bitwire::sync::{Config, Engine, Event};
use bitwire::wire::msg::{Verack, Version};
use bitwire::wire::{write_message, NetAddr, ServiceFlags};
use bitwire::{Magic, Network};

mod support;
use support::{rss_bytes, spawn_on_loopback, Watched};

const PEERS: usize = 100;
const BUDGET: usize = 32 << 20;
/// Resident memory the process may add beyond the budget: the reactor's
/// read buffer, 100 attacker threads' stacks, allocator slack.
const ALLOWANCE: u64 = 24 << 20;

#[derive(Default)]
struct Seen {
    reasons: Vec<DisconnectReason>,
    ready: usize,
    peak_total: usize,
}

fn handshake(nonce: u64) -> Vec<u8> {
    let mut out = Vec::new();
    let v = Version {
        version: 70016,
        services: ServiceFlags(9),
        timestamp: Time::now().as_secs() as i64,
        receiver: NetAddr::new(ServiceFlags::NONE, [0; 16], 0),
        sender: NetAddr::new(ServiceFlags::NONE, [0; 16], 0),
        nonce,
        user_agent: b"/pusher:0/",
        start_height: 0,
        relay: false,
    };
    write_message(&mut out, Magic::MAIN, &v);
    write_message(&mut out, Magic::MAIN, &Verack);
    out
}

#[test]
fn many_peers_pushing_maximum_messages_stay_under_the_overall_budget() {
    let mut config = Config::new(Network::Main);
    config.sync = false;
    config.max_buffered_total = BUDGET;
    config.max_peers = PEERS + 10;
    let per_peer = config.max_message;
    let engine = Engine::new(config, HeaderTree::new(Params::for_network(Network::Main)), None);
    let seen = Arc::new(Mutex::new(Seen::default()));
    let watch = {
        let seen = seen.clone();
        move |engine: &mut Engine, _: Option<PeerId>| {
            let mut seen = seen.lock().unwrap();
            while let Some(e) = engine.poll_event() {
                match e {
                    Event::Disconnected { reason, .. } => seen.reasons.push(reason),
                    Event::Ready { .. } => seen.ready += 1,
                    _ => {}
                }
            }
            seen.peak_total = seen.peak_total.max(engine.buffered_bytes());
        }
    };
    let (running, addr) = spawn_on_loopback("server", Watched::new(engine, watch));

    // The message every peer streams: a block envelope declaring 4,000,000
    // bytes, then the bytes. Shared, allocated before the baseline.
    let mut big = Vec::with_capacity(24 + 4_000_000);
    big.extend_from_slice(&Magic::MAIN.0);
    big.extend_from_slice(b"block\0\0\0\0\0\0\0");
    big.extend_from_slice(&4_000_000u32.to_le_bytes());
    big.extend_from_slice(&[0; 4]);
    big.resize(24 + 4_000_000, 0xab);
    let big = Arc::new(big);
    std::thread::sleep(Duration::from_millis(100));
    let before = rss_bytes();

    let go = Arc::new(AtomicBool::new(false));
    let finished = Arc::new(AtomicUsize::new(0));
    let pushers: Vec<_> = (0..PEERS)
        .map(|i| {
            let (big, go, finished) = (big.clone(), go.clone(), finished.clone());
            std::thread::Builder::new()
                .stack_size(64 * 1024)
                .spawn(move || {
                    let mut s = TcpStream::connect(addr).unwrap();
                    s.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
                    s.write_all(&handshake(i as u64 + 1)).unwrap();
                    while !go.load(Ordering::SeqCst) {
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    // 64 KiB at a time, interleaved with the others, until
                    // the node hangs up (or the whole message is out).
                    for chunk in big.chunks(64 * 1024) {
                        if s.write_all(chunk).is_err() {
                            break;
                        }
                        std::thread::sleep(Duration::from_millis(2));
                    }
                    let mut sink = [0u8; 4096];
                    let end = Instant::now() + Duration::from_secs(30);
                    while Instant::now() < end {
                        match s.read(&mut sink) {
                            Ok(0) | Err(_) if Instant::now() > end => break,
                            Ok(0) => break,
                            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                            Err(_) => break,
                            Ok(_) => {}
                        }
                    }
                    finished.fetch_add(1, Ordering::SeqCst);
                })
                .unwrap()
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    while seen.lock().unwrap().ready < PEERS {
        assert!(Instant::now() < deadline, "handshakes: {}", seen.lock().unwrap().ready);
        std::thread::sleep(Duration::from_millis(5));
    }
    let ready_rss = rss_bytes();
    go.store(true, Ordering::SeqCst);
    let mut peak = ready_rss;
    while finished.load(Ordering::SeqCst) < PEERS {
        assert!(Instant::now() < deadline, "pushers: {}", finished.load(Ordering::SeqCst));
        peak = peak.max(rss_bytes());
        std::thread::sleep(Duration::from_millis(1));
    }
    for p in pushers {
        p.join().unwrap();
    }
    let (watched, _, _) = running.stop().unwrap();
    drop(watched);
    let seen = seen.lock().unwrap();
    let growth = peak.saturating_sub(before);
    eprintln!(
        "{PEERS} peers x 4,000,000-byte messages: RSS {before} -> peak {peak} (+{growth} bytes), \
         engine buffers peak {} bytes, budget {BUDGET}",
        seen.peak_total
    );
    assert!(seen.peak_total <= BUDGET, "engine buffers {} over the budget", seen.peak_total);
    assert!(
        growth <= BUDGET as u64 + ALLOWANCE,
        "resident memory grew {growth} bytes, budget {BUDGET} + allowance {ALLOWANCE}"
    );
    // Far less than every peer pinning its per-peer budget.
    assert!(growth < (PEERS * per_peer) as u64 / 3);
    let by_budget =
        seen.reasons.iter().filter(|r| matches!(r, DisconnectReason::MemoryBudget { .. })).count();
    assert!(by_budget > 0, "{:?}", seen.reasons);
    assert_eq!(seen.reasons.len(), PEERS, "every pusher dropped: {:?}", seen.reasons);
    assert!(seen.reasons.iter().all(|r| matches!(
        r,
        DisconnectReason::MemoryBudget { .. } | DisconnectReason::MessageTooLarge { .. }
    )));
}
