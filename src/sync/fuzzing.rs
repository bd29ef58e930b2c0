//! The body of the `sync_engine` fuzz target, here so the target is one line
//! and plain `cargo test` can replay the seeds (rustls' `internal::fuzzing`
//! habit). Not a stable API (hidden from the docs).
//!
//! The input is a little program: each byte picks an operation (open or
//! close a connection, deliver raw bytes, deliver a well-formed message
//! built from real headers, let time pass, let the reactor write) and the
//! following bytes are its arguments. After every step the engine's
//! invariants are checked:
//!
//! - no panic, and every instruction names a live connection;
//! - every peer's pending output stays within the configured budget, its
//!   buffers within [`Config::peer_budget`], and all buffers together within
//!   [`Config::max_buffered_total`];
//! - the best height never goes down, and the tip is in the tree;
//! - the event queue never holds more than [`Config::max_events`].

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};

use crate::chain::{params::Params, HeaderTree};
use crate::net::{Closed, Io, Link, PeerId, Service, Time};
use crate::sync::sim::START;
use crate::sync::{Config, Engine};
use crate::wire::msg::{
    Encode, GetData, GetHeaders, Headers, Inv, Ping, Pong, SendAddrV2, SendHeaders, Verack,
    Version, WtxidRelay,
};
use crate::wire::{
    write_message, BlockHash, BlockHeader, InvEntry, InvType, NetAddr, ServiceFlags,
};
use crate::Network;

/// Per-peer output budget under fuzzing (small, so it is reached).
const MAX_OUTPUT: usize = 600_000;
/// Most connections the program opens at once.
const MAX_LIVE: usize = 8;
/// Event queue bound under fuzzing.
const MAX_EVENTS: usize = 64;
/// Overall buffer budget under fuzzing (small, so it is reached).
const MAX_TOTAL: usize = 1_500_000;

struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn u8(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }
    fn u16(&mut self) -> Option<u16> {
        Some(u16::from(self.u8()?) | u16::from(self.u8()?) << 8)
    }
    fn take(&mut self, n: usize) -> &[u8] {
        let n = n.min(self.0.len());
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        a
    }
}

fn addr(i: u64) -> SocketAddr {
    SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::new(10, 1, (i >> 8) as u8, i as u8), 8333))
}

/// A serving and syncing mainnet engine whose tree holds `chain[..tree_len]`
/// (`chain[0]` must be the mainnet genesis).
pub fn engine(chain: &[BlockHeader], tree_len: usize) -> Engine {
    let mut tree = HeaderTree::new(Params::for_network(Network::Main));
    let end = tree_len.min(chain.len());
    if end > 1 {
        // The caller's headers are real: any rejection just ends the prefix.
        let _ = tree.accept(&chain[1..end], START.as_secs());
    }
    // Presync applies to chains below 30 headers past the tree's tip.
    let one = crate::pow::work_from_bits(chain[0].bits());
    let min = (0..30).fold(tree.tip().chainwork, |w, _| w.saturating_add(&one));
    let mut config = Config::new(Network::Main);
    config.min_chain_work = Some(min);
    config.max_presync_headers = 5000;
    config.connect = vec![addr(9001), addr(9002)];
    config.max_output_per_peer = MAX_OUTPUT;
    config.max_events = MAX_EVENTS;
    config.max_buffered_total = MAX_TOTAL;
    config.nonce_seed = 7;
    Engine::new(config, tree, None)
}

/// Runs the program `data` against a fresh [`engine`] over `chain`.
pub fn run(data: &[u8], chain: &[BlockHeader]) {
    run_engine(data, chain);
}

