//! The hostile-peer matrix over real sockets (issue 5 item 3).
//!
//! Every case runs a header sync on the library's mio reactor, dialling two
//! honest serving engines (each on its own reactor, shared by every case)
//! and one attacker: a plain `std::net` socket in a test thread that speaks
//! bytes crafted with the wire encoders (or, for the inbound cases, dials the
//! syncing node itself). Each case checks three things:
//!
//! 1. the attacker is disconnected with the stated reason, or, where Core only
//!    drops the message, the message is dropped and the attacker stays;
//! 2. the honest sync completes, on the honest tip;
//! 3. memory stays bounded: the attacker's buffers (`Engine::peer_buffered_bytes`)
//!    never pass a bound set per case, nor all buffers the overall budget.
//!
//! Everything runs on regtest, where proof of work is cheap, so the attacker
//! can mine headers that break exactly one rule. Timeouts are configured
//! short (2 s) so the slow cases take seconds; the cases run in parallel.
//! README.md has the table of cases, Core's behaviour and bitwire's.

use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use bitwire::chain::{params::Params, HeaderError, HeaderTree};
use bitwire::net::{Closed, Link, PeerId, Time};
use bitwire::peer::DisconnectReason;
use bitwire::pow::U256;
use bitwire::sync::{Config, Engine, Event};
use bitwire::wire::msg::{Addr, Encode, GetHeaders, Headers, Inv, Ping, Verack, Version};
use bitwire::wire::{
    write_message, AddrEntry, BlockHash, BlockHeader, Command, Deframer, InvEntry, InvType,
    NetAddr, ServiceFlags, WireError,
};
use bitwire::{Magic, Network};

mod support;
use support::{spawn_on_loopback, Watched};

const MAGIC: Magic = Magic::REGTEST;
/// Honest chain length (two full `headers` answers and a partial one).
const HONEST: usize = 4200;
/// The short timeouts of the syncing node in these tests.
const TIMEOUT: Duration = Duration::from_secs(2);
/// How long a case may take before it fails.
const DEADLINE: Duration = Duration::from_secs(30);

// ---------------------------------------------------------------- chains

/// Mines a regtest child of `prev`: target 0x207fffff is met by about half
/// of all hashes.
fn child(prev: &BlockHeader, time: u32, bits: u32, salt: u8) -> BlockHeader {
    let mut h = *prev;
    h.prev_blockhash = prev.block_hash();
    h.version.set(0x2000_0000);
    h.time.set(time);
    h.bits.set(bits);
    h.merkle_root = [salt; 32];
    for nonce in 0.. {
        h.nonce.set(nonce);
        let top = h.block_hash().0[31];
        let ok = if bits == 0x207f_ffff { top < 0x7f } else { top < 0x3f };
        if ok {
            break;
        }
    }
    h
}

fn chain(n: usize, salt: u8) -> Vec<BlockHeader> {
    let genesis = Params::for_network(Network::Regtest).genesis();
    let mut out = vec![genesis];
    for i in 0..n {
        let prev = out[i];
        out.push(child(&prev, genesis.time() + 600 * (i as u32 + 1), 0x207f_ffff, salt));
    }
    out
}

fn honest() -> &'static [BlockHeader] {
    static CHAIN: OnceLock<Vec<BlockHeader>> = OnceLock::new();
    CHAIN.get_or_init(|| chain(HONEST, 1))
}

fn tree_with(headers: &[BlockHeader]) -> HeaderTree {
    let mut tree = HeaderTree::new(Params::for_network(Network::Regtest));
    for c in headers.chunks(2000) {
        tree.accept(c, Time::now().as_secs()).unwrap();
    }
    tree
}

