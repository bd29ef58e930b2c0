//! The event loop: one thread, one `mio::Poll`, every socket.
//!
//! The reactor moves bytes between sockets and a [`Service`] and keeps time
//! for it; it makes no protocol decision. Its habits are mio's
//! (`examples/tcp_server.rs`): edge-triggered readiness, so reads, writes and
//! accepts run until `WouldBlock`; `Interrupted` is retried; spurious events
//! are ignored; a connect completes without blocking (wait for writable, then
//! `take_error()` and `peer_addr()`); a socket is deregistered before it is
//! dropped; one `Events` is reused for the whole run.
//!
//! Memory per connection is small and fixed: the socket, its address and a
//! few flags. Reads land in one scratch buffer shared by every connection
//! (the service copies what it keeps), and writes go straight from
//! [`Service::pending_output`], so an idle peer costs the reactor no buffer.

use std::collections::{HashMap, VecDeque};
use std::io::{self, ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use mio::event::Event;
use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token, Waker};

use super::service::{Closed, Io, Link, PeerId, Service, Time};

/// Bitcoin Core's `DEFAULT_CONNECT_TIMEOUT` (src/netbase.h): 5000 ms.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_millis(5000);

/// Bitcoin Core's default `-maxconnections` (`DEFAULT_MAX_PEER_CONNECTIONS`,
/// src/net.h) is 125; a header server or a benchmark wants far more, so the
/// reactor's default is set by file descriptors instead: each connection is
/// one descriptor, and 20,000 is a common hard limit (`ulimit -Hn`).
pub const DEFAULT_MAX_CONNECTIONS: usize = 16_384;

/// Size of the one read buffer shared by all connections. A full `headers`
/// message (2000 headers, src/net_processing.cpp `MAX_HEADERS_RESULTS`) is
/// 162,027 bytes, so 256 KiB takes one in a single read.
pub const DEFAULT_READ_BUFFER: usize = 256 * 1024;

/// Bytes read from one peer per wakeup before the others get their turn.
pub const DEFAULT_READ_BUDGET: usize = 1024 * 1024;

/// How long to wait before accepting again after `accept` failed with an
/// error other than `WouldBlock` (typically out of file descriptors).
const ACCEPT_RETRY: Duration = Duration::from_millis(100);

const WAKER: Token = Token(usize::MAX);
/// Listener `i` has token `LISTENER_BASE - i`; peers count up from 0.
const LISTENER_BASE: usize = usize::MAX - 1;
// Listener tokens stay clear of the waker and, even with 2^20 listeners, of
// every peer token a run can reach.
const _: () = assert!(LISTENER_BASE < WAKER.0 && LISTENER_BASE - (1 << 20) > u32::MAX as usize);

/// How the reactor runs. `Config::default()` suits a node or a benchmark.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Config {
    /// Most connections open at once, inbound and outbound together
    /// (outbound connects still in progress count). An inbound connection
    /// beyond it is accepted and closed at once; an [`Io::Connect`] beyond it
    /// fails with [`ErrorKind::ResourceBusy`]. Each connection takes one file
    /// descriptor: the process limit (`ulimit -n`) must exceed this.
    pub max_connections: usize,
    /// Size of the read buffer shared by every connection.
    pub read_buffer: usize,
    /// Bytes read from one connection per wakeup before others are served.
    pub read_budget: usize,
    /// An outbound connect not complete by then fails with
    /// [`ErrorKind::TimedOut`].
    pub connect_timeout: Duration,
    /// Capacity of the reused `mio::Events`.
    pub events: usize,
    /// Set `TCP_NODELAY` on every connection (the protocol sends small
    /// request/response messages; Nagle's delay would stall them).
    pub nodelay: bool,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            max_connections: DEFAULT_MAX_CONNECTIONS,
            read_buffer: DEFAULT_READ_BUFFER,
            read_budget: DEFAULT_READ_BUDGET,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            events: 1024,
            nodelay: true,
        }
    }
}

impl Config {
    /// Sets [`Config::max_connections`].
    pub fn max_connections(mut self, n: usize) -> Config {
        self.max_connections = n;
        self
    }

