//! Helpers shared by the integration tests. Each test binary includes this
//! module with `mod support;` and uses a subset of it.

#![allow(dead_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use bitwire::chain::{params::Params, HeaderTree};
use bitwire::net::{self, Closed, Io, Link, PeerId, Reactor, Running, Service, Time};
use bitwire::peer::DisconnectReason;
use bitwire::sync::sim::Sim;
use bitwire::sync::{Engine, Event};
use bitwire::wire::{BlockHeader, HEADER_SIZE};
use bitwire::Network;

/// The bundled mainnet headers 0..=39,999.
pub const HEADERS: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/corpus/vectors/headers/mainnet_0_39999.bin");

/// A mainnet tree holding the bundled headers ([`HEADERS`]).
pub fn bundled_tree() -> HeaderTree {
    let bytes = std::fs::read(HEADERS).unwrap();
    let headers: Vec<BlockHeader> = bytes
        .chunks_exact(HEADER_SIZE)
        .map(|c| BlockHeader::from_array(c.try_into().unwrap()))
        .collect();
    let mut tree = HeaderTree::new(Params::for_network(Network::Main));
    tree.accept(&headers, Time::now().as_secs()).unwrap();
    tree
}

/// This process's resident memory (VmRSS from /proc/self/status), in bytes.
pub fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    kib * 1024
}

/// An engine as a reactor service that calls `watch` after every call that
/// can produce events (connected, connect_failed, disconnected, received,
/// tick), so it can drain them. `watch` gets the peer the call was about for
/// `connected` and `received`, `None` otherwise.
pub struct Watched<F> {
    pub engine: Engine,
    pub watch: F,
}

impl<F: FnMut(&mut Engine, Option<PeerId>)> Watched<F> {
    pub fn new(engine: Engine, watch: F) -> Self {
        Watched { engine, watch }
    }
}

impl<F: FnMut(&mut Engine, Option<PeerId>)> Service for Watched<F> {
    fn connected(&mut self, p: PeerId, a: SocketAddr, l: Link, now: Time) {
        self.engine.connected(p, a, l, now);
        (self.watch)(&mut self.engine, Some(p));
    }
    fn connect_failed(&mut self, a: SocketAddr, e: std::io::ErrorKind, now: Time) {
        self.engine.connect_failed(a, e, now);
        (self.watch)(&mut self.engine, None);
    }
    fn disconnected(&mut self, p: PeerId, why: Closed, now: Time) {
        self.engine.disconnected(p, why, now);
        (self.watch)(&mut self.engine, None);
    }
    fn received(&mut self, p: PeerId, bytes: &[u8], now: Time) {
        self.engine.received(p, bytes, now);
        (self.watch)(&mut self.engine, Some(p));
    }
    fn pending_output(&self, p: PeerId) -> &[u8] {
        self.engine.pending_output(p)
    }
    fn written(&mut self, p: PeerId, n: usize) {
        self.engine.written(p, n);
    }
    fn tick(&mut self, now: Time) {
        self.engine.tick(now);
        (self.watch)(&mut self.engine, None);
    }
    fn next_io(&mut self) -> Option<Io> {
        self.engine.next_io()
    }
    fn next_wakeup(&self) -> Option<Time> {
        self.engine.next_wakeup()
    }
}

/// A `watch` for [`Watched`] that drains the engine's events and records
/// why each peer left in `gone`.
pub fn record_disconnects(
    gone: Arc<Mutex<Vec<(SocketAddr, DisconnectReason)>>>,
) -> impl FnMut(&mut Engine, Option<PeerId>) + Send {
    move |engine, _| {
        while let Some(e) = engine.poll_event() {
            if let Event::Disconnected { addr, reason, .. } = e {
                gone.lock().unwrap().push((addr, reason));
            }
        }
    }
}

/// A global allocator that forwards to the system allocator and counts
/// allocations (`alloc` and `realloc` calls) per thread. A test binary declares its own
/// `#[global_allocator] static GLOBAL: Counting = Counting::new();`.
pub struct Counting;

impl Counting {
    pub const fn new() -> Self {
        Counting
    }

    /// Allocations so far on the calling thread: other threads (the test
    /// harness, tests running in parallel) are not counted.
    pub fn allocations(&self) -> usize {
        THREAD_ALLOCS.try_with(Cell::get).unwrap_or(0)
    }
}

thread_local! {
    /// Per-thread count; a const initialiser, so touching it never allocates.
    static THREAD_ALLOCS: Cell<usize> = const { Cell::new(0) };
}

fn count_allocation() {
    let _ = THREAD_ALLOCS.try_with(|c| c.set(c.get() + 1));
}

// SAFETY: forwards every call unchanged to the system allocator; the counter
// is the only addition.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count_allocation();
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count_allocation();
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Starts `service` on its own reactor thread (default configuration),
/// listening on a loopback port; returns the running reactor and the port's
/// address.
pub fn spawn_on_loopback<S: Service + Send + 'static>(
    name: &str,
    service: S,
) -> (Running<S>, SocketAddr) {
    let mut reactor = Reactor::new(net::Config::default()).unwrap();
    let addr = reactor.listen("127.0.0.1:0".parse().unwrap()).unwrap();
    (reactor.spawn(name, service).unwrap(), addr)
}

/// A scratch directory, removed when dropped (also when a test fails).
pub struct TempDir(PathBuf);

impl TempDir {
    /// `bitwire-{tag}-{pid}-{name}` in the system's temporary directory,
    /// emptied first.
    pub fn new(tag: &str, name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("bitwire-{tag}-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
    pub fn to_str(&self) -> Option<&str> {
        self.0.to_str()
    }
    pub fn join(&self, p: &str) -> PathBuf {
        self.0.join(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The bundled mainnet headers ([`HEADERS`]), parsed.
pub fn bundled_headers() -> Vec<BlockHeader> {
    std::fs::read(HEADERS)
        .unwrap()
        .chunks_exact(HEADER_SIZE)
        .map(|c| BlockHeader::from_array(c.try_into().unwrap()))
        .collect()
}

/// Headers a simulated node has served so far, from its `Served` events.
pub fn served(sim: &Sim, node: usize) -> u64 {
    sim.nodes[node]
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Served { count, .. } => Some(*count as u64),
            _ => None,
        })
        .sum()
}

/// Plays a serving node's side of the handshake to `e`, which dialled it
/// as `peer`: the connection opens, then the node's `version` (70016,
/// NETWORK | WITNESS, at height 40,000) and `verack` arrive in one read.
/// Drives the engine's `Service` calls by hand, as a reactor would.
pub fn handshake_with_server(e: &mut Engine, peer: PeerId, now: Time) {
    use bitwire::wire::msg::{Verack, Version};
    use bitwire::wire::{write_message, NetAddr, ServiceFlags};
    e.connected(peer, Sim::addr_of(0), Link::Outbound, now);
    let version = Version {
        version: 70016,
        services: ServiceFlags(9),
        timestamp: now.as_secs() as i64,
        receiver: NetAddr::new(ServiceFlags::NONE, [0; 16], 0),
        sender: NetAddr::new(ServiceFlags::NONE, [0; 16], 0),
        nonce: 1,
        user_agent: b"/server/",
        start_height: 40_000,
        relay: false,
    };
    let mut bytes = Vec::new();
    write_message(&mut bytes, Network::Main.magic(), &version);
    write_message(&mut bytes, Network::Main.magic(), &Verack);
    e.received(peer, &bytes, now);
}
