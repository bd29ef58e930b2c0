//! The reactor over real loopback sockets, driven by small test services:
//! byte-exact transfer under partial writes, 1,000 concurrent connections,
//! disconnects from either side, refused and timed-out connects, the
//! connection limit, timers, and stopping from another thread.
//!
//! Every service is wrapped in `Checked`, which panics if the reactor breaks
//! the `Service` contract (a call for an unknown peer, `received` after
//! `disconnected`, two disconnects, anything after `shutdown`).

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bitwire::net::{Closed, Config, Exit, Io, Link, PeerId, Reactor, Service, Stats, Time};

/// Wraps a service and checks the order of the reactor's calls.
struct Checked<S> {
    inner: S,
    live: HashSet<PeerId>,
    seen: HashSet<PeerId>,
    shut_down: bool,
}

impl<S> Checked<S> {
    fn new(inner: S) -> Checked<S> {
        Checked { inner, live: HashSet::new(), seen: HashSet::new(), shut_down: false }
    }
    fn live(&self, peer: PeerId) {
        assert!(!self.shut_down, "call after shutdown");
        assert!(self.live.contains(&peer), "call for {peer} which is not connected");
    }
}

impl<S: Service> Service for Checked<S> {
    fn connected(&mut self, peer: PeerId, addr: SocketAddr, link: Link, now: Time) {
        assert!(!self.shut_down, "connected after shutdown");
        assert!(self.seen.insert(peer), "{peer} reused");
        self.live.insert(peer);
        self.inner.connected(peer, addr, link, now);
    }
    fn connect_failed(&mut self, addr: SocketAddr, error: ErrorKind, now: Time) {
        assert!(!self.shut_down, "connect_failed after shutdown");
        self.inner.connect_failed(addr, error, now);
    }
    fn disconnected(&mut self, peer: PeerId, why: Closed, now: Time) {
        self.live(peer);
        self.live.remove(&peer);
        self.inner.disconnected(peer, why, now);
    }
    fn received(&mut self, peer: PeerId, bytes: &[u8], now: Time) {
        self.live(peer);
        assert!(!bytes.is_empty(), "empty read handed to the service");
        self.inner.received(peer, bytes, now);
    }
    fn pending_output(&self, peer: PeerId) -> &[u8] {
        self.live(peer);
        self.inner.pending_output(peer)
    }
    fn written(&mut self, peer: PeerId, n: usize) {
        self.live(peer);
        assert!(n > 0 && n <= self.inner.pending_output(peer).len(), "written {n} out of range");
        self.inner.written(peer, n);
    }
    fn tick(&mut self, now: Time) {
        assert!(!self.shut_down, "tick after shutdown");
        self.inner.tick(now);
    }
    fn next_io(&mut self) -> Option<Io> {
        self.inner.next_io()
    }
    fn next_wakeup(&self) -> Option<Time> {
        self.inner.next_wakeup()
    }
    fn shutdown(&mut self, now: Time) {
        assert!(!self.shut_down, "shutdown twice");
        assert!(self.live.is_empty(), "shutdown with {} peers still connected", self.live.len());
        self.shut_down = true;
        self.inner.shutdown(now);
    }
}

/// Output buffer per peer, with an offset so `written` is cheap.
#[derive(Default)]
struct Out {
    buf: Vec<u8>,
    sent: usize,
}

impl Out {
    fn pending(&self) -> &[u8] {
        &self.buf[self.sent..]
    }
    fn advance(&mut self, n: usize) {
        self.sent += n;
        if self.sent == self.buf.len() {
            self.buf.clear();
            self.sent = 0;
        }
    }
}

/// Echoes everything back; stops when told by a `Handle` (in its thread).
#[derive(Default)]
struct Echo {
    out: HashMap<PeerId, Out>,
    io: VecDeque<Io>,
    closed: Vec<Closed>,
    /// Ask to stop once this many connections have ended.
    stop_after_closes: usize,
}

