//! A deterministic network simulator for tests, fuzzing and examples: nodes
//! (engines, or scripted raw peers) joined pairwise by in-memory pipes, with
//! a virtual clock that jumps to the next timer when nothing else happens.
//! No sockets, no threads, no sleeping.
//!
//! Not a stable API (hidden from the docs).

use std::collections::VecDeque;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};

use crate::net::{Closed, Io, Link, PeerId, Service, Time};
use crate::sync::{Engine, Event};
use crate::wire::msg::Encode;
use crate::wire::{parse_frame, write_message, Command, Status};
use crate::Magic;

/// A payload rewriter on a node's outgoing messages: given a message, return
/// `Some(payload)` to send that payload instead, or `None` to keep it.
pub type Tamper = Box<dyn FnMut(Command, &[u8]) -> Option<Vec<u8>>>;

/// A peer driven by the test: it sends exactly what the test queues and
/// records every message it receives.
#[derive(Debug)]
pub struct RawPeer {
    magic: Magic,
    /// The connection, once open.
    pub peer: Option<PeerId>,
    out: Vec<u8>,
    inbox: Vec<u8>,
    /// Messages received, in order (command, payload).
    pub received: Vec<(Command, Vec<u8>)>,
    /// Set when the connection closed.
    pub closed: Option<Closed>,
    io: VecDeque<Io>,
    dial: Option<SocketAddr>,
}

impl RawPeer {
    /// A raw peer on `magic`.
    pub fn new(magic: Magic) -> RawPeer {
        RawPeer {
            magic,
            peer: None,
            out: Vec::new(),
            inbox: Vec::new(),
            received: Vec::new(),
            closed: None,
            io: VecDeque::new(),
            dial: None,
        }
    }

    /// Queues a message.
    pub fn send(&mut self, msg: &impl Encode) {
        write_message(&mut self.out, self.magic, msg);
        if let Some(p) = self.peer {
            self.io.push_back(Io::Write(p));
        }
    }

    /// Queues raw bytes.
    pub fn send_bytes(&mut self, bytes: &[u8]) {
        self.out.extend_from_slice(bytes);
        if let Some(p) = self.peer {
            self.io.push_back(Io::Write(p));
        }
    }

    /// Dials `addr` (on the next simulator step).
    pub fn connect(&mut self, addr: SocketAddr) {
        self.dial = Some(addr);
        self.io.push_back(Io::Connect(addr));
    }

    /// Commands received so far, in order.
    pub fn commands(&self) -> Vec<&str> {
        self.received.iter().map(|(c, _)| c.as_str()).collect()
    }

    /// Forgets the messages received so far.
    pub fn clear(&mut self) {
        self.received.clear();
    }
}

impl Service for RawPeer {
    fn connected(&mut self, peer: PeerId, _addr: SocketAddr, _link: Link, _now: Time) {
        self.peer = Some(peer);
        if !self.out.is_empty() {
            self.io.push_back(Io::Write(peer));
        }
    }
    fn connect_failed(&mut self, _addr: SocketAddr, error: std::io::ErrorKind, _now: Time) {
        self.closed = Some(Closed::ConnectFailed(error));
    }
    fn disconnected(&mut self, _peer: PeerId, why: Closed, _now: Time) {
        self.closed = Some(why);
    }
    fn received(&mut self, _peer: PeerId, bytes: &[u8], _now: Time) {
        self.inbox.extend_from_slice(bytes);
        while let Ok(Status::Complete((frame, used))) = parse_frame(self.magic, &self.inbox) {
            self.received.push((frame.command, frame.payload.to_vec()));
            self.inbox.drain(..used);
        }
    }
    fn pending_output(&self, _peer: PeerId) -> &[u8] {
        &self.out
    }
    fn written(&mut self, _peer: PeerId, n: usize) {
        self.out.drain(..n.min(self.out.len()));
    }
    fn tick(&mut self, _now: Time) {}
    fn next_io(&mut self) -> Option<Io> {
        self.io.pop_front()
    }
    fn next_wakeup(&self) -> Option<Time> {
        None
    }
}