/// Two honest serving engines on their own reactors, started once.
fn honest_servers() -> &'static [SocketAddr] {
    static SERVERS: OnceLock<Vec<SocketAddr>> = OnceLock::new();
    SERVERS.get_or_init(|| {
        (0..2)
            .map(|i| {
                let mut config = Config::new(Network::Regtest);
                config.sync = false;
                config.nonce_seed = 1000 + i;
                let engine = Engine::new(config, tree_with(&honest()[1..]), None);
                let (running, addr) = spawn_on_loopback("honest", engine);
                // Runs until the test process exits.
                std::mem::forget(running);
                addr
            })
            .collect()
    })
}

// ---------------------------------------------------------------- the watched sync

#[derive(Default)]
struct Seen {
    events: Vec<Event>,
    /// Highest buffered bytes per peer, and all peers together.
    peak: HashMap<PeerId, usize>,
    peak_total: usize,
}

// ---------------------------------------------------------------- the attacker

/// A raw peer: a blocking socket, a deframer for what the node sends.
struct Atk {
    stream: TcpStream,
    deframer: Deframer,
    /// Every message received, in order.
    received: Vec<(Command, Vec<u8>)>,
    /// Messages no `wait_for` has taken yet, in order.
    unread: Vec<(Command, Vec<u8>)>,
    closed: bool,
}

impl Atk {
    fn new(stream: TcpStream) -> Atk {
        stream.set_read_timeout(Some(Duration::from_millis(20))).unwrap();
        stream.set_nodelay(true).unwrap();
        Atk {
            stream,
            deframer: Deframer::new(MAGIC),
            received: Vec::new(),
            unread: Vec::new(),
            closed: false,
        }
    }

    fn send(&mut self, msg: &impl Encode) {
        let mut out = Vec::new();
        write_message(&mut out, MAGIC, msg);
        self.send_bytes(&out);
    }

    /// Writes, ignoring errors: the node may have hung up already, which is
    /// what the case checks afterwards.
    fn send_bytes(&mut self, bytes: &[u8]) {
        if self.stream.write_all(bytes).is_err() {
            self.closed = true;
        }
    }

    /// Reads what is there (up to the read timeout); false once closed.
    fn pump(&mut self) -> bool {
        if self.closed {
            return false;
        }
        let mut buf = [0u8; 64 * 1024];
        match self.stream.read(&mut buf) {
            Ok(0) => self.closed = true,
            Ok(n) => {
                let mut rest = &buf[..n];
                while !rest.is_empty() {
                    let k = self.deframer.push(rest);
                    rest = &rest[k..];
                    while let Some(f) = self.deframer.next_frame() {
                        let f = f.expect("the node sends well-formed frames");
                        self.received.push((f.command, f.payload.to_vec()));
                        self.unread.push((f.command, f.payload.to_vec()));
                    }
                }
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => self.closed = true,
        }
        !self.closed
    }

    /// The payload of the next `command` from the node (others stay unread).
    fn wait_for(&mut self, command: Command) -> Option<Vec<u8>> {
        let end = Instant::now() + DEADLINE;
        loop {
            if let Some(i) = self.unread.iter().position(|(c, _)| *c == command) {
                return Some(self.unread.remove(i).1);
            }
            if !self.pump() || Instant::now() > end {
                return None;
            }
        }
    }

    /// True if the node closes the connection within the deadline.
    fn until_closed(&mut self) -> bool {
        let end = Instant::now() + DEADLINE;
        while self.pump() {
            if Instant::now() > end {
                return false;
            }
        }
        true
    }

    /// The node dialled us: its version, ours, verack both ways.
    fn handshake(&mut self) {
        self.wait_for(Command::VERSION).expect("the node's version");
        self.send(&version(7));
        self.send(&Verack);
        self.wait_for(Command::VERACK).expect("the node's verack");
    }

    /// We dialled the node: our version first.
    fn handshake_inbound(&mut self) {
        self.send(&version(7));
        self.wait_for(Command::VERSION).expect("the node's version");
        self.send(&Verack);
        self.wait_for(Command::VERACK).expect("the node's verack");
    }

    /// Answers every `getheaders` with an empty `headers` (nothing beyond
    /// your tip) until the node hangs up.
    fn idle_until_closed(&mut self) {
        while let Some(_g) = self.wait_for(Command::GETHEADERS) {
            self.send(&Headers(&[]));
        }
    }

    fn pongs(&self) -> Vec<u64> {
        self.received
            .iter()
            .filter(|(c, _)| *c == Command::PONG)
            .map(|(_, p)| u64::from_le_bytes(p[..8].try_into().unwrap()))
            .collect()
    }
}

fn version(nonce: u64) -> Version<'static> {
    Version {
        version: 70016,
        services: ServiceFlags(9),
        timestamp: Time::now().as_secs() as i64,
        receiver: NetAddr::new(ServiceFlags::NONE, [0; 16], 0),
        sender: NetAddr::new(ServiceFlags::NONE, [0; 16], 0),
        nonce,
        user_agent: b"/attacker:0/",
        start_height: 0,
        relay: false,
    }
}

