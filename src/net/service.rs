//! The seam between the reactor (sockets) and the protocol (everything else).
//!
//! The reactor in [`crate::net`] owns every socket and moves bytes; a
//! [`Service`] (the sync engine, or anything an embedder writes) owns every
//! protocol decision. The service never touches a socket or reads a clock:
//! the reactor hands it bytes and the time, and asks it what to do next.

use core::fmt;
use core::ops::{Add, Sub};
use core::time::Duration;
use std::net::SocketAddr;

/// Names one connection for its whole life. Assigned by the reactor (or by a
/// simulator in tests); never reused within one run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PeerId(pub u64);

impl fmt::Display for PeerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "peer#{}", self.0)
    }
}

/// Who opened the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Link {
    /// The remote side connected to us.
    Inbound,
    /// We connected to the remote side.
    Outbound,
}

/// A point in time, in milliseconds since the Unix epoch: the only clock the
/// protocol sees. The reactor passes the wall clock; tests pass a virtual one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Time(pub u64);

impl Time {
    /// The wall clock now.
    pub fn now() -> Time {
        let since = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or(Duration::ZERO);
        Time(since.as_millis() as u64)
    }

    /// A time from whole seconds since the Unix epoch.
    pub const fn from_secs(secs: u64) -> Time {
        Time(secs.saturating_mul(1000))
    }

    /// Whole seconds since the Unix epoch (what block header times use).
    pub const fn as_secs(self) -> u64 {
        self.0 / 1000
    }

    /// Milliseconds since the Unix epoch.
    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// The time elapsed since `earlier`, zero if `earlier` is later.
    pub fn saturating_since(self, earlier: Time) -> Duration {
        Duration::from_millis(self.0.saturating_sub(earlier.0))
    }
}

impl Add<Duration> for Time {
    type Output = Time;
    fn add(self, d: Duration) -> Time {
        Time(self.0.saturating_add(d.as_millis() as u64))
    }
}

impl Sub<Duration> for Time {
    type Output = Time;
    fn sub(self, d: Duration) -> Time {
        Time(self.0.saturating_sub(d.as_millis() as u64))
    }
}

/// Why the reactor reports a connection as gone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Closed {
    /// The remote side closed the connection (read returned 0).
    ByPeer,
    /// A socket error (reset, refused, unreachable...).
    Error(std::io::ErrorKind),
    /// The service asked for the disconnect ([`Io::Disconnect`]), or the
    /// reactor is stopping and closes every connection before
    /// [`Service::shutdown`].
    ByUs,
    /// An outbound connect did not complete.
    ConnectFailed(std::io::ErrorKind),
}

/// An instruction from the service to the reactor.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Io {
    /// Open an outbound connection. The reactor answers later with
    /// [`Service::connected`] (with a fresh [`PeerId`]) or
    /// [`Service::connect_failed`].
    Connect(SocketAddr),
    /// New bytes wait in [`Service::pending_output`] for this peer.
    Write(PeerId),
    /// Close this connection. The reactor then calls [`Service::disconnected`]
    /// with [`Closed::ByUs`].
    Disconnect(PeerId),
    /// Stop the reactor (the job is done).
    Stop,
}

/// A sans-IO protocol driven by the reactor.
///
/// Calls arrive in this order per connection: `connected`, then any number of
/// `received` / `written`, then exactly one `disconnected`. After each call
/// the reactor drains [`Service::next_io`] until it returns `None`, and it
/// calls [`Service::tick`] no later than [`Service::next_wakeup`].
pub trait Service {
    /// A connection is established: an outbound connect completed, or an
    /// inbound connection was accepted. `addr` is the remote address.
    fn connected(&mut self, peer: PeerId, addr: SocketAddr, link: Link, now: Time);

    /// An outbound connect requested with [`Io::Connect`] failed before a
    /// connection existed.
    fn connect_failed(&mut self, addr: SocketAddr, error: std::io::ErrorKind, now: Time);

    /// The connection is gone; `peer` is never used again.
    fn disconnected(&mut self, peer: PeerId, why: Closed, now: Time);

    /// Bytes arrived from `peer`.
    fn received(&mut self, peer: PeerId, bytes: &[u8], now: Time);

    /// The bytes waiting to be sent to `peer` (empty when none).
    fn pending_output(&self, peer: PeerId) -> &[u8];

    /// The reactor wrote the first `n` bytes of [`Service::pending_output`].
    fn written(&mut self, peer: PeerId, n: usize);

    /// Time passed. Called at least when [`Service::next_wakeup`] is reached.
    fn tick(&mut self, now: Time);

    /// The next instruction for the reactor, or `None` when there is none.
    fn next_io(&mut self) -> Option<Io>;

    /// When the service next needs [`Service::tick`], if ever.
    fn next_wakeup(&self) -> Option<Time>;

    /// The reactor is stopping (the service asked with [`Io::Stop`], or
    /// Ctrl-C): every connection has been flushed as far as it would go
    /// without blocking and reported [`Service::disconnected`]; this is the
    /// last call. A service with state to save (a header store) saves it
    /// here. Added after the first version of this trait, with a default
    /// that does nothing, so existing services keep compiling.
    fn shutdown(&mut self, now: Time) {
        let _ = now;
    }
}
