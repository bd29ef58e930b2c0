//! One connection's sans-IO protocol: handshake, ping, timeouts, misbehaviour.
//!
//! A [`Peer`] is fed bytes and the time and produces bytes to send; it never
//! reads a clock or touches a socket. Everything about the connection itself
//! (the version handshake, feature negotiation, ping/pong, the handshake and
//! ping timeouts) is decided here, following Bitcoin Core's
//! `src/net_processing.cpp` (`ProcessMessage`, `MaybeSendPing`) and
//! `src/net.cpp` (`InactivityCheck`). Messages that matter to the layer above
//! (headers, getheaders, inv, getdata) are handed to a [`Handler`] once the
//! handshake is complete; until then Core ignores them, and so do we.
//!
//! The handshake, from either side:
//!
//! ```text
//!   outbound (we dial)                    inbound (they dial)
//!   -> version  (on connect)              <- version
//!   <- version                            -> version
//!   -> wtxidrelay, sendaddrv2 (>= 70016)  -> wtxidrelay, sendaddrv2 (>= 70016)
//!   -> verack                             -> verack
//!   <- verack                             <- verack
//!   -> sendheaders (>= 70012), ping       -> sendheaders (>= 70012), ping
//! ```

#[doc(hidden)]
pub mod fuzzing;
mod reason;

pub use reason::DisconnectReason;

use core::time::Duration;
use std::net::SocketAddr;

use crate::net::{Link, PeerId, Time};
use crate::wire::msg::{
    Encode, Message, Ping, Pong, SendAddrV2, SendHeaders, Verack, Version, WtxidRelay,
};
use crate::wire::{Command, Deframer, Frame, NetAddr, PayloadError, ServiceFlags, WireError};
use crate::Magic;

/// The protocol version we speak (src/node/protocol_version.h
/// `PROTOCOL_VERSION`, Core 0.21+).
pub const PROTOCOL_VERSION: i32 = 70016;

/// Peers below this version are refused (src/node/protocol_version.h
/// `MIN_PEER_PROTO_VERSION`).
pub const MIN_PEER_PROTO_VERSION: i32 = 31800;

/// `sendheaders` is understood from this version on (src/node/protocol_version.h
/// `SENDHEADERS_VERSION`, BIP130).
pub const SENDHEADERS_VERSION: i32 = 70012;

/// `wtxidrelay` (BIP339) and `sendaddrv2` (BIP155) are sent to peers at this
/// version or above (src/node/protocol_version.h `WTXID_RELAY_VERSION`; Core
/// gates `sendaddrv2` on the same number as a courtesy to old software).
pub const WTXID_RELAY_VERSION: i32 = 70016;

/// A connection that has not finished the version handshake after this long
/// is dropped (src/net.h `DEFAULT_PEER_CONNECT_TIMEOUT`, 60 s).
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(60);

/// Time between our pings (src/net_processing.cpp `PING_INTERVAL`, 2 min).
pub const PING_INTERVAL: Duration = Duration::from_secs(2 * 60);

/// A ping unanswered for this long drops the peer (src/net.h
/// `TIMEOUT_INTERVAL`, 20 min).
pub const PING_TIMEOUT: Duration = Duration::from_secs(20 * 60);

/// `NODE_NETWORK`: serves the full chain (src/protocol.h).
pub const NODE_NETWORK: u64 = 1;
/// `NODE_WITNESS`: serves witness data (src/protocol.h, BIP144).
pub const NODE_WITNESS: u64 = 1 << 3;
/// `NODE_NETWORK_LIMITED`: serves the last 288 blocks (src/protocol.h, BIP159).
pub const NODE_NETWORK_LIMITED: u64 = 1 << 10;

/// The most output a peer may leave unread before it is dropped, by default.
/// A full `headers` reply is about 162 KB; this allows several.
pub const DEFAULT_MAX_OUTPUT: usize = 1 << 20;

/// The largest message accepted by default: an `inv` of Core's maximum
/// 50,000 entries (src/net_processing.cpp `MAX_INV_SZ`, 1,800,003 bytes of
/// payload) fits; `headers` needs 162,003. Larger messages (blocks) are
/// never requested by a header-only node, and the wire limit of 4,000,000
/// per peer would let 10,000 peers pin 40 GB.
pub const DEFAULT_MAX_MESSAGE: usize = 2 * 1024 * 1024;