/// A frame with a chosen envelope: `command` bytes, declared length and
/// checksum as given, then `payload`.
fn raw_frame(command: &[u8; 12], len: u32, checksum: [u8; 4], payload: &[u8]) -> Vec<u8> {
    let mut out = MAGIC.0.to_vec();
    out.extend_from_slice(command);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&checksum);
    out.extend_from_slice(payload);
    out
}

// ---------------------------------------------------------------- one case

/// What must happen to the attacker.
enum Expect {
    /// Disconnected, with a reason this accepts.
    Disconnect(fn(&DisconnectReason) -> bool),
    /// Not disconnected (until the test stops the node), and an event this
    /// accepts was seen (the dropped message).
    Dropped(fn(&Event) -> bool),
    /// Not disconnected, nothing in particular seen (messages ignored).
    Kept,
}

struct Case {
    /// The attacker dials the syncing node instead of being dialled.
    inbound: bool,
    /// The attacker's script; panics (a failed check) fail the case.
    script: fn(&mut Atk),
    expect: Expect,
    /// Most bytes the attacker's buffers may ever hold in the node.
    max_held: usize,
    /// Adjusts the syncing node's configuration.
    tune: fn(&mut Config),
    /// The tree the syncing node starts from (honest headers 1..=n).
    start: usize,
}

impl Case {
    fn new(script: fn(&mut Atk), expect: Expect) -> Case {
        // One full `headers` message in (the buffer doubles to 256 KiB) and
        // a little output.
        Case { inbound: false, script, expect, max_held: 320 * 1024, tune: |_| {}, start: 0 }
    }
}