impl Service for Echo {
    fn connected(&mut self, peer: PeerId, _: SocketAddr, link: Link, _: Time) {
        assert_eq!(link, Link::Inbound);
        self.out.insert(peer, Out::default());
    }
    fn connect_failed(&mut self, addr: SocketAddr, error: ErrorKind, _: Time) {
        panic!("echo never connects, yet {addr} failed with {error:?}");
    }
    fn disconnected(&mut self, peer: PeerId, why: Closed, _: Time) {
        self.out.remove(&peer);
        self.closed.push(why);
        if self.closed.len() == self.stop_after_closes {
            self.io.push_back(Io::Stop);
        }
    }
    fn received(&mut self, peer: PeerId, bytes: &[u8], _: Time) {
        self.out.get_mut(&peer).unwrap().buf.extend_from_slice(bytes);
        self.io.push_back(Io::Write(peer));
    }
    fn pending_output(&self, peer: PeerId) -> &[u8] {
        self.out.get(&peer).map_or(&[], Out::pending)
    }
    fn written(&mut self, peer: PeerId, n: usize) {
        self.out.get_mut(&peer).unwrap().advance(n);
    }
    fn tick(&mut self, _: Time) {}
    fn next_io(&mut self) -> Option<Io> {
        self.io.pop_front()
    }
    fn next_wakeup(&self) -> Option<Time> {
        None
    }
}