/// What runs at a simulated node.
#[derive(Debug)]
pub enum Kind {
    /// A bitwire engine.
    Engine(Box<Engine>),
    /// A scripted peer.
    Raw(RawPeer),
}

impl Kind {
    fn service(&mut self) -> &mut dyn Service {
        match self {
            Kind::Engine(e) => e.as_mut(),
            Kind::Raw(r) => r,
        }
    }
}

/// One simulated node.
pub struct Node {
    /// Its address (others dial it there).
    pub addr: SocketAddr,
    /// What runs there.
    pub kind: Kind,
    /// Events the engine reported, oldest first (drained every step).
    pub events: Vec<Event>,
    /// Its output is dropped on the floor from now on (a silent peer).
    pub mute: bool,
    /// It asked the simulator to stop.
    pub stopped: bool,
    /// Accepts inbound connections.
    pub listening: bool,
    tamper: Option<Tamper>,
}

impl core::fmt::Debug for Node {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Node").field("addr", &self.addr).field("kind", &self.kind).finish()
    }
}

#[derive(Debug)]
struct Pipe {
    ends: [(usize, PeerId); 2],
    /// Bytes in flight towards `ends[i]`.
    queue: [VecDeque<u8>; 2],
    open: bool,
}

/// The simulated network. See the module docs.
#[derive(Debug)]
pub struct Sim {
    /// The virtual clock.
    pub now: Time,
    /// Nodes, by index.
    pub nodes: Vec<Node>,
    pipes: Vec<Pipe>,
    next_peer: u64,
    /// Most bytes handed to `received` at once (exercises split messages).
    pub chunk: usize,
    /// Steps taken (deliveries and ticks), for loop guards.
    pub steps: u64,
}

/// A virtual start time: 2026-01-01, later than every bundled header.
pub const START: Time = Time::from_secs(1_767_225_600);

impl Default for Sim {
    fn default() -> Self {
        Sim::new()
    }
}

impl Sim {
    /// An empty network at [`START`].
    pub fn new() -> Sim {
        Sim {
            now: START,
            nodes: Vec::new(),
            pipes: Vec::new(),
            next_peer: 1,
            chunk: 64 * 1024,
            steps: 0,
        }
    }

