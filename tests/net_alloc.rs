//! The reactor's steady state allocates nothing: ten loopback connections
//! play ping-pong with 64-byte messages through one reactor, and a counting
//! global allocator sees no allocation across 20,000 round trips once the
//! connections are up (the test service reuses its own buffers too).
//!
//! Only allocations on the thread running the reactor are counted: the test
//! harness's own threads may allocate at any time (seen as a rare flake of 4
//! allocations when the counter was process-wide).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::collections::{HashMap, VecDeque};
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};

use bitwire::net::{Closed, Config, Exit, Io, Link, PeerId, Reactor, Service, Time};

struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// Set on the thread that runs the reactor; a const initialiser, so reading it never allocates.
    static COUNTED_THREAD: Cell<bool> = const { Cell::new(false) };
}

fn count() {
    if COUNTED_THREAD.try_with(Cell::get).unwrap_or(false) {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    }
}

// SAFETY: every call is forwarded unchanged to the system allocator, which
// upholds the GlobalAlloc contract; the counter has no effect on memory.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: same layout, same contract as our caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const MSG: usize = 64;
const CONNS: usize = 10;
const WARM: u64 = 2_000;
const MEASURED: u64 = 20_000;

/// Per connection: bytes of the current message seen, and the reply.
struct Conn {
    got: usize,
    out: Vec<u8>,
    sent: usize,
}

struct PingPong {
    conns: HashMap<PeerId, Conn>,
    io: VecDeque<Io>,
    round_trips: u64,
    /// Allocation counter at the end of the warm-up and at the end.
    marks: Vec<u64>,
}

impl Service for PingPong {
    fn connected(&mut self, peer: PeerId, _: SocketAddr, link: Link, _: Time) {
        let mut out = Vec::with_capacity(MSG);
        if link == Link::Outbound {
            // The outbound side serves first.
            out.resize(MSG, 0xab);
            self.io.push_back(Io::Write(peer));
        }
        self.conns.insert(peer, Conn { got: 0, out, sent: 0 });
    }
    fn connect_failed(&mut self, addr: SocketAddr, error: ErrorKind, _: Time) {
        panic!("connect to {addr} failed: {error:?}");
    }
    fn disconnected(&mut self, peer: PeerId, why: Closed, _: Time) {
        assert_eq!(why, Closed::ByUs, "{peer} closed early");
    }
    fn received(&mut self, peer: PeerId, bytes: &[u8], _: Time) {
        let conn = self.conns.get_mut(&peer).unwrap();
        conn.got += bytes.len();
        while conn.got >= MSG {
            conn.got -= MSG;
            // Answer in kind: the buffer keeps its capacity.
            conn.out.extend_from_slice(&[0xab; MSG]);
            self.io.push_back(Io::Write(peer));
            self.round_trips += 1;
            if self.round_trips == WARM || self.round_trips == WARM + MEASURED {
                self.marks.push(ALLOCATIONS.load(Ordering::SeqCst));
                if self.marks.len() == 2 {
                    self.io.push_back(Io::Stop);
                }
            }
        }
    }
    fn pending_output(&self, peer: PeerId) -> &[u8] {
        self.conns.get(&peer).map_or(&[], |c| &c.out[c.sent..])
    }
    fn written(&mut self, peer: PeerId, n: usize) {
        let c = self.conns.get_mut(&peer).unwrap();
        c.sent += n;
        if c.sent == c.out.len() {
            c.out.clear();
            c.sent = 0;
        }
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
fn steady_state_ping_pong_allocates_nothing() {
    COUNTED_THREAD.with(|c| c.set(true));
    let mut reactor = Reactor::new(Config::default()).unwrap();
    let addr = reactor.listen("127.0.0.1:0".parse().unwrap()).unwrap();
    let mut service = PingPong {
        conns: HashMap::with_capacity(2 * CONNS),
        io: (0..CONNS).map(|_| Io::Connect(addr)).collect(),
        round_trips: 0,
        marks: Vec::with_capacity(2),
    };
    service.io.reserve(4 * CONNS);
    let (exit, stats) = reactor.run(&mut service).unwrap();
    assert_eq!(exit, Exit::Stopped);
    assert_eq!(stats.connected, CONNS as u64);
    assert!(stats.bytes_read >= (WARM + MEASURED) * MSG as u64);
    let [warm, end] = service.marks[..] else { panic!("marks {:?}", service.marks) };
    assert_eq!(end - warm, 0, "{} allocations in {MEASURED} round trips", end - warm);
}