/// Received bytes are fed to the deframer at most this many at a time.
const READ_PIECE: usize = 64 * 1024;

/// Frames with a payload at least this large are shown to
/// [`Handler::prepare`] before their checksum is checked (a full `headers`
/// message is 162,003 bytes; its 2,000 headers take about 80 µs to hash,
/// twice what handing them to another thread costs here).
pub const PREPARE_MIN_PAYLOAD: usize = 64 * 1024;

/// An idle peer keeps at most this much spare output capacity; more is
/// released on [`Peer::tick`] (issue 6: little memory per idle peer).
pub const IDLE_OUTPUT_CAPACITY: usize = 4 * 1024;

/// An idle peer keeps at most this much input buffer; more is released on
/// [`Peer::tick`].
pub const IDLE_INPUT_CAPACITY: usize = 16 * 1024;

/// What we tell every peer about ourselves in our `version` message, and the
/// per-peer limits. Shared by all peers of one engine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Local {
    /// Network magic for every message.
    pub magic: Magic,
    /// Service bits we announce.
    pub services: u64,
    /// Our user agent (BIP14), e.g. `/bitwire:0.1.0/`.
    pub user_agent: String,
    /// Service bits an outbound peer must have (Core:
    /// `HasAllDesirableServiceFlags`); a peer has them when it has every bit
    /// of `required_services` and at least one bit of `required_any`.
    pub required_services: u64,
    /// See `required_services`; zero means no such requirement.
    pub required_any: u64,
    /// Handshake timeout.
    pub handshake_timeout: Duration,
    /// Interval between our pings.
    pub ping_interval: Duration,
    /// How long a ping may stay unanswered.
    pub ping_timeout: Duration,
    /// Per-peer output budget in bytes.
    pub max_output: usize,
    /// Largest message accepted from a peer, in bytes (envelope included):
    /// bounds the input buffer per peer.
    pub max_message: usize,
}

impl Local {
    /// Defaults for `magic`: we announce `NODE_NETWORK | NODE_WITNESS` (what
    /// Core expects of an outbound peer) and require the same of our outbound
    /// peers, with Core's timeouts.
    pub fn new(magic: Magic) -> Local {
        Local {
            magic,
            services: NODE_NETWORK | NODE_WITNESS,
            user_agent: concat!("/bitwire:", env!("CARGO_PKG_VERSION"), "/").to_owned(),
            required_services: NODE_WITNESS,
            required_any: NODE_NETWORK | NODE_NETWORK_LIMITED,
            handshake_timeout: HANDSHAKE_TIMEOUT,
            ping_interval: PING_INTERVAL,
            ping_timeout: PING_TIMEOUT,
            max_output: DEFAULT_MAX_OUTPUT,
            max_message: DEFAULT_MAX_MESSAGE,
        }
    }
}

/// What the remote peer told us in its `version` message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Remote {
    /// Its protocol version.
    pub version: i32,
    /// Its service bits.
    pub services: u64,
    /// The height it claimed at connection time.
    pub start_height: i32,
    /// Whether it wants transaction relay.
    pub relay: bool,
    /// Its user agent, as sent (at most 256 bytes, lossily UTF-8).
    pub user_agent: String,
}

/// Where a connection is in the handshake.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HandshakeState {
    /// No `version` from the peer yet.
    AwaitVersion,
    /// Their `version` arrived (and ours went out); waiting for `verack`.
    AwaitVerack,
    /// Both sides have sent `verack`: the connection is usable.
    Ready,
}

/// The engine's side of a peer: what the [`Peer`] needs from it and what it
/// hands up once the handshake is done.
pub trait Handler {
    /// True when `nonce` is one we put in a `version` on an outbound
    /// connection still in its handshake (self-connection check; the
    /// handler may remember not to dial that address again).
    fn is_own_nonce(&mut self, nonce: u64) -> bool;

    /// Our best height, for the `start_height` of our `version`.
    fn best_height(&self) -> i32;

    /// The handshake finished: `conn` is ready.
    fn on_ready(&mut self, conn: &mut Conn, now: Time);

    /// A message after the handshake, other than the ones the peer layer
    /// handles itself (ping, pong, verack, version, feature negotiation).
    fn on_message(
        &mut self,
        conn: &mut Conn,
        msg: Message<'_>,
        now: Time,
    ) -> Result<(), DisconnectReason>;