fn run(case: Case) {
    let servers = honest_servers();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let atk_addr = listener.local_addr().unwrap();

    let mut config = Config::new(Network::Regtest);
    config.connect = servers.to_vec();
    if !case.inbound {
        config.connect.push(atk_addr);
    }
    config.handshake_timeout = TIMEOUT;
    config.stall_timeout = TIMEOUT;
    config.reconnect_delay = Duration::from_secs(600);
    config.max_connect_attempts = 1;
    config.nonce_seed = atk_addr.port().into();
    (case.tune)(&mut config);
    let budget = config.max_buffered_total;
    let seen = Arc::new(Mutex::new(Seen::default()));
    let engine = Engine::new(config, tree_with(&honest()[1..=case.start]), None);
    // The syncing engine, recording its events and buffer peaks after every
    // call. The peak on `received` is the one inside the call: what the
    // deframer held before it gave the frames out.
    let watch = {
        let seen = seen.clone();
        move |engine: &mut Engine, peer: Option<PeerId>| {
            let mut seen = seen.lock().unwrap();
            while let Some(e) = engine.poll_event() {
                seen.events.push(e);
            }
            if let Some(p) = peer {
                if let Some(held) = engine.peer_buffered_bytes(p) {
                    let peak = seen.peak.entry(p).or_default();
                    *peak = (*peak).max(held);
                }
            }
            seen.peak_total = seen.peak_total.max(engine.buffered_bytes());
        }
    };
    let (running, node_addr) = spawn_on_loopback("sync", Watched::new(engine, watch));

    let script = case.script;
    let inbound = case.inbound;
    let attacker = std::thread::spawn(move || {
        let stream = if inbound {
            TcpStream::connect(node_addr).unwrap()
        } else {
            listener.set_nonblocking(false).unwrap();
            listener.accept().unwrap().0
        };
        let mut atk = Atk::new(stream);
        script(&mut atk);
    });

    // The attacker's connection, once the node has seen it.
    let is_atk = |addr: &SocketAddr, link: &Link| {
        if inbound {
            *link == Link::Inbound
        } else {
            *addr == atk_addr
        }
    };
    let tip = honest()[HONEST].block_hash();
    let end = Instant::now() + DEADLINE;
    let (atk_id, atk_reason) = loop {
        assert!(Instant::now() < end, "case timed out: {:#?}", seen.lock().unwrap().events);
        std::thread::sleep(Duration::from_millis(10));
        let seen = seen.lock().unwrap();
        let synced = seen
            .events
            .iter()
            .any(|e| matches!(e, Event::Synced { height, tip: t, .. } if *height == HONEST as u32 && *t == tip));
        let id = seen.events.iter().find_map(|e| match e {
            Event::Connected { peer, addr, link } if is_atk(addr, link) => Some(*peer),
            _ => None,
        });
        let reason = id.and_then(|id| {
            seen.events.iter().find_map(|e| match e {
                Event::Disconnected { peer, reason, .. } if *peer == id => Some(reason.clone()),
                _ => None,
            })
        });
        let outcome = match (&case.expect, &reason) {
            (Expect::Disconnect(_), r) => r.is_some(),
            (Expect::Dropped(f), _) => seen.events.iter().any(f),
            (Expect::Kept, _) => attacker.is_finished() || id.is_some() && synced,
        };
        if synced && outcome {
            break (id, reason);
        }
    };
    // Let a kept attacker finish its script before the node stops.
    if matches!(case.expect, Expect::Kept | Expect::Dropped(_)) {
        std::thread::sleep(Duration::from_millis(200));
    }
    let (watched, _, _) = running.stop().unwrap();
    attacker.join().expect("the attacker's checks");

    let seen = seen.lock().unwrap();
    let atk_id = atk_id.expect("the attacker connected");
    match case.expect {
        Expect::Disconnect(ok) => {
            let reason = atk_reason.expect("disconnected");
            assert!(ok(&reason), "unexpected reason: {reason:?} ({reason})");
            eprintln!("attacker dropped: {} ({reason})", reason.name());
        }
        Expect::Dropped(_) | Expect::Kept => {
            let reason = seen.events.iter().find_map(|e| match e {
                Event::Disconnected { peer, reason, .. } if *peer == atk_id => Some(reason),
                _ => None,
            });
            assert_eq!(
                reason,
                Some(&DisconnectReason::Closed(Closed::ByUs)),
                "the attacker stays until the node stops"
            );
        }
    }
    // The honest sync completed on the honest tip, nothing else was stored.
    assert_eq!(watched.engine.height(), HONEST as u32);
    assert_eq!(watched.engine.tip(), tip);
    assert_eq!(watched.engine.tree().len(), HONEST + 1, "no attacker header stored");
    // Memory stayed bounded.
    let held = seen.peak.get(&atk_id).copied().unwrap_or(0);
    assert!(held <= case.max_held, "the attacker's buffers reached {held} > {}", case.max_held);
    assert!(seen.peak_total <= budget);
}

fn wire_error(name: &'static str) -> impl Fn(&DisconnectReason) -> bool {
    move |r| matches!(r, DisconnectReason::Wire(e) if e.name() == name)
}

// ---------------------------------------------------------------- the cases

#[test]
fn wrong_magic() {
    run(Case::new(
        |a| {
            a.handshake();
            let mut bytes = Vec::new();
            write_message(&mut bytes, Magic::MAIN, &Ping(1));
            a.send_bytes(&bytes);
            assert!(a.until_closed());
        },
        Expect::Disconnect(|r| wire_error("bad-magic")(r)),
    ));
}