    /// Sets [`Config::read_buffer`] (at least 1 byte).
    pub fn read_buffer(mut self, bytes: usize) -> Config {
        self.read_buffer = bytes.max(1);
        self
    }

    /// Sets [`Config::read_budget`].
    pub fn read_budget(mut self, bytes: usize) -> Config {
        self.read_budget = bytes;
        self
    }

    /// Sets [`Config::connect_timeout`].
    pub fn connect_timeout(mut self, timeout: Duration) -> Config {
        self.connect_timeout = timeout;
        self
    }
}

/// Counters for one run, returned by [`Reactor::run`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Inbound connections accepted and handed to the service.
    pub accepted: u64,
    /// Outbound connects that completed.
    pub connected: u64,
    /// Outbound connects that failed (refused, timed out, over the limit).
    pub connect_failed: u64,
    /// Inbound connections closed at once because of `max_connections`.
    pub refused: u64,
    /// Bytes read from all sockets.
    pub bytes_read: u64,
    /// Bytes written to all sockets.
    pub bytes_written: u64,
    /// Most connections open at the same time.
    pub peak_connections: usize,
}

/// Why [`Reactor::run`] returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Exit {
    /// The service asked with [`Io::Stop`].
    Stopped,
    /// [`Handle::stop`] was called (from another thread or Ctrl-C).
    Interrupted,
}

/// Stops a running [`Reactor`] from any thread (or a signal handler's
/// thread, see [`stop_on_ctrl_c`]). Cheap to clone.
#[derive(Clone, Debug)]
pub struct Handle {
    waker: Arc<Waker>,
    stop: Arc<AtomicBool>,
}

impl Handle {
    /// Asks the reactor to shut down: it flushes what it can, closes every
    /// connection, calls [`Service::shutdown`] and returns from
    /// [`Reactor::run`] with [`Exit::Interrupted`].
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        // A failed wake means the poll is gone already: nothing to wake.
        let _ = self.waker.wake();
    }

    /// Whether [`Handle::stop`] was called.
    pub fn is_stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }
}

/// Calls [`Handle::stop`] on Ctrl-C (SIGINT, SIGTERM and SIGHUP with the
/// `ctrlc` crate's defaults). A process can install one such handler; a
/// second call returns the `ctrlc` error.
pub fn stop_on_ctrl_c(handle: Handle) -> Result<(), ctrlc::Error> {
    ctrlc::set_handler(move || handle.stop())
}

/// A reactor running on its own thread (see [`Reactor::spawn`]).
#[derive(Debug)]
pub struct Running<S> {
    handle: Handle,
    thread: std::thread::JoinHandle<io::Result<(S, Exit, Stats)>>,
}

impl<S> Running<S> {
    /// The stop handle of the running reactor.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Whether the reactor has returned (the service asked to stop, or the
    /// poll failed).
    pub fn is_finished(&self) -> bool {
        self.thread.is_finished()
    }

    /// Waits for the reactor to return and hands back the service.
    pub fn join(self) -> io::Result<(S, Exit, Stats)> {
        match self.thread.join() {
            Ok(result) => result,
            // The service panicked on the reactor thread: pass it on.
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }

    /// Stops the reactor ([`Handle::stop`]) and waits for it.
    pub fn stop(self) -> io::Result<(S, Exit, Stats)> {
        self.handle.stop();
        self.join()
    }
}

/// One connection. Kept small: idle peers are the common case.
#[derive(Debug)]
struct Conn {
    stream: TcpStream,
    addr: SocketAddr,
    /// An outbound connect still in progress.
    connecting: bool,
    /// `WRITABLE` is in the registered interest (output is waiting).
    want_write: bool,
    /// In `Reactor::unread` (its read budget ran out with bytes waiting).
    unread: bool,
}

/// The event loop. Build it, add listeners, then [`Reactor::run`] a service.
///
/// ```no_run
/// # use bitwire::net::{Reactor, Config, Service};
/// # fn demo<S: Service>(service: &mut S) -> std::io::Result<()> {
/// let mut reactor = Reactor::new(Config::default())?;
/// let addr = reactor.listen("127.0.0.1:0".parse().unwrap())?;
/// println!("listening on {addr}");
/// let stats = reactor.run(service)?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Reactor {
    poll: Poll,
    config: Config,
    listeners: Vec<TcpListener>,
    conns: HashMap<PeerId, Conn>,
    next_id: u64,
    scratch: Vec<u8>,
    /// Outbound connects in start order; every one has the same timeout, so
    /// the front expires first. Entries whose peer is gone are skipped.
    connects: VecDeque<(Time, PeerId)>,
    /// Peers that used up their read budget and still have bytes waiting.
    unread: VecDeque<PeerId>,
    accept_retry: Option<Time>,
    handle: Handle,
    stopping: bool,
    stats: Stats,
}