    fn push(&mut self, kind: Kind) -> usize {
        let i = self.nodes.len();
        let addr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, i as u8 + 1), 8333));
        self.nodes.push(Node {
            addr,
            kind,
            events: Vec::new(),
            mute: false,
            stopped: false,
            listening: true,
            tamper: None,
        });
        i
    }

    /// Adds an engine; returns its index. Its address is `10.0.0.<i+1>:8333`.
    pub fn add_engine(&mut self, engine: Engine) -> usize {
        self.push(Kind::Engine(Box::new(engine)))
    }

    /// Adds a scripted peer; returns its index.
    pub fn add_raw(&mut self, raw: RawPeer) -> usize {
        self.push(Kind::Raw(raw))
    }

    /// The address node `i` listens on (before it is added: the address it
    /// will get).
    pub fn addr_of(i: usize) -> SocketAddr {
        SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, i as u8 + 1), 8333))
    }

    /// The engine at `i`.
    pub fn engine(&self, i: usize) -> &Engine {
        match &self.nodes[i].kind {
            Kind::Engine(e) => e,
            Kind::Raw(_) => panic!("node {i} is not an engine"),
        }
    }

    /// The engine at `i`, mutable.
    pub fn engine_mut(&mut self, i: usize) -> &mut Engine {
        match &mut self.nodes[i].kind {
            Kind::Engine(e) => e,
            Kind::Raw(_) => panic!("node {i} is not an engine"),
        }
    }

    /// The raw peer at `i`.
    pub fn raw(&mut self, i: usize) -> &mut RawPeer {
        match &mut self.nodes[i].kind {
            Kind::Raw(r) => r,
            Kind::Engine(_) => panic!("node {i} is not a raw peer"),
        }
    }

    /// Rewrites node `i`'s outgoing messages from now on.
    pub fn set_tamper(&mut self, i: usize, tamper: Tamper) {
        self.nodes[i].tamper = Some(tamper);
    }

    /// Every event node `i` reported so far, oldest first.
    pub fn events(&self, i: usize) -> &[Event] {
        &self.nodes[i].events
    }

    /// Disconnect reasons node `i` reported so far.
    pub fn disconnects(&self, i: usize) -> Vec<crate::peer::DisconnectReason> {
        self.nodes[i]
            .events
            .iter()
            .filter_map(|e| match e {
                Event::Disconnected { reason, .. } => Some(reason.clone()),
                _ => None,
            })
            .collect()
    }

    fn find_end(&self, node: usize, peer: PeerId) -> Option<(usize, usize)> {
        self.pipes.iter().enumerate().find_map(|(p, pipe)| {
            if !pipe.open {
                return None;
            }
            pipe.ends.iter().position(|&e| e == (node, peer)).map(|side| (p, side))
        })
    }

    fn close(&mut self, p: usize, by: usize) {
        if !self.pipes[p].open {
            return;
        }
        self.pipes[p].open = false;
        let now = self.now;
        for side in 0..2 {
            let (n, peer) = self.pipes[p].ends[side];
            let why = if side == by { Closed::ByUs } else { Closed::ByPeer };
            self.nodes[n].kind.service().disconnected(peer, why, now);
        }
    }

    /// Carries out node `i`'s pending instructions. True if there were any.
    fn drain_io(&mut self, i: usize) -> bool {
        let mut any = false;
        while let Some(io) = self.nodes[i].kind.service().next_io() {
            any = true;
            let now = self.now;
            match io {
                Io::Connect(addr) => {
                    let target =
                        self.nodes.iter().position(|n| n.addr == addr && n.listening && !n.stopped);
                    match target {
                        None => self.nodes[i].kind.service().connect_failed(
                            addr,
                            std::io::ErrorKind::ConnectionRefused,
                            now,
                        ),
                        Some(j) => {
                            let (a, b) = (PeerId(self.next_peer), PeerId(self.next_peer + 1));
                            self.next_peer += 2;
                            self.pipes.push(Pipe {
                                ends: [(i, a), (j, b)],
                                queue: [VecDeque::new(), VecDeque::new()],
                                open: true,
                            });
                            let from = SocketAddr::V4(SocketAddrV4::new(
                                Ipv4Addr::new(10, 0, 0, i as u8 + 1),
                                40_000 + (self.pipes.len() % 20_000) as u16,
                            ));
                            self.nodes[i].kind.service().connected(a, addr, Link::Outbound, now);
                            self.nodes[j].kind.service().connected(b, from, Link::Inbound, now);
                        }
                    }
                }
                Io::Write(peer) => {
                    let bytes = self.nodes[i].kind.service().pending_output(peer).to_vec();
                    self.nodes[i].kind.service().written(peer, bytes.len());
                    if self.nodes[i].mute {
                        continue;
                    }
                    let bytes = self.tampered(i, bytes);
                    if let Some((p, side)) = self.find_end(i, peer) {
                        self.pipes[p].queue[1 - side].extend(bytes);
                    }
                }
                Io::Disconnect(peer) => {
                    if let Some((p, side)) = self.find_end(i, peer) {
                        self.close(p, side);
                    }
                }
                Io::Stop => {
                    self.nodes[i].stopped = true;
                    let open: Vec<(usize, usize)> = self
                        .pipes
                        .iter()
                        .enumerate()
                        .filter(|(_, p)| p.open)
                        .filter_map(|(pi, p)| p.ends.iter().position(|e| e.0 == i).map(|s| (pi, s)))
                        .collect();
                    for (p, side) in open {
                        self.close(p, side);
                    }
                }
            }
        }
        any
    }

    fn tampered(&mut self, i: usize, bytes: Vec<u8>) -> Vec<u8> {
        let node = &mut self.nodes[i];
        let magic = match &node.kind {
            Kind::Engine(e) => e.config().network.magic(),
            Kind::Raw(r) => r.magic,
        };
        let Some(tamper) = node.tamper.as_mut() else { return bytes };
        let mut out = Vec::with_capacity(bytes.len());
        let mut rest = &bytes[..];
        while let Ok(Status::Complete((frame, used))) = parse_frame(magic, rest) {
            match tamper(frame.command, frame.payload) {
                Some(payload) => {
                    write_message(&mut out, magic, &RawMessage(frame.command, &payload));
                }
                None => out.extend_from_slice(&rest[..used]),
            }
            rest = &rest[used..];
        }
        out.extend_from_slice(rest);
        out
    }

    /// Delivers one chunk on every pipe with bytes in flight. True if any.
    fn deliver(&mut self) -> bool {
        let mut any = false;
        let now = self.now;
        for p in 0..self.pipes.len() {
            for side in 0..2 {
                if !self.pipes[p].open || self.pipes[p].queue[side].is_empty() {
                    continue;
                }
                let q = &mut self.pipes[p].queue[side];
                let n = q.len().min(self.chunk.max(1));
                let chunk: Vec<u8> = q.drain(..n).collect();
                let (node, peer) = self.pipes[p].ends[side];
                if self.nodes[node].stopped {
                    continue;
                }
                self.nodes[node].kind.service().received(peer, &chunk, now);
                any = true;
            }
        }
        any
    }

    fn collect_events(&mut self) {
        for n in &mut self.nodes {
            if let Kind::Engine(e) = &mut n.kind {
                while let Some(ev) = e.poll_event() {
                    n.events.push(ev);
                }
            }
        }
    }

    /// One round: instructions, deliveries. When nothing moved, the clock
    /// jumps to the earliest timer (not beyond `limit`) and those nodes tick.
    /// Returns false when nothing can happen before `limit`.
    pub fn step(&mut self, limit: Time) -> bool {
        self.steps += 1;
        let mut any = false;
        for i in 0..self.nodes.len() {
            if !self.nodes[i].stopped {
                any |= self.drain_io(i);
            }
        }
        any |= self.deliver();
        self.collect_events();
        if any {
            return true;
        }
        let next = self
            .nodes
            .iter()
            .filter(|n| !n.stopped)
            .filter_map(|n| match &n.kind {
                Kind::Engine(e) => e.next_wakeup(),
                Kind::Raw(_) => None,
            })
            .min();
        match next {
            Some(t) if t <= limit => {
                self.now = self.now.max(t);
                let now = self.now;
                for n in &mut self.nodes {
                    if !n.stopped {
                        n.kind.service().tick(now);
                    }
                }
                self.collect_events();
                true
            }
            _ => false,
        }
    }

    /// Runs until `done` holds (true) or nothing can happen within `within`
    /// of virtual time (false).
    pub fn run_until(
        &mut self,
        within: core::time::Duration,
        mut done: impl FnMut(&Sim) -> bool,
    ) -> bool {
        let limit = self.now + within;
        loop {
            if done(self) {
                return true;
            }
            if !self.step(limit) {
                return done(self);
            }
        }
    }

    /// Runs until nothing can happen within `within` of virtual time.
    pub fn run_for(&mut self, within: core::time::Duration) {
        let limit = self.now + within;
        while self.step(limit) {}
        self.now = self.now.max(limit);
        let now = self.now;
        for n in &mut self.nodes {
            if !n.stopped {
                n.kind.service().tick(now);
            }
        }
        while self.step(limit) {}
    }
}

/// A message given as command and payload bytes.
struct RawMessage<'a>(Command, &'a [u8]);

impl Encode for RawMessage<'_> {
    fn command(&self) -> Command {
        self.0
    }
    fn payload_len(&self) -> usize {
        self.1.len()
    }
    fn encode_payload(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.1);
    }
}