#[test]
fn declared_length_4_000_001() {
    let mut case = Case::new(
        |a| {
            a.handshake();
            a.send_bytes(&raw_frame(b"block\0\0\0\0\0\0\0", 4_000_001, [0; 4], &[0; 1000]));
            assert!(a.until_closed());
        },
        Expect::Disconnect(|r| {
            matches!(r, DisconnectReason::Wire(WireError::OversizedPayload { declared: 4_000_001 }))
        }),
    );
    case.max_held = 64 * 1024;
    run(case);
}

#[test]
fn declared_length_ffffffff() {
    let mut case = Case::new(
        |a| {
            a.handshake();
            a.send_bytes(&raw_frame(b"headers\0\0\0\0\0", u32::MAX, [0; 4], &[0; 1000]));
            assert!(a.until_closed());
        },
        Expect::Disconnect(|r| {
            matches!(r, DisconnectReason::Wire(WireError::OversizedPayload { declared: u32::MAX }))
        }),
    );
    case.max_held = 64 * 1024;
    run(case);
}

#[test]
fn bad_checksum_is_dropped() {
    run(Case::new(
        |a| {
            a.handshake();
            let mut bytes = Vec::new();
            write_message(&mut bytes, MAGIC, &Ping(41));
            bytes[20] ^= 0xff;
            write_message(&mut bytes, MAGIC, &Ping(42));
            a.send_bytes(&bytes);
            a.wait_for(Command::PONG).expect("the good ping is answered");
            assert_eq!(a.pongs(), [42], "the bad-checksum ping was dropped");
            a.idle_until_closed();
        },
        Expect::Dropped(|e| {
            matches!(e, Event::FrameDropped { error: WireError::BadChecksum { .. }, .. })
        }),
    ));
}

#[test]
fn command_with_a_byte_outside_printable_ascii_is_dropped() {
    run(Case::new(
        |a| {
            a.handshake();
            // A ping with a control character in its command.
            let mut bytes = raw_frame(b"pi\x01g\0\0\0\0\0\0\0\0", 8, [0; 4], &[0; 8]);
            let mut good = Vec::new();
            write_message(&mut good, MAGIC, &Ping(43));
            bytes[20..24].copy_from_slice(&good[20..24]);
            bytes.extend_from_slice(&good);
            a.send_bytes(&bytes);
            a.wait_for(Command::PONG).expect("the good ping is answered");
            assert_eq!(a.pongs(), [43]);
            a.idle_until_closed();
        },
        Expect::Dropped(|e| {
            matches!(e, Event::FrameDropped { error: WireError::BadCommand { .. }, .. })
        }),
    ));
}

#[test]
fn command_with_text_after_the_nul_is_dropped() {
    run(Case::new(
        |a| {
            a.handshake();
            let mut good = Vec::new();
            write_message(&mut good, MAGIC, &Ping(44));
            let mut bytes = good.clone();
            bytes[4..16].copy_from_slice(b"ping\0xx\0\0\0\0\0");
            bytes.extend_from_slice(&good);
            a.send_bytes(&bytes);
            a.wait_for(Command::PONG).expect("the good ping is answered");
            assert_eq!(a.pongs(), [44]);
            a.idle_until_closed();
        },
        Expect::Dropped(|e| {
            matches!(e, Event::FrameDropped { error: WireError::BadCommand { .. }, .. })
        }),
    ));
}

#[test]
fn garbage_stream() {
    let mut case = Case::new(
        |a| {
            // No handshake: a megabyte of noise from the first byte.
            let mut x = 0x2545_f491_4f6c_dd1du64;
            let noise: Vec<u8> = (0..1 << 20)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x as u8
                })
                .collect();
            a.send_bytes(&noise);
            assert!(a.until_closed());
        },
        Expect::Disconnect(|r| wire_error("bad-magic")(r)),
    );
    case.max_held = 64 * 1024;
    run(case);
}