    /// A message that failed to decode; `Ok` drops it (Core's behaviour for
    /// most messages), `Err` drops the peer.
    fn on_bad_payload(
        &mut self,
        conn: &mut Conn,
        command: Command,
        error: PayloadError,
    ) -> Result<(), DisconnectReason>;

    /// A message the framing layer dropped (bad checksum, bad command): Core
    /// drops such a message and keeps the connection, and so do we.
    fn on_dropped(&mut self, conn: &mut Conn, error: WireError);

    /// A frame of at least [`PREPARE_MIN_PAYLOAD`] bytes, before its checksum
    /// is checked: the handler may start work that does not act on it (the
    /// sync engine starts hashing a `headers` message's headers on another
    /// thread) while the peer layer computes the checksum. The frame then
    /// reaches the handler as usual, or as [`Handler::on_dropped`] if the
    /// checksum is wrong; [`Conn::frames_received`] tells frames apart. By
    /// default nothing happens.
    fn prepare(&mut self, conn: &Conn, command: Command, payload: &[u8]) {
        let _ = (conn, command, payload);
    }
}

/// The connection state a [`Handler`] may read and send through: everything
/// of a [`Peer`] except its deframer.
#[derive(Debug)]
pub struct Conn {
    id: PeerId,
    addr: SocketAddr,
    link: Link,
    magic: Magic,
    max_output: usize,
    state: HandshakeState,
    connected_at: Time,
    our_nonce: u64,
    remote: Option<Remote>,
    sent_version: bool,
    /// The peer asked for `headers` announcements instead of `inv` (BIP130).
    pub prefers_headers: bool,
    ping: Option<(u64, Time)>,
    next_ping: Time,
    /// Pending output; the reactor drains it from the front.
    out: Vec<u8>,
    overflow: Option<usize>,
    /// Output went from empty to non-empty since [`Conn::take_needs_write`].
    needs_write: bool,
    /// Frames (and framing errors) taken from the stream so far.
    frames: u64,
}

impl Conn {
    /// The connection's id.
    pub fn id(&self) -> PeerId {
        self.id
    }

    /// How many frames (well-formed or dropped) were taken from this
    /// connection's stream so far, the one being handled included: the
    /// frame's number, for a [`Handler`] that prepared it.
    pub fn frames_received(&self) -> u64 {
        self.frames
    }

    /// The remote address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Who dialled.
    pub fn link(&self) -> Link {
        self.link
    }

    /// Handshake progress.
    pub fn state(&self) -> HandshakeState {
        self.state
    }

    /// The peer's `version` fields, once received.
    pub fn remote(&self) -> Option<&Remote> {
        self.remote.as_ref()
    }

    /// The nonce of our `version` on this connection.
    pub fn our_nonce(&self) -> u64 {
        self.our_nonce
    }

    /// Bytes waiting to be written.
    pub fn pending(&self) -> &[u8] {
        &self.out
    }

    /// Queues one message. If the peer's unread output would exceed the
    /// budget the message is not queued and the peer is marked for
    /// disconnection ([`DisconnectReason::OutputOverflow`], reported by the
    /// next [`Peer::receive`] or [`Peer::tick`]).
    pub fn send(&mut self, msg: &impl Encode) {
        if self.overflow.is_some() {
            return;
        }
        let before = self.out.len();
        // Checked before writing, so the buffer never grows past the budget
        // (its capacity stays within twice it, Vec's doubling).
        let after = before + crate::wire::ENVELOPE_SIZE + msg.payload_len();
        if after > self.max_output {
            self.overflow = Some(after);
            return;
        }
        if before == 0 {
            self.needs_write = true;
        }
        crate::wire::write_message(&mut self.out, self.magic, msg);
    }

    /// True (once) when output appeared since the last call: the reactor
    /// must be told ([`Io::Write`](crate::net::Io::Write)).
    pub fn take_needs_write(&mut self) -> bool {
        core::mem::take(&mut self.needs_write)
    }