/// A deterministic byte pattern that is not periodic at any small length.
fn pattern(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// Opens `conns` connections to `server`, sends each a distinct pattern of
/// `len` bytes in one go and checks the echo byte for byte.
struct Sender {
    server: SocketAddr,
    conns: usize,
    len: usize,
    out: HashMap<PeerId, Out>,
    want: HashMap<PeerId, Vec<u8>>,
    got: HashMap<PeerId, usize>,
    done: usize,
    partial_writes: usize,
    io: VecDeque<Io>,
}

impl Sender {
    fn new(server: SocketAddr, conns: usize, len: usize) -> Sender {
        let io = (0..conns).map(|_| Io::Connect(server)).collect();
        Sender {
            server,
            conns,
            len,
            out: HashMap::new(),
            want: HashMap::new(),
            got: HashMap::new(),
            done: 0,
            partial_writes: 0,
            io,
        }
    }
}

impl Service for Sender {
    fn connected(&mut self, peer: PeerId, addr: SocketAddr, link: Link, _: Time) {
        assert_eq!((addr, link), (self.server, Link::Outbound));
        let data = pattern(peer.0 + 1, self.len);
        self.out.insert(peer, Out { buf: data.clone(), sent: 0 });
        self.want.insert(peer, data);
        self.got.insert(peer, 0);
        self.io.push_back(Io::Write(peer));
    }
    fn connect_failed(&mut self, addr: SocketAddr, error: ErrorKind, _: Time) {
        panic!("connect to {addr} failed: {error:?}");
    }
    fn disconnected(&mut self, peer: PeerId, why: Closed, _: Time) {
        assert_eq!(why, Closed::ByUs, "{peer} closed early");
    }
    fn received(&mut self, peer: PeerId, bytes: &[u8], _: Time) {
        let got = self.got.get_mut(&peer).unwrap();
        let want = &self.want[&peer][*got..];
        assert!(bytes.len() <= want.len(), "{peer}: more bytes came back than were sent");
        assert!(bytes == &want[..bytes.len()], "{peer}: echo differs at byte {got}");
        *got += bytes.len();
        if *got == self.len {
            self.done += 1;
            self.io.push_back(Io::Disconnect(peer));
            if self.done == self.conns {
                self.io.push_back(Io::Stop);
            }
        }
    }
    fn pending_output(&self, peer: PeerId) -> &[u8] {
        self.out.get(&peer).map_or(&[], Out::pending)
    }
    fn written(&mut self, peer: PeerId, n: usize) {
        let out = self.out.get_mut(&peer).unwrap();
        if n < out.pending().len() {
            self.partial_writes += 1;
        }
        out.advance(n);
    }
    fn tick(&mut self, _: Time) {}
    fn next_io(&mut self) -> Option<Io> {
        self.io.pop_front()
    }
    fn next_wakeup(&self) -> Option<Time> {
        None
    }
}

/// Runs an echo server reactor on its own thread until it has seen `closes`
/// connections end; returns its address and a closure that waits for that
/// (a minute at most, then stops it) and hands back the service and stats.
const DEADLINE_SECS: u64 = 60;

fn spawn_echo(
    config: Config,
    closes: usize,
) -> (SocketAddr, impl FnOnce() -> (Checked<Echo>, Exit, Stats)) {
    let mut reactor = Reactor::new(config).unwrap();
    let addr = reactor.listen("127.0.0.1:0".parse().unwrap()).unwrap();
    let echo = Checked::new(Echo { stop_after_closes: closes, ..Echo::default() });
    let running = reactor.spawn("echo", echo).unwrap();
    (addr, move || {
        let deadline = Instant::now() + Duration::from_secs(DEADLINE_SECS);
        while !running.is_finished() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        running.stop().unwrap()
    })
}

#[test]
fn echo_is_byte_exact_under_partial_writes_and_small_reads() {
    // A small read buffer on the server: each 16 MiB stream arrives in
    // thousands of reads of at most 4093 bytes, and the client's one big
    // write must be taken by the socket piece by piece. A small read budget
    // makes the server hand the turn to the other connections every 10,000
    // bytes and come back for the rest.
    let config = Config::default().read_buffer(4093).read_budget(10_000);
    let (addr, stop) = spawn_echo(config, 4);
    let len = 16 << 20;
    let mut sender = Checked::new(Sender::new(addr, 4, len));
    let (exit, stats) = Reactor::new(Config::default()).unwrap().run(&mut sender).unwrap();
    assert_eq!(exit, Exit::Stopped);
    assert_eq!(sender.inner.done, 4);
    assert!(sender.inner.partial_writes > 0, "no partial write happened; the test proves nothing");
    assert_eq!(stats.bytes_written, 4 * len as u64);
    assert_eq!(stats.bytes_read, 4 * len as u64);
    assert_eq!((stats.connected, stats.connect_failed), (4, 0));

    let (echo, exit, stats) = stop();
    assert_eq!(exit, Exit::Stopped, "{:?} {stats:?}", echo.inner.closed);
    assert_eq!(stats.accepted, 4);
    assert_eq!(stats.bytes_read, 4 * len as u64);
    // The sender closed each connection once it had its echo back.
    assert!(echo.inner.closed.iter().all(|&c| c == Closed::ByPeer), "{:?}", echo.inner.closed);
    assert_eq!(echo.inner.closed.len(), 4);
}

/// Both sides of `n` loopback connections in one reactor: it connects to its
/// own listener `n` times, holds all `2n` sockets open at once, sends one
/// greeting each way on every connection, then closes the outbound sides.
struct Mesh {
    listen: SocketAddr,
    n: usize,
    io: VecDeque<Io>,
    out: HashMap<PeerId, Out>,
    links: HashMap<PeerId, Link>,
    greeted: HashSet<PeerId>,
    peak: (usize, usize),
    closed: BTreeMap<&'static str, usize>,
    closing: bool,
}

impl Mesh {
    fn count(&self, link: Link) -> usize {
        self.links.values().filter(|&&l| l == link).count()
    }
    fn check_all_up(&mut self) {
        let (inb, outb) = (self.count(Link::Inbound), self.count(Link::Outbound));
        self.peak = (self.peak.0.max(inb), self.peak.1.max(outb));
        if !self.closing && self.greeted.len() == 2 * self.n {
            // Every socket is open and has heard from the other side: close
            // the outbound halves; the inbound halves then see ByPeer.
            self.closing = true;
            for (&peer, &link) in &self.links {
                if link == Link::Outbound {
                    self.io.push_back(Io::Disconnect(peer));
                }
            }
        }
    }
}

impl Service for Mesh {
    fn connected(&mut self, peer: PeerId, _: SocketAddr, link: Link, _: Time) {
        self.links.insert(peer, link);
        self.out.insert(peer, Out { buf: peer.0.to_le_bytes().to_vec(), sent: 0 });
        self.io.push_back(Io::Write(peer));
        self.check_all_up();
    }
    fn connect_failed(&mut self, addr: SocketAddr, error: ErrorKind, _: Time) {
        panic!("connect to {addr} failed: {error:?}");
    }
    fn disconnected(&mut self, peer: PeerId, why: Closed, _: Time) {
        self.links.remove(&peer);
        let name = match why {
            Closed::ByUs => "by_us",
            Closed::ByPeer => "by_peer",
            _ => "other",
        };
        *self.closed.entry(name).or_default() += 1;
        if self.links.is_empty() {
            self.io.push_back(Io::Stop);
        }
    }
    fn received(&mut self, peer: PeerId, bytes: &[u8], _: Time) {
        // Eight bytes each way; loopback delivers them in one read.
        assert_eq!(bytes.len(), 8, "{peer}: greeting split or merged");
        assert!(self.greeted.insert(peer), "{peer} greeted twice");
        self.check_all_up();
    }
    fn pending_output(&self, peer: PeerId) -> &[u8] {
        self.out.get(&peer).map_or(&[], Out::pending)
    }
    fn written(&mut self, peer: PeerId, n: usize) {
        self.out.get_mut(&peer).unwrap().advance(n);
    }
    fn tick(&mut self, _: Time) {}
    fn next_io(&mut self) -> Option<Io> {
        self.io.pop_front()
    }
    fn next_wakeup(&self) -> Option<Time> {
        None
    }
}

#[test]
fn holds_a_thousand_concurrent_loopback_connections() {
    // 2,000 sockets plus the listener: needs `ulimit -n` above about 2,050.
    let n = 1000;
    let mut reactor = Reactor::new(Config::default()).unwrap();
    let listen = reactor.listen("127.0.0.1:0".parse().unwrap()).unwrap();
    let mut mesh = Checked::new(Mesh {
        listen,
        n,
        io: (0..n).map(|_| Io::Connect(listen)).collect(),
        out: HashMap::new(),
        links: HashMap::new(),
        greeted: HashSet::new(),
        peak: (0, 0),
        closed: BTreeMap::new(),
        closing: false,
    });
    let (exit, stats) = reactor.run(&mut mesh).unwrap();
    assert_eq!(exit, Exit::Stopped);
    let mesh = mesh.inner;
    assert_eq!(mesh.listen, listen);
    assert_eq!(mesh.peak, (n, n), "not all connections were open at once");
    assert!(stats.peak_connections >= 2 * n);
    assert_eq!((stats.accepted, stats.connected, stats.connect_failed), (n as u64, n as u64, 0));
    assert_eq!(stats.bytes_written, 2 * 8 * n as u64);
    assert_eq!(mesh.closed.get("by_us"), Some(&n));
    assert_eq!(mesh.closed.get("by_peer"), Some(&n));
    assert_eq!(mesh.closed.get("other"), None);
}

/// A scripted client for the disconnect and connect-failure cases.
#[derive(Default)]
struct Script {
    io: VecDeque<Io>,
    out: HashMap<PeerId, Out>,
    events: Vec<String>,
    on_connect: Vec<u8>,
    /// Disconnect from inside `received` (and ask for it twice).
    hang_up_on_data: bool,
    stop_after_events: usize,
    /// Sends once on this channel when the log reaches this many events.
    ready: Option<(usize, std::sync::mpsc::Sender<()>)>,
}

impl Script {
    fn log(&mut self, e: String) {
        self.events.push(e);
        if let Some((n, tx)) = &self.ready {
            if self.events.len() == *n {
                tx.send(()).unwrap();
            }
        }
        if self.events.len() >= self.stop_after_events {
            self.io.push_back(Io::Stop);
        }
    }
}

impl Service for Script {
    fn connected(&mut self, peer: PeerId, _: SocketAddr, link: Link, _: Time) {
        self.out.insert(peer, Out { buf: self.on_connect.clone(), sent: 0 });
        self.io.push_back(Io::Write(peer));
        self.log(format!("connected {link:?}"));
    }
    fn connect_failed(&mut self, _: SocketAddr, error: ErrorKind, _: Time) {
        self.log(format!("connect_failed {error:?}"));
    }
    fn disconnected(&mut self, _: PeerId, why: Closed, _: Time) {
        self.log(format!("disconnected {why:?}"));
    }
    fn received(&mut self, peer: PeerId, bytes: &[u8], _: Time) {
        if self.hang_up_on_data {
            // Twice, and a write after: the reactor must close once and
            // never call back for this peer again.
            self.io.push_back(Io::Disconnect(peer));
            self.io.push_back(Io::Disconnect(peer));
            self.io.push_back(Io::Write(peer));
        }
        self.log(format!("received {}", bytes.len()));
    }
    fn pending_output(&self, peer: PeerId) -> &[u8] {
        self.out.get(&peer).map_or(&[], Out::pending)
    }
    fn written(&mut self, peer: PeerId, n: usize) {
        self.out.get_mut(&peer).unwrap().advance(n);
    }
    fn tick(&mut self, _: Time) {}
    fn next_io(&mut self) -> Option<Io> {
        self.io.pop_front()
    }
    fn next_wakeup(&self) -> Option<Time> {
        None
    }
}

#[test]
fn remote_close_is_reported_by_peer() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = std::thread::spawn(move || {
        use std::io::{Read, Write};
        let (mut s, _) = listener.accept().unwrap();
        let mut hello = [0u8; 5];
        s.read_exact(&mut hello).unwrap();
        s.write_all(b"bye").unwrap();
        hello
        // `s` drops here: the client reads the end of the stream.
    });
    let mut script = Checked::new(Script {
        io: VecDeque::from([Io::Connect(addr)]),
        on_connect: b"hello".to_vec(),
        stop_after_events: 3,
        ..Script::default()
    });
    let (exit, _) = Reactor::new(Config::default()).unwrap().run(&mut script).unwrap();
    assert_eq!(exit, Exit::Stopped);
    assert_eq!(&server.join().unwrap(), b"hello");
    assert_eq!(script.inner.events, ["connected Outbound", "received 3", "disconnected ByPeer"]);
}