impl Reactor {
    /// A reactor with no listener and no connection.
    pub fn new(config: Config) -> io::Result<Reactor> {
        let poll = Poll::new()?;
        let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
        let handle = Handle { waker, stop: Arc::new(AtomicBool::new(false)) };
        Ok(Reactor {
            poll,
            scratch: vec![0; config.read_buffer.max(1)],
            config,
            listeners: Vec::new(),
            conns: HashMap::new(),
            next_id: 0,
            connects: VecDeque::new(),
            unread: VecDeque::new(),
            accept_retry: None,
            handle,
            stopping: false,
            stats: Stats::default(),
        })
    }

    /// Listens on `addr` and returns the bound address (useful with port 0).
    /// Accepted connections reach the service as [`Link::Inbound`].
    pub fn listen(&mut self, addr: SocketAddr) -> io::Result<SocketAddr> {
        let mut listener = TcpListener::bind(addr)?;
        let token = Token(LISTENER_BASE - self.listeners.len());
        self.poll.registry().register(&mut listener, token, Interest::READABLE)?;
        let local = listener.local_addr()?;
        self.listeners.push(listener);
        Ok(local)
    }

    /// A handle that stops [`Reactor::run`] from another thread.
    pub fn handle(&self) -> Handle {
        self.handle.clone()
    }

    /// Connections open now (including outbound connects in progress).
    pub fn connections(&self) -> usize {
        self.conns.len()
    }

    /// Runs `service` until it asks for [`Io::Stop`] or the [`Handle`] is
    /// stopped. Then every connection is flushed as far as the socket takes
    /// without blocking, closed and reported with [`Closed::ByUs`], and
    /// [`Service::shutdown`] is called last. The reactor is spent after.
    ///
    /// Errors are those of the poll itself; socket errors close the socket
    /// and are reported to the service.
    pub fn run<S: Service + ?Sized>(mut self, service: &mut S) -> io::Result<(Exit, Stats)> {
        let mut events = Events::with_capacity(self.config.events.max(1));
        let mut now = Time::now();
        let exit = loop {
            // Every call into the service is followed by this before the
            // loop can sleep: an instruction left queued (a `Stop` from a
            // close seen in a budgeted read, say) would otherwise wait for
            // the next event, perhaps for ever.
            self.drain_io(service, now);
            if self.handle.is_stopped() {
                break Exit::Interrupted;
            }
            if self.stopping {
                break Exit::Stopped;
            }
            // Timers, then the poll. No `continue` here: a service whose
            // wakeup stays in the past after its tick must not starve the
            // sockets; it gets ticked again after a short poll instead.
            if service.next_wakeup().is_some_and(|w| w <= now) {
                service.tick(now);
                self.drain_io(service, now);
            }
            self.expire_connects(service, now);
            if self.accept_retry.is_some_and(|t| t <= now) {
                self.accept_retry = None;
                for i in 0..self.listeners.len() {
                    self.accept(i, service, now);
                }
            }
            self.drain_io(service, now);
            if self.stopping || self.handle.is_stopped() {
                continue; // leave through the checks at the top
            }

            let timeout = self.timeout(service, now);
            if let Err(e) = self.poll.poll(&mut events, timeout) {
                if e.kind() == ErrorKind::Interrupted {
                    now = Time::now();
                    continue;
                }
                return Err(e);
            }
            now = Time::now();
            for event in events.iter() {
                self.dispatch(event, service, now);
            }
            // Peers cut off by their read budget go again, oldest first; each
            // gets one more budget, then waits for the next round.
            for _ in 0..self.unread.len() {
                let Some(peer) = self.unread.pop_front() else { break };
                if let Some(conn) = self.conns.get_mut(&peer) {
                    conn.unread = false;
                    self.read(peer, service, now);
                }
            }
        };
        self.shutdown(service, Time::now());
        Ok((exit, self.stats))
    }