    fn send_version(&mut self, local: &Local, best_height: i32, now: Time) {
        // Core sends the receiver's address as it sees it and an all-zero
        // sender (src/net_processing.cpp `PushNodeVersion`).
        let version = Version {
            version: PROTOCOL_VERSION,
            services: ServiceFlags(local.services),
            timestamp: now.as_secs() as i64,
            receiver: NetAddr::from_socket_addr(self.addr, ServiceFlags::NONE),
            sender: NetAddr::new(ServiceFlags::NONE, [0; 16], 0),
            nonce: self.our_nonce,
            user_agent: local.user_agent.as_bytes(),
            start_height: best_height,
            relay: false,
        };
        self.send(&version);
        self.sent_version = true;
    }

    fn check_overflow(&self) -> Result<(), DisconnectReason> {
        match self.overflow {
            Some(found) => Err(DisconnectReason::OutputOverflow { limit: self.max_output, found }),
            None => Ok(()),
        }
    }
}

/// One connection's protocol state.
///
/// Invariant: between calls the deframer holds at most one message in
/// progress, of at most [`Local::max_message`] bytes, and the output at most
/// [`Local::max_output`] bytes.
pub struct Peer {
    deframer: Deframer,
    conn: Conn,
}

impl core::fmt::Debug for Peer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Peer").field("conn", &self.conn).finish_non_exhaustive()
    }
}

impl Peer {
    /// A new connection. For an outbound one our `version` is queued at once
    /// (the dialler speaks first); an inbound one waits for theirs. `nonce`
    /// goes into our `version` (self-connection detection).
    pub fn new(
        id: PeerId,
        addr: SocketAddr,
        link: Link,
        local: &Local,
        nonce: u64,
        best_height: i32,
        now: Time,
    ) -> Peer {
        let mut peer = Peer {
            // One byte over the budget: a message that does not fit fills
            // the buffer, and `receive` sees it over the budget.
            deframer: Deframer::with_max_buffer(local.magic, local.max_message.saturating_add(1)),
            conn: Conn {
                id,
                addr,
                link,
                magic: local.magic,
                max_output: local.max_output,
                state: HandshakeState::AwaitVersion,
                connected_at: now,
                our_nonce: nonce,
                remote: None,
                sent_version: false,
                prefers_headers: false,
                ping: None,
                next_ping: now,
                out: Vec::new(),
                overflow: None,
                needs_write: false,
                frames: 0,
            },
        };
        if link == Link::Outbound {
            peer.conn.send_version(local, best_height, now);
        }
        peer
    }

    /// The connection state.
    pub fn conn(&self) -> &Conn {
        &self.conn
    }

    /// The connection state, mutable (to send through it).
    pub fn conn_mut(&mut self) -> &mut Conn {
        &mut self.conn
    }

    /// Bytes waiting to be written.
    pub fn pending_output(&self) -> &[u8] {
        &self.conn.out
    }

    /// The first `n` pending bytes were written.
    pub fn written(&mut self, n: usize) {
        let n = n.min(self.conn.out.len());
        self.conn.out.drain(..n);
    }

    /// Feeds received bytes; complete messages are handled in order.
    /// `Err` means: disconnect with this reason (nothing more will be read).
    pub fn receive<H: Handler>(
        &mut self,
        mut bytes: &[u8],
        local: &Local,
        handler: &mut H,
        now: Time,
    ) -> Result<(), DisconnectReason> {
        loop {
            // In pieces, so the input budget below is checked at least every
            // READ_PIECE bytes however large the caller's chunk.
            let taken = self.deframer.push(&bytes[..bytes.len().min(READ_PIECE)]);
            bytes = &bytes[taken..];
            let mut frames = 0usize;
            while let Some(frame) = self.deframer.next_frame_deferring(PREPARE_MIN_PAYLOAD) {
                frames += 1;
                self.conn.frames += 1;
                let frame = frame.and_then(|(frame, checked)| {
                    if !checked {
                        // The handler's head start, then the check
                        // `next_frame` would have made.
                        handler.prepare(&self.conn, frame.command, frame.payload);
                        frame.verify()?;
                    }
                    Ok(frame)
                });
                match frame {
                    Ok(frame) => Self::dispatch(&mut self.conn, frame, local, handler, now)?,
                    // Core (src/net.cpp V1Transport): a well-delimited message
                    // with a bad checksum or command is dropped; a bad magic
                    // or an oversized length loses the stream: disconnect.
                    Err(e @ (WireError::BadChecksum { .. } | WireError::BadCommand { .. })) => {
                        handler.on_dropped(&mut self.conn, e)
                    }
                    Err(e) => return Err(DisconnectReason::Wire(e)),
                }
                self.conn.check_overflow()?;
            }
            // Whatever stays buffered is one message in progress.
            let buffered = self.deframer.buffered();
            if buffered > local.max_message {
                return Err(DisconnectReason::MessageTooLarge {
                    max: local.max_message,
                    found: buffered,
                });
            }
            if bytes.is_empty() {
                return Ok(());
            }
            if taken == 0 && frames == 0 {
                // The deframer neither took bytes nor yielded a frame. Its
                // docs rule this out; never loop on it.
                return Err(DisconnectReason::BufferFull { buffered: self.deframer.buffered() });
            }
        }
    }