#[test]
fn disconnect_from_inside_received_closes_once() {
    let (addr, stop) = spawn_echo(Config::default(), 1);
    let mut script = Checked::new(Script {
        io: VecDeque::from([Io::Connect(addr)]),
        on_connect: vec![7; 100_000],
        hang_up_on_data: true,
        stop_after_events: 3,
        ..Script::default()
    });
    let (exit, _) = Reactor::new(Config::default()).unwrap().run(&mut script).unwrap();
    assert_eq!(exit, Exit::Stopped);
    let events = &script.inner.events;
    assert_eq!(events[0], "connected Outbound");
    assert!(events[1].starts_with("received "), "{events:?}");
    assert_eq!(events[2], "disconnected ByUs");
    let (echo, _, _) = stop();
    assert_eq!(echo.inner.closed.len(), 1);
    // Closed with unread echo data in flight: the server sees a close or a reset.
    assert!(matches!(echo.inner.closed[0], Closed::ByPeer | Closed::Error(_)));
}

#[test]
fn refused_connect_is_reported_without_a_peer() {
    // Bind, note the port, close: nothing listens there now.
    let addr = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let mut script = Checked::new(Script {
        io: VecDeque::from([Io::Connect(addr), Io::Disconnect(PeerId(12345))]),
        stop_after_events: 1,
        ..Script::default()
    });
    let (exit, stats) = Reactor::new(Config::default()).unwrap().run(&mut script).unwrap();
    assert_eq!(exit, Exit::Stopped);
    assert_eq!(script.inner.events, ["connect_failed ConnectionRefused"]);
    assert_eq!((stats.connected, stats.connect_failed), (0, 1));
}