    /// Runs `service` on a new thread (named `name`) and returns at once;
    /// [`Running::stop`] or [`Running::join`] gets the service back.
    pub fn spawn<S>(self, name: &str, mut service: S) -> io::Result<Running<S>>
    where
        S: Service + Send + 'static,
    {
        let handle = self.handle();
        let thread = std::thread::Builder::new().name(name.to_owned()).spawn(move || {
            let result = self.run(&mut service);
            result.map(|(exit, stats)| (service, exit, stats))
        })?;
        Ok(Running { handle, thread })
    }

    /// How long `poll` may sleep: until the service's wakeup, the first
    /// connect deadline or the accept retry; not at all if reads are owed.
    fn timeout<S: Service + ?Sized>(&self, service: &S, now: Time) -> Option<Duration> {
        if !self.unread.is_empty() {
            return Some(Duration::ZERO);
        }
        let connect =
            self.connects.front().map(|&(started, _)| started + self.config.connect_timeout);
        [service.next_wakeup(), connect, self.accept_retry]
            .into_iter()
            .flatten()
            .min()
            // Round up to a whole millisecond so the loop does not spin on a
            // sub-millisecond remainder.
            .map(|t| t.saturating_since(now) + Duration::from_micros(500))
    }

    fn dispatch<S: Service + ?Sized>(&mut self, event: &Event, service: &mut S, now: Time) {
        match event.token() {
            WAKER => {} // checked at the top of the loop
            Token(t) if t > LISTENER_BASE - self.listeners.len() => {
                self.accept(LISTENER_BASE - t, service, now);
            }
            Token(t) => {
                let peer = PeerId(t as u64);
                let Some(conn) = self.conns.get(&peer) else {
                    return; // spurious: the peer is gone
                };
                if conn.connecting {
                    self.finish_connect(peer, service, now);
                    return;
                }
                if event.is_writable() && conn.want_write {
                    self.flush(peer, service, now);
                }
                if event.is_readable() || event.is_read_closed() || event.is_error() {
                    self.read(peer, service, now);
                }
                self.drain_io(service, now);
            }
        }
    }