#[test]
fn slowloris_one_byte_a_second() {
    run(Case::new(
        |a| {
            // Our version, one byte a second: the handshake deadline (2 s
            // here, 60 s in Core) is absolute, not an idle timer.
            a.wait_for(Command::VERSION);
            let mut bytes = Vec::new();
            write_message(&mut bytes, MAGIC, &version(7));
            for b in bytes {
                a.send_bytes(&[b]);
                if a.closed {
                    break;
                }
                std::thread::sleep(Duration::from_secs(1));
                a.pump();
            }
            assert!(a.until_closed());
        },
        Expect::Disconnect(|r| matches!(r, DisconnectReason::HandshakeTimeout { .. })),
    ));
}

#[test]
fn slowloris_headers_answer() {
    run(Case::new(
        |a| {
            a.handshake();
            a.wait_for(Command::GETHEADERS).expect("asked for headers");
            let mut bytes = Vec::new();
            write_message(&mut bytes, MAGIC, &Headers(&honest()[1..100]));
            for chunk in bytes.chunks(8) {
                a.send_bytes(chunk);
                if a.closed {
                    break;
                }
                std::thread::sleep(Duration::from_millis(300));
            }
            assert!(a.until_closed());
        },
        Expect::Disconnect(|r| matches!(r, DisconnectReason::Stalled { .. })),
    ));
}

#[test]
fn handshake_never_finished() {
    run(Case::new(
        |a| {
            a.wait_for(Command::VERSION);
            a.send(&version(7)); // and never a verack
            assert!(a.until_closed());
        },
        Expect::Disconnect(|r| matches!(r, DisconnectReason::HandshakeTimeout { .. })),
    ));
}

#[test]
fn messages_before_version_are_ignored() {
    run(Case::new(
        |a| {
            a.wait_for(Command::VERSION);
            // Before our version: a ping, headers with bad proof of work, a
            // getheaders. Core ignores them all, and so must the node.
            a.send(&Ping(45));
            let mut bad = honest()[1];
            bad.nonce.set(bad.nonce() ^ 0x5555);
            a.send(&Headers(&[bad]));
            a.send(&GetHeaders { version: 70016, locator: &[], stop_hash: BlockHash::ZERO });
            a.send(&version(7));
            a.send(&Verack);
            a.wait_for(Command::VERACK).expect("the handshake goes on");
            a.idle_until_closed();
            assert!(a.pongs().is_empty(), "the early ping is not answered");
            assert!(!a.received.iter().any(|(c, _)| *c == Command::HEADERS));
        },
        Expect::Kept,
    ));
}

#[test]
fn version_repeated_is_ignored() {
    run(Case::new(
        |a| {
            a.wait_for(Command::VERSION);
            a.send(&version(7));
            a.send(&version(8));
            a.send(&Verack);
            a.send(&version(9));
            a.idle_until_closed();
            let veracks = a.received.iter().filter(|(c, _)| *c == Command::VERACK).count();
            let versions = a.received.iter().filter(|(c, _)| *c == Command::VERSION).count();
            assert_eq!((versions, veracks), (1, 1));
        },
        Expect::Kept,
    ));
}

#[test]
fn more_than_2000_headers() {
    run(Case::new(
        |a| {
            a.handshake();
            a.wait_for(Command::GETHEADERS);
            a.send(&Headers(&honest()[1..2002]));
            assert!(a.until_closed());
        },
        Expect::Disconnect(|r| *r == DisconnectReason::TooManyHeaders { max: 2000, found: 2001 }),
    ));
}