#[test]
fn connect_not_complete_by_the_timeout_fails_timed_out() {
    // No address is sure to hang here (this sandbox even completes connects
    // to unrouted addresses), so the timeout is zero: the connect is still in
    // progress when the reactor first checks its deadline.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let mut script = Checked::new(Script {
        io: VecDeque::from([Io::Connect(addr)]),
        stop_after_events: 1,
        ..Script::default()
    });
    let config = Config::default().connect_timeout(Duration::ZERO);
    let (exit, stats) = Reactor::new(config).unwrap().run(&mut script).unwrap();
    assert_eq!(exit, Exit::Stopped);
    assert_eq!(script.inner.events, ["connect_failed TimedOut"]);
    assert_eq!((stats.connected, stats.connect_failed), (0, 1));
}

#[test]
fn connection_limit_refuses_extra_inbound_and_outbound() {
    let (addr, stop) = spawn_echo(Config::default().max_connections(3), 3);
    // Five connects to a server that takes three; our own limit is four, so
    // the fifth fails here with ResourceBusy and never leaves the process.
    let mut script = Checked::new(Script {
        io: (0..5).map(|_| Io::Connect(addr)).collect(),
        on_connect: b"x".to_vec(),
        // 4 connected + 1 connect_failed + 3 echoes + 1 close by the server;
        // then our shutdown closes the other three.
        stop_after_events: 9,
        ..Script::default()
    });
    let config = Config::default().max_connections(4);
    let (exit, stats) = Reactor::new(config).unwrap().run(&mut script).unwrap();
    assert_eq!(exit, Exit::Stopped);
    // The refused connection is closed by the server with our "x" unread,
    // which the kernel turns into a reset; without it, a plain close.
    let mut events: Vec<&str> = script
        .inner
        .events
        .iter()
        .map(|e| if e == "disconnected Error(ConnectionReset)" { "disconnected ByPeer" } else { e })
        .collect();
    events.sort();
    assert_eq!(
        events,
        [
            "connect_failed ResourceBusy",
            "connected Outbound",
            "connected Outbound",
            "connected Outbound",
            "connected Outbound",
            "disconnected ByPeer",
            "disconnected ByUs",
            "disconnected ByUs",
            "disconnected ByUs",
            "received 1",
            "received 1",
            "received 1",
        ]
    );
    assert_eq!((stats.connected, stats.connect_failed), (4, 1));
    let (echo, _, stats) = stop();
    assert_eq!((stats.accepted, stats.refused), (3, 1));
    // The three it kept were closed by our shutdown.
    assert_eq!(echo.inner.closed, [Closed::ByPeer; 3]);
}