/// [`run`], returning the engine afterwards (for tests of the seeds).
pub fn run_engine(data: &[u8], chain: &[BlockHeader]) -> Engine {
    let mut e = engine(chain, 100);
    let mut input = Bytes(data);
    let mut now = START;
    let mut live: Vec<PeerId> = Vec::new();
    let mut dialling: Vec<SocketAddr> = Vec::new();
    let mut next_id = 1u64;
    let mut msg = Vec::new();
    let mut height = e.height();
    let magic = Network::Main.magic();
    let pick = |live: &[PeerId], arg: u8| -> Option<PeerId> {
        (!live.is_empty()).then(|| live[arg as usize % live.len()])
    };

    while let Some(b) = input.u8() {
        let (op, arg) = (b % 8, b / 8);
        match op {
            0 if live.len() < MAX_LIVE => {
                let id = PeerId(next_id);
                next_id += 1;
                if arg & 1 == 1 {
                    if let Some(a) = dialling.pop() {
                        e.connected(id, a, Link::Outbound, now);
                        live.push(id);
                    }
                } else {
                    e.connected(id, addr(next_id), Link::Inbound, now);
                    live.push(id);
                }
            }
            0 => {}
            1 => {
                if let Some(p) = pick(&live, arg) {
                    live.retain(|&q| q != p);
                    e.disconnected(p, Closed::ByPeer, now);
                }
            }
            2 => {
                let len = usize::from(input.u8().unwrap_or(0)) * 4;
                let bytes = input.take(len);
                if let Some(p) = pick(&live, arg) {
                    e.received(p, bytes, now);
                }
            }
            3 => {
                let ms = u64::from(input.u16().unwrap_or(0)) * 100;
                now = Time(now.0 + ms);
                e.tick(now);
            }
            4 => {
                if let Some(p) = pick(&live, arg) {
                    let n = e.pending_output(p).len();
                    let part = usize::from(input.u8().unwrap_or(255));
                    e.written(p, if part == 255 { n } else { n.min(part * 1024) });
                }
            }
            5 => {
                let Some(p) = pick(&live, arg) else { continue };
                msg.clear();
                template(&mut input, chain, magic, &mut msg);
                // Deliver in two pieces to exercise message splits.
                let cut = usize::from(input.u8().unwrap_or(0)).min(msg.len());
                e.received(p, &msg[..cut], now);
                if live.contains(&p) {
                    e.received(p, &msg[cut..], now);
                }
            }
            6 => {
                if let Some(a) = dialling.pop() {
                    e.connect_failed(a, std::io::ErrorKind::ConnectionRefused, now);
                }
            }
            _ => {
                now = Time(now.0 + u64::from(arg) * 1000);
                e.tick(now);
            }
        }
        // The reactor's side: carry out every instruction.
        while let Some(io) = e.next_io() {
            match io {
                Io::Connect(a) => dialling.push(a),
                Io::Write(p) => assert!(live.contains(&p), "write for a dead {p}"),
                Io::Disconnect(p) => {
                    assert!(live.contains(&p), "disconnect for a dead {p}");
                    live.retain(|&q| q != p);
                    e.disconnected(p, Closed::ByUs, now);
                }
                Io::Stop => {}
            }
        }
        check(&e, &live, &mut height);
    }
    e
}

fn check(e: &Engine, live: &[PeerId], height: &mut u32) {
    assert_eq!(e.peer_count(), live.len());
    for &p in live {
        assert!(e.pending_output(p).len() <= MAX_OUTPUT, "output budget broken");
    }
    let per_peer = e.config().peer_budget();
    for &p in live {
        let held = e.peer_buffered_bytes(p).expect("a live peer");
        assert!(held <= per_peer, "{p} holds {held}, over the per-peer budget {per_peer}");
    }
    // The running total the engine keeps is exact: after every call the
    // buffers fit the overall budget.
    assert!(e.buffered_bytes() <= MAX_TOTAL, "buffers past the overall budget");
    assert!(e.height() >= *height, "best height went down");
    *height = e.height();
    assert!(e.tree().contains(&e.tip()));
    assert!(e.queued_events() <= MAX_EVENTS);
}

fn template(input: &mut Bytes<'_>, chain: &[BlockHeader], magic: crate::Magic, out: &mut Vec<u8>) {
    let kind = input.u8().unwrap_or(0);
    let at = usize::from(input.u16().unwrap_or(0)) % chain.len().max(1);
    let hash_at = |i: usize| chain.get(i).map_or(BlockHash::ZERO, |h| h.block_hash());
    fn put(out: &mut Vec<u8>, magic: crate::Magic, m: &impl Encode) {
        write_message(out, magic, m);
    }
    match kind % 14 {
        0 | 1 => {
            let proto = match kind % 14 {
                0 => 70016,
                _ => 31_000 + i32::from(kind) * 300,
            };
            let services = u64::from(input.u8().unwrap_or(9));
            put(
                out,
                magic,
                &Version {
                    version: proto,
                    services: ServiceFlags(services | 8),
                    timestamp: START.as_secs() as i64,
                    receiver: NetAddr::new(ServiceFlags::NONE, [0; 16], 0),
                    sender: NetAddr::new(ServiceFlags::NONE, [0; 16], 0),
                    nonce: u64::from(input.u8().unwrap_or(1)),
                    user_agent: b"/fuzz/",
                    start_height: at as i32,
                    relay: false,
                },
            );
        }
        2 => put(out, magic, &Verack),
        3 => put(out, magic, &Ping(at as u64)),
        4 => put(out, magic, &Pong(at as u64)),
        5 | 6 => {
            let n = if kind % 14 == 6 { 2000 } else { usize::from(input.u8().unwrap_or(1)) % 40 };
            let end = (at + n).min(chain.len());
            put(out, magic, &Headers(&chain[at.min(end)..end]));
        }
        7 => {
            let locator = [hash_at(at)];
            put(
                out,
                magic,
                &GetHeaders { version: 70016, locator: &locator, stop_hash: BlockHash::ZERO },
            );
        }
        8 => put(out, magic, &Inv(&[InvEntry::new(InvType::BLOCK, hash_at(at))])),
        9 => put(out, magic, &GetData(&[InvEntry::new(InvType::WITNESS_BLOCK, hash_at(at))])),
        10 => put(out, magic, &WtxidRelay),
        11 => put(out, magic, &SendAddrV2),
        12 => put(out, magic, &SendHeaders),
        _ => {
            // A header with a flipped bit.
            let mut h = chain
                .get(at)
                .copied()
                .unwrap_or_else(|| Params::for_network(Network::Main).genesis());
            let bit = input.u8().unwrap_or(0);
            h.nonce.set(h.nonce() ^ (1 << (bit % 32)));
            put(out, magic, &Headers(&[h]));
        }
    }
}