#[test]
fn headers_with_bad_proof_of_work() {
    run(Case::new(
        |a| {
            a.handshake();
            a.wait_for(Command::GETHEADERS);
            let genesis = honest()[0];
            let mut bad = child(&genesis, genesis.time() + 600, 0x207f_ffff, 9);
            // A nonce whose hash misses the target.
            while bad.block_hash().0[31] < 0x80 {
                bad.nonce.set(bad.nonce() + 1);
            }
            a.send(&Headers(&[bad]));
            assert!(a.until_closed());
        },
        Expect::Disconnect(|r| {
            matches!(
                r,
                DisconnectReason::InvalidHeader { height: 1, error: HeaderError::HighHash(_) }
            )
        }),
    ));
}

#[test]
fn non_connecting_announcements() {
    run(Case::new(
        |a| {
            a.handshake();
            // Nothing beyond the node's tip, then a stream of short
            // announcements whose parent nobody knows. Current Core answers
            // with getheaders (one at a time) and never gives up on the peer
            // for it (`HandleUnconnectingHeaders`); older releases dropped it
            // after MAX_NUM_UNCONNECTING_HEADERS_MSGS (10).
            a.wait_for(Command::GETHEADERS);
            a.send(&Headers(&[]));
            let stray = chain(32, 7);
            for h in &stray[2..] {
                a.send(&Headers(std::slice::from_ref(h)));
                // Each request the node makes is answered with nothing.
                while let Some(i) = a.unread.iter().position(|(c, _)| *c == Command::GETHEADERS) {
                    a.unread.remove(i);
                    a.send(&Headers(&[]));
                }
                a.pump();
            }
            let asked = a.received.iter().filter(|(c, _)| *c == Command::GETHEADERS).count();
            assert!(asked >= 2, "the gap was never asked for");
            a.idle_until_closed();
        },
        Expect::Dropped(|e| matches!(e, Event::HeadersUnconnected { count: 1, .. })),
    ));
}

#[test]
fn non_connecting_full_batch() {
    run(Case::new(
        |a| {
            a.handshake();
            a.wait_for(Command::GETHEADERS);
            // An answer of 2000 headers whose first parent is unknown: it
            // cannot answer the request, which stays out (Core leaves it to
            // its headers timeout), so the peer is dropped for stalling,
            // not for the headers; nothing more is asked of it meanwhile.
            let stray = chain(2001, 8);
            a.send(&Headers(&stray[2..]));
            assert!(a.until_closed());
            assert!(a.unread.iter().all(|(c, _)| *c != Command::GETHEADERS), "asked again");
        },
        Expect::Disconnect(|r| matches!(r, DisconnectReason::Stalled { .. })),
    ));
}

#[test]
fn wrong_nbits() {
    run(Case::new(
        |a| {
            a.handshake();
            a.wait_for(Command::GETHEADERS);
            let genesis = honest()[0];
            // Valid work for the bits it states, but regtest demands 0x207fffff.
            let bad = child(&genesis, genesis.time() + 600, 0x203f_ffff, 9);
            a.send(&Headers(&[bad]));
            assert!(a.until_closed());
        },
        Expect::Disconnect(|r| {
            matches!(
                r,
                DisconnectReason::InvalidHeader {
                    height: 1,
                    error: HeaderError::BadDiffBits { .. }
                }
            )
        }),
    ));
}

#[test]
fn time_too_new_is_dropped() {
    run(Case::new(
        |a| {
            a.handshake();
            a.wait_for(Command::GETHEADERS);
            let genesis = honest()[0];
            let future = Time::now().as_secs() as u32 + 3 * 3600;
            a.send(&Headers(&[child(&genesis, future, 0x207f_ffff, 9)]));
            a.idle_until_closed();
        },
        Expect::Dropped(|e| {
            matches!(e, Event::HeadersRejected { error: HeaderError::TimeTooNew { .. }, .. })
        }),
    ));
}