/// Ticks at a fixed period, recording when; stops after `limit` ticks.
struct Metronome {
    period: Duration,
    next: Time,
    ticks: Vec<(Time, Time)>,
    limit: usize,
    io: VecDeque<Io>,
}

impl Service for Metronome {
    fn connected(&mut self, _: PeerId, _: SocketAddr, _: Link, _: Time) {
        unreachable!()
    }
    fn connect_failed(&mut self, _: SocketAddr, _: ErrorKind, _: Time) {
        unreachable!()
    }
    fn disconnected(&mut self, _: PeerId, _: Closed, _: Time) {
        unreachable!()
    }
    fn received(&mut self, _: PeerId, _: &[u8], _: Time) {
        unreachable!()
    }
    fn pending_output(&self, _: PeerId) -> &[u8] {
        &[]
    }
    fn written(&mut self, _: PeerId, _: usize) {}
    fn tick(&mut self, now: Time) {
        self.ticks.push((self.next, now));
        self.next = now + self.period;
        if self.ticks.len() == self.limit {
            self.io.push_back(Io::Stop);
        }
    }
    fn next_io(&mut self) -> Option<Io> {
        self.io.pop_front()
    }
    fn next_wakeup(&self) -> Option<Time> {
        (self.ticks.len() < self.limit).then_some(self.next)
    }
}