    fn dispatch<H: Handler>(
        conn: &mut Conn,
        frame: Frame<'_>,
        local: &Local,
        handler: &mut H,
        now: Time,
    ) -> Result<(), DisconnectReason> {
        let command = frame.command;
        let msg = match decode_like_core(command, frame.payload) {
            Ok(msg) => msg,
            Err(error) => {
                // Core ignores everything before version and before verack.
                if conn.state != HandshakeState::Ready {
                    if command == Command::VERSION {
                        return Err(DisconnectReason::Payload { command, error });
                    }
                    return Ok(());
                }
                return handler.on_bad_payload(conn, command, error);
            }
        };
        match msg {
            Message::Version(v) => {
                if conn.remote.is_some() {
                    // Core: "redundant version message", ignored.
                    return Ok(());
                }
                // Fields after the receiver address are optional on the wire
                // (very old versions); Core reads what is there.
                let remote = Remote {
                    version: v.version(),
                    services: v.services().0,
                    start_height: v.start_height().unwrap_or(0),
                    relay: v.relay().unwrap_or(true),
                    user_agent: String::from_utf8_lossy(v.user_agent().unwrap_or_default())
                        .into_owned(),
                };
                let nonce = v.nonce().unwrap_or(0);
                if conn.link == Link::Inbound && nonce != 0 && handler.is_own_nonce(nonce) {
                    return Err(DisconnectReason::SelfConnection);
                }
                if remote.version < MIN_PEER_PROTO_VERSION {
                    return Err(DisconnectReason::ObsoleteVersion {
                        min: MIN_PEER_PROTO_VERSION,
                        found: remote.version,
                    });
                }
                if conn.link == Link::Outbound && !has_desirable_services(local, remote.services) {
                    return Err(DisconnectReason::MissingServices {
                        expected: local.required_services | local.required_any,
                        found: remote.services,
                    });
                }
                let common = remote.version.min(PROTOCOL_VERSION);
                conn.remote = Some(remote);
                if !conn.sent_version {
                    // Inbound: our version answers theirs, before verack.
                    conn.send_version(local, handler.best_height(), now);
                }
                if common >= WTXID_RELAY_VERSION {
                    conn.send(&WtxidRelay);
                    conn.send(&SendAddrV2);
                }
                conn.send(&Verack);
                conn.state = HandshakeState::AwaitVerack;
                Ok(())
            }
            // Core: "non-version message before version handshake", ignored.
            _ if conn.remote.is_none() => Ok(()),
            Message::Verack => {
                if conn.state == HandshakeState::Ready {
                    // Core: "ignoring redundant verack message".
                    return Ok(());
                }
                conn.state = HandshakeState::Ready;
                let common = conn.remote.as_ref().map_or(0, |r| r.version).min(PROTOCOL_VERSION);
                if common >= SENDHEADERS_VERSION {
                    conn.send(&SendHeaders);
                }
                conn.next_ping = now;
                handler.on_ready(conn, now);
                Self::maybe_ping(conn, local, now);
                Ok(())
            }
            Message::WtxidRelay | Message::SendAddrV2 => {
                if conn.state == HandshakeState::Ready {
                    return Err(DisconnectReason::NegotiationAfterVerack { command });
                }
                Ok(())
            }
            // Core: "unsupported message prior to verack", ignored.
            _ if conn.state != HandshakeState::Ready => Ok(()),
            Message::Ping(nonce) => {
                conn.send(&Pong(nonce));
                Ok(())
            }
            Message::Pong(nonce) => {
                // Core: a pong with the wrong nonce is logged and ignored; a
                // zero nonce cancels the ping.
                if let Some((ours, _)) = conn.ping {
                    if nonce == ours || nonce == 0 {
                        conn.ping = None;
                    }
                }
                Ok(())
            }
            Message::SendHeaders => {
                conn.prefers_headers = true;
                Ok(())
            }
            other => handler.on_message(conn, other, now),
        }
    }