    fn accept<S: Service + ?Sized>(&mut self, index: usize, service: &mut S, now: Time) {
        loop {
            let Some(listener) = self.listeners.get(index) else { return };
            match listener.accept() {
                Ok((stream, addr)) => {
                    if self.conns.len() >= self.config.max_connections {
                        self.stats.refused += 1;
                        drop(stream); // never registered
                        continue;
                    }
                    match self.add(stream, addr, false) {
                        Ok(peer) => {
                            self.stats.accepted += 1;
                            service.connected(peer, addr, Link::Inbound, now);
                            self.drain_io(service, now);
                        }
                        Err(_) => continue, // registration failed: the socket is dropped
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(_) => {
                    // Out of descriptors or memory: the connection stays in
                    // the backlog and no new edge will come for it, so try
                    // again a little later.
                    self.accept_retry = Some(now + ACCEPT_RETRY);
                    return;
                }
            }
        }
    }

    fn add(
        &mut self,
        mut stream: TcpStream,
        addr: SocketAddr,
        connecting: bool,
    ) -> io::Result<PeerId> {
        let peer = PeerId(self.next_id);
        // Tokens at the top of the range belong to listeners and the waker;
        // 2^64 - 2^20 connections will not happen in one run.
        let token = Token(usize::try_from(peer.0).map_err(|_| ErrorKind::OutOfMemory)?);
        let interest =
            if connecting { Interest::READABLE | Interest::WRITABLE } else { Interest::READABLE };
        if self.config.nodelay && !connecting {
            // Best effort: a socket without it still works, only slower.
            let _ = stream.set_nodelay(true);
        }
        self.poll.registry().register(&mut stream, token, interest)?;
        self.next_id += 1;
        self.conns
            .insert(peer, Conn { stream, addr, connecting, want_write: connecting, unread: false });
        self.stats.peak_connections = self.stats.peak_connections.max(self.conns.len());
        Ok(peer)
    }

    fn connect<S: Service + ?Sized>(&mut self, addr: SocketAddr, service: &mut S, now: Time) {
        if self.conns.len() >= self.config.max_connections {
            self.stats.connect_failed += 1;
            service.connect_failed(addr, ErrorKind::ResourceBusy, now);
            return;
        }
        let result = TcpStream::connect(addr).and_then(|s| self.add(s, addr, true));
        match result {
            Ok(peer) => self.connects.push_back((now, peer)),
            Err(e) => {
                self.stats.connect_failed += 1;
                service.connect_failed(addr, e.kind(), now);
            }
        }
    }

    fn finish_connect<S: Service + ?Sized>(&mut self, peer: PeerId, service: &mut S, now: Time) {
        let Some(conn) = self.conns.get_mut(&peer) else { return };
        let error = match conn.stream.take_error() {
            Ok(Some(e)) | Err(e) => Some(e.kind()),
            Ok(None) => match conn.stream.peer_addr() {
                Ok(_) => None,
                // Not connected yet: a spurious event, keep waiting.
                Err(e) if e.kind() == ErrorKind::NotConnected => return,
                Err(e) => Some(e.kind()),
            },
        };
        let addr = conn.addr;
        if let Some(kind) = error {
            self.remove(peer);
            self.stats.connect_failed += 1;
            service.connect_failed(addr, kind, now);
        } else {
            conn.connecting = false;
            if self.config.nodelay {
                let _ = conn.stream.set_nodelay(true);
            }
            self.stats.connected += 1;
            service.connected(peer, addr, Link::Outbound, now);
            // Drop WRITABLE unless the service already has output.
            self.flush(peer, service, now);
            // Bytes may already wait (a fast server): the edge has passed.
            self.read(peer, service, now);
        }
        self.drain_io(service, now);
    }

    /// Fails the connects past their deadline.
    fn expire_connects<S: Service + ?Sized>(&mut self, service: &mut S, now: Time) {
        while let Some(&(started, peer)) = self.connects.front() {
            let pending = self.conns.get(&peer).is_some_and(|c| c.connecting);
            if !pending {
                self.connects.pop_front();
                continue;
            }
            if started + self.config.connect_timeout > now {
                break;
            }
            self.connects.pop_front();
            if let Some(conn) = self.remove(peer) {
                self.stats.connect_failed += 1;
                service.connect_failed(conn.addr, ErrorKind::TimedOut, now);
                self.drain_io(service, now);
            }
        }
    }

    /// Reads until `WouldBlock`, the read budget, or the end of the peer.
    fn read<S: Service + ?Sized>(&mut self, peer: PeerId, service: &mut S, now: Time) {
        let mut budget = self.config.read_budget;
        loop {
            let Some(conn) = self.conns.get_mut(&peer) else { return };
            if conn.connecting {
                return;
            }
            if budget == 0 {
                if !conn.unread {
                    conn.unread = true;
                    self.unread.push_back(peer);
                }
                return;
            }
            match conn.stream.read(&mut self.scratch) {
                Ok(0) => {
                    self.close(peer, Closed::ByPeer, service, now);
                    return;
                }
                Ok(n) => {
                    self.stats.bytes_read += n as u64;
                    budget = budget.saturating_sub(n);
                    service.received(peer, &self.scratch[..n], now);
                    // The service may disconnect this peer, or want to answer.
                    self.drain_io(service, now);
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.close(peer, Closed::Error(e.kind()), service, now);
                    return;
                }
            }
        }
    }

    /// Writes the service's pending output until it is empty or the socket
    /// is full; keeps `WRITABLE` interest exactly while output waits.
    fn flush<S: Service + ?Sized>(&mut self, peer: PeerId, service: &mut S, now: Time) {
        loop {
            let Some(conn) = self.conns.get_mut(&peer) else { return };
            if conn.connecting {
                return; // written once connected
            }
            let out = service.pending_output(peer);
            if out.is_empty() {
                if conn.want_write {
                    conn.want_write = false;
                    let token = Token(peer.0 as usize);
                    if let Err(e) =
                        self.poll.registry().reregister(&mut conn.stream, token, Interest::READABLE)
                    {
                        self.close(peer, Closed::Error(e.kind()), service, now);
                    }
                }
                return;
            }
            match conn.stream.write(out) {
                Ok(0) => {
                    self.close(peer, Closed::Error(ErrorKind::WriteZero), service, now);
                    return;
                }
                Ok(n) => {
                    self.stats.bytes_written += n as u64;
                    service.written(peer, n);
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    if !conn.want_write {
                        conn.want_write = true;
                        let token = Token(peer.0 as usize);
                        let both = Interest::READABLE | Interest::WRITABLE;
                        if let Err(e) =
                            self.poll.registry().reregister(&mut conn.stream, token, both)
                        {
                            self.close(peer, Closed::Error(e.kind()), service, now);
                        }
                    }
                    return;
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.close(peer, Closed::Error(e.kind()), service, now);
                    return;
                }
            }
        }
    }

    /// Carries out the service's instructions until it has none.
    fn drain_io<S: Service + ?Sized>(&mut self, service: &mut S, now: Time) {
        while let Some(io) = service.next_io() {
            match io {
                Io::Connect(addr) => self.connect(addr, service, now),
                Io::Write(peer) => self.flush(peer, service, now),
                Io::Disconnect(peer) => self.close(peer, Closed::ByUs, service, now),
                Io::Stop => self.stopping = true,
            }
        }
    }

    fn remove(&mut self, peer: PeerId) -> Option<Conn> {
        let mut conn = self.conns.remove(&peer)?;
        // Deregister before the socket is dropped; failure means the poll
        // no longer knows it, which is what we want anyway.
        let _ = self.poll.registry().deregister(&mut conn.stream);
        Some(conn)
    }

    /// Closes a connection and tells the service (once; unknown peers are
    /// ignored, so a second `Disconnect` is harmless).
    fn close<S: Service + ?Sized>(
        &mut self,
        peer: PeerId,
        why: Closed,
        service: &mut S,
        now: Time,
    ) {
        let Some(conn) = self.remove(peer) else { return };
        if conn.connecting {
            self.stats.connect_failed += 1;
            let kind = match why {
                Closed::Error(kind) | Closed::ConnectFailed(kind) => kind,
                _ => ErrorKind::ConnectionAborted,
            };
            service.connect_failed(conn.addr, kind, now);
        } else {
            service.disconnected(peer, why, now);
        }
    }

    fn shutdown<S: Service + ?Sized>(&mut self, service: &mut S, now: Time) {
        let peers: Vec<PeerId> = self.conns.keys().copied().collect();
        for peer in peers {
            // One last non-blocking flush: whatever the socket takes now.
            if let Some(conn) = self.conns.get_mut(&peer) {
                if !conn.connecting {
                    loop {
                        let out = service.pending_output(peer);
                        if out.is_empty() {
                            break;
                        }
                        match conn.stream.write(out) {
                            Ok(n) if n > 0 => service.written(peer, n),
                            Err(e) if e.kind() == ErrorKind::Interrupted => {}
                            _ => break,
                        }
                    }
                }
            }
            self.close(peer, Closed::ByUs, service, now);
        }
        // Instructions given during shutdown are dropped: the loop is over.
        while service.next_io().is_some() {}
        for mut listener in self.listeners.drain(..) {
            let _ = self.poll.registry().deregister(&mut listener);
        }
        service.shutdown(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_builders_set_fields() {
        let c = Config::default().max_connections(7).read_buffer(0).read_budget(9);
        assert_eq!((c.max_connections, c.read_buffer, c.read_budget), (7, 1, 9));
        assert_eq!(c.connect_timeout, DEFAULT_CONNECT_TIMEOUT);
    }
}