#[test]
fn timers_fire_at_next_wakeup_and_not_before() {
    let period = Duration::from_millis(20);
    let mut m = Checked::new(Metronome {
        period,
        next: Time::now() + period,
        ticks: Vec::new(),
        limit: 5,
        io: VecDeque::new(),
    });
    let (exit, _) = Reactor::new(Config::default()).unwrap().run(&mut m).unwrap();
    assert_eq!(exit, Exit::Stopped);
    assert_eq!(m.inner.ticks.len(), 5);
    for &(due, at) in &m.inner.ticks {
        assert!(at >= due, "tick at {at:?} before its wakeup {due:?}");
    }
}

#[test]
fn handle_stops_a_busy_reactor_and_closes_every_connection() {
    let (addr, stop) = spawn_echo(Config::default(), 10);
    let reactor = Reactor::new(Config::default()).unwrap();
    let handle = reactor.handle();
    let (tx, rx) = std::sync::mpsc::channel();
    // Ten connections that stay open; the service never asks to stop.
    let client = std::thread::spawn(move || {
        let mut script = Checked::new(Script {
            io: (0..10).map(|_| Io::Connect(addr)).collect(),
            on_connect: b"ping".to_vec(),
            stop_after_events: usize::MAX,
            // Ten "connected" and ten "received": every connection is up.
            ready: Some((20, tx)),
            ..Script::default()
        });
        let (exit, _) = reactor.run(&mut script).unwrap();
        (exit, script)
    });
    rx.recv_timeout(Duration::from_secs(60)).expect("connections did not come up");
    handle.stop();
    let (exit, script) = client.join().unwrap();
    assert_eq!(exit, Exit::Interrupted);
    assert!(script.shut_down, "shutdown was not called");
    let connected = script.inner.events.iter().filter(|e| e.starts_with("connected")).count();
    let closed = script.inner.events.iter().filter(|e| *e == "disconnected ByUs").count();
    assert_eq!((connected, closed), (10, 10), "{:?}", script.inner.events);
    let (echo, _, _) = stop();
    assert_eq!(echo.inner.closed, [Closed::ByPeer; 10]);
}

/// A service whose timer is always due, around another service.
struct AlwaysDue<S> {
    inner: S,
    ticks: u64,
}

impl<S: Service> Service for AlwaysDue<S> {
    fn connected(&mut self, p: PeerId, a: SocketAddr, l: Link, now: Time) {
        self.inner.connected(p, a, l, now);
    }
    fn connect_failed(&mut self, a: SocketAddr, e: ErrorKind, now: Time) {
        self.inner.connect_failed(a, e, now);
    }
    fn disconnected(&mut self, p: PeerId, why: Closed, now: Time) {
        self.inner.disconnected(p, why, now);
    }
    fn received(&mut self, p: PeerId, bytes: &[u8], now: Time) {
        self.inner.received(p, bytes, now);
    }
    fn pending_output(&self, p: PeerId) -> &[u8] {
        self.inner.pending_output(p)
    }
    fn written(&mut self, p: PeerId, n: usize) {
        self.inner.written(p, n);
    }
    fn tick(&mut self, now: Time) {
        self.ticks += 1;
        self.inner.tick(now);
    }
    fn next_io(&mut self) -> Option<Io> {
        self.inner.next_io()
    }
    fn next_wakeup(&self) -> Option<Time> {
        Some(Time(0))
    }
}

#[test]
fn a_timer_that_stays_due_does_not_starve_the_sockets() {
    let (addr, stop) = spawn_echo(Config::default(), 1);
    let script = Script {
        io: VecDeque::from([Io::Connect(addr)]),
        on_connect: b"hello".to_vec(),
        // connected, received 5: then stop (our shutdown closes it).
        stop_after_events: 2,
        ..Script::default()
    };
    let mut service = Checked::new(AlwaysDue { inner: script, ticks: 0 });
    let (exit, _) = Reactor::new(Config::default()).unwrap().run(&mut service).unwrap();
    assert_eq!(exit, Exit::Stopped);
    assert_eq!(
        service.inner.inner.events,
        ["connected Outbound", "received 5", "disconnected ByUs"]
    );
    assert!(service.inner.ticks > 0);
    let (echo, _, _) = stop();
    assert_eq!(echo.inner.closed, [Closed::ByPeer]);
}