#[test]
fn long_chain_of_valid_low_work_headers() {
    let mut case = Case::new(
        |a| {
            a.handshake();
            // An endless cheap chain from genesis, mined as it is asked for.
            let genesis = honest()[0];
            let mut last = genesis;
            let mut n = 0u32;
            let mut batch = Vec::with_capacity(2000);
            while a.wait_for(Command::GETHEADERS).is_some() {
                batch.clear();
                for _ in 0..2000 {
                    n += 1;
                    last = child(&last, genesis.time() + 60 * n, 0x207f_ffff, 3);
                    batch.push(last);
                }
                a.send(&Headers(&batch));
            }
        },
        Expect::Disconnect(|r| *r == DisconnectReason::PresyncTooLong { max: 3000 }),
    );
    // The node already holds 2,200 honest headers; the minimum is the honest
    // tip's work, so the honest peers presync 2,000 headers and the cheap
    // chain from genesis would need 4,200: the 3,000-header budget ends it.
    case.start = 2200;
    case.tune = |c| {
        let mut work = U256::ZERO;
        let one = bitwire::pow::work_from_bits(honest()[0].bits());
        for _ in 0..=HONEST {
            work = work.saturating_add(&one);
        }
        c.min_chain_work = Some(work);
        c.max_presync_headers = 3000;
    };
    run(case);
}

#[test]
fn oversized_inv() {
    let mut case = Case::new(
        |a| {
            a.handshake();
            let items = vec![InvEntry::new(InvType::TX, BlockHash([3; 32])); 50_001];
            a.send(&Inv(&items));
            assert!(a.until_closed());
        },
        Expect::Disconnect(
            |r| matches!(r, DisconnectReason::TooManyEntries { command, max: 50_000, found: 50_001 } if *command == Command::INV),
        ),
    );
    case.max_held = 2 * 1024 * 1024 + 64 * 1024;
    run(case);
}

#[test]
fn oversized_addr() {
    run(Case::new(
        |a| {
            a.handshake();
            let entry = AddrEntry::new(0, NetAddr::new(ServiceFlags(1), [0; 16], 8333));
            a.send(&Addr(&vec![entry; 1001]));
            assert!(a.until_closed());
        },
        Expect::Disconnect(
            |r| matches!(r, DisconnectReason::TooManyEntries { command, max: 1000, found: 1001 } if *command == Command::ADDR),
        ),
    ));
}

#[test]
fn oversized_getheaders_locator() {
    run(Case::new(
        |a| {
            a.handshake();
            let locator = vec![honest()[0].block_hash(); 102];
            a.send(&GetHeaders { version: 70016, locator: &locator, stop_hash: BlockHash::ZERO });
            assert!(a.until_closed());
        },
        Expect::Disconnect(|r| *r == DisconnectReason::LocatorTooLarge { max: 101, found: 102 }),
    ));
}

#[test]
fn oversized_getheaders_locator_inbound_to_the_serving_node() {
    let mut case = Case::new(
        |a| {
            a.handshake_inbound();
            // A fair request first: answered.
            let genesis = honest()[0].block_hash();
            a.send(&GetHeaders { version: 70016, locator: &[genesis], stop_hash: BlockHash::ZERO });
            a.wait_for(Command::HEADERS).expect("served");
            let locator = vec![genesis; 102];
            a.send(&GetHeaders { version: 70016, locator: &locator, stop_hash: BlockHash::ZERO });
            assert!(a.until_closed());
        },
        Expect::Disconnect(|r| *r == DisconnectReason::LocatorTooLarge { max: 101, found: 102 }),
    );
    case.inbound = true;
    run(case);
}

#[test]
fn connection_closed_mid_message() {
    run(Case::new(
        |a| {
            a.handshake();
            a.wait_for(Command::GETHEADERS);
            let mut bytes = Vec::new();
            write_message(&mut bytes, MAGIC, &Headers(&honest()[1..2001]));
            a.send_bytes(&bytes[..bytes.len() / 2]);
            std::thread::sleep(Duration::from_millis(100));
            // Dropping the socket closes it, half a message in.
        },
        // A FIN, or a reset if unread bytes were left in our socket.
        Expect::Disconnect(|r| {
            matches!(r, DisconnectReason::Closed(Closed::ByPeer | Closed::Error(_)))
        }),
    ));
}