    fn maybe_ping(conn: &mut Conn, local: &Local, now: Time) {
        if conn.state == HandshakeState::Ready && conn.ping.is_none() && now >= conn.next_ping {
            // Nonces need only differ between pings; derive from our version
            // nonce and the time (never zero, which means "no nonce").
            let nonce = splitmix64(conn.our_nonce ^ now.as_millis()) | 1;
            conn.send(&Ping(nonce));
            conn.ping = Some((nonce, now));
            conn.next_ping = now + local.ping_interval;
        }
    }

    /// Time passed: handshake and ping timeouts, our pings, and releasing
    /// spare buffer memory of an idle peer. `Err` means: disconnect.
    pub fn tick(&mut self, local: &Local, now: Time) -> Result<(), DisconnectReason> {
        let conn = &mut self.conn;
        conn.check_overflow()?;
        if conn.state != HandshakeState::Ready {
            let waited = now.saturating_since(conn.connected_at);
            if waited >= local.handshake_timeout {
                return Err(DisconnectReason::HandshakeTimeout { waited });
            }
            return Ok(());
        }
        if let Some((_, sent)) = conn.ping {
            let waited = now.saturating_since(sent);
            if waited >= local.ping_timeout {
                return Err(DisconnectReason::PingTimeout { waited });
            }
        }
        // Release spare capacity first: the ping below would make the
        // buffer non-empty.
        if conn.out.is_empty() && conn.out.capacity() > IDLE_OUTPUT_CAPACITY {
            conn.out = Vec::new();
        }
        Self::maybe_ping(conn, local, now);
        if self.deframer.buffered() <= IDLE_INPUT_CAPACITY
            && self.deframer.capacity() > IDLE_INPUT_CAPACITY
        {
            // The deframer keeps the buffer of the largest message seen (up
            // to `max_message`); a quiet peer gives it back. `shrink` keeps
            // the stream as it is (a partial frame, a message being skipped),
            // so this is safe at any point.
            self.deframer.shrink(IDLE_INPUT_CAPACITY);
        }
        Ok(())
    }

    /// When [`Peer::tick`] next has something to do.
    pub fn next_wakeup(&self, local: &Local) -> Time {
        let conn = &self.conn;
        match conn.state {
            HandshakeState::Ready => match conn.ping {
                Some((_, sent)) => sent + local.ping_timeout,
                None => conn.next_ping,
            },
            _ => conn.connected_at + local.handshake_timeout,
        }
    }

    /// Heap bytes held by this peer's buffers (for memory budgets).
    pub fn buffered_bytes(&self) -> usize {
        self.conn.out.capacity() + self.deframer.capacity()
    }
}

/// A payload decoded as Core reads it: Core's `ProcessMessage` takes the
/// fields it knows with `vRecv >> ...` and never checks that nothing is
/// left, so bytes after the last field (a newer peer's extra `version`
/// field, say) are ignored. The wire layer reports them as
/// [`PayloadError::TrailingBytes`], to keep encode(decode(x)) == x; a peer
/// decodes the payload without them instead of dropping the message or
/// the connection.
pub(crate) fn decode_like_core(
    command: Command,
    payload: &[u8],
) -> Result<Message<'_>, PayloadError> {
    match Message::decode(command, payload) {
        Err(PayloadError::TrailingBytes { count }) if count <= payload.len() => {
            Message::decode(command, &payload[..payload.len() - count])
        }
        other => other,
    }
}

/// Core's `HasAllDesirableServiceFlags` as configured in `local`.
fn has_desirable_services(local: &Local, services: u64) -> bool {
    services & local.required_services == local.required_services
        && (local.required_any == 0 || services & local.required_any != 0)
}

/// A 64-bit mixer (splitmix64) for nonces: deterministic from a seed, so
/// tests are reproducible; the seed comes from the embedder.
pub fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
