//! The reactor's steady state allocates nothing: ten loopback connections
//! play ping-pong with 64-byte messages through one reactor, and a counting
//! global allocator sees no allocation across 20,000 round trips once the
//! connections are up (the test service reuses its own buffers too).
//!
//! Only allocations on the thread running the reactor are counted: the test
//! harness's own threads may allocate at any time (seen as a rare flake of 4
//! allocations when the counter was process-wide).

use std::collections::{HashMap, VecDeque};
use std::io::ErrorKind;
use std::net::SocketAddr;

use bitwire::net::{Closed, Config, Exit, Io, Link, PeerId, Reactor, Service, Time};

mod support;
use support::Counting;

// Counts per thread; the reactor runs on the test's own thread.
#[global_allocator]
static GLOBAL: Counting = Counting::new();

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
    marks: Vec<usize>,
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
                self.marks.push(GLOBAL.allocations());
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
