//! Why a connection ended: one typed reason per cause, so hostile peers are
//! named and counted rather than logged as free text.

use core::fmt;
use core::time::Duration;

use crate::chain::HeaderError;
use crate::net::Closed;
use crate::wire::{Command, PayloadError, WireError};

/// Why a peer was disconnected.
///
/// Every disconnect the engine makes, and every close the reactor reports,
/// ends up as exactly one of these in
/// [`Event::Disconnected`](crate::sync::Event::Disconnected).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DisconnectReason {
    /// The connection closed on the other side or failed at the socket level
    /// (reported by the reactor).
    Closed(Closed),
    /// The byte stream broke the framing rules (wrong magic, oversized length,
    /// bad checksum, malformed command): the stream cannot be resynchronised.
    Wire(WireError),
    /// A message we act on had a payload that does not decode (Core drops
    /// such messages; we drop the peer only for the messages the sync relies
    /// on, `headers` and `getheaders`).
    Payload {
        /// The message's command.
        command: Command,
        /// What was wrong with the payload.
        error: PayloadError,
    },
    /// The version handshake did not finish in time (Core: `-peertimeout`,
    /// 60 s, "version handshake timeout").
    HandshakeTimeout {
        /// How long we waited.
        waited: Duration,
    },
    /// Our ping went unanswered (Core: `TIMEOUT_INTERVAL`, "ping timeout").
    PingTimeout {
        /// How long we waited for the pong.
        waited: Duration,
    },
    /// The remote version message carried a nonce we sent ourselves on an
    /// outbound connection: we are connected to ourselves.
    SelfConnection,
    /// The peer's protocol version is below `MIN_PEER_PROTO_VERSION`.
    ObsoleteVersion {
        /// The lowest version we accept.
        min: i32,
        /// The version the peer announced.
        found: i32,
    },
    /// An outbound peer does not offer the services we need to sync from it
    /// (Core: `HasAllDesirableServiceFlags`).
    MissingServices {
        /// Service bits we require.
        expected: u64,
        /// Service bits the peer announced.
        found: u64,
    },
    /// A feature-negotiation message (`wtxidrelay`, `sendaddrv2`) arrived
    /// after `verack`; Core disconnects for this.
    NegotiationAfterVerack {
        /// The late message's command.
        command: Command,
    },
    /// A `headers` message held more than `MAX_HEADERS_RESULTS` headers.
    TooManyHeaders {
        /// The protocol limit.
        max: usize,
        /// The count the message declared.
        found: u64,
    },
    /// A `getheaders` locator held more than `MAX_LOCATOR_SZ` hashes.
    LocatorTooLarge {
        /// The protocol limit.
        max: usize,
        /// The count the message declared.
        found: u64,
    },
    /// The headers in one message do not form a chain (Core:
    /// "non-continuous headers sequence").
    NonContinuousHeaders {
        /// Index in the message of the first header that does not link to
        /// the one before it.
        index: usize,
    },
    /// A header broke a consensus rule (bad proof of work, wrong nBits,
    /// time too new or too old, ...).
    InvalidHeader {
        /// Height the header would have had.
        height: u32,
        /// The rule it broke.
        error: HeaderError,
    },
    /// The peer did not answer our `getheaders` in time; its work moved to
    /// another peer.
    Stalled {
        /// How long we waited.
        waited: Duration,
    },
    /// A message larger than the per-peer input budget (the connection would
    /// pin that much memory while it arrives).
    MessageTooLarge {
        /// The budget in bytes.
        max: usize,
        /// Bytes of the message buffered when it was refused.
        found: usize,
    },
    /// The peer does not read what we send: more output is queued for it than
    /// the per-peer budget allows.
    OutputOverflow {
        /// The per-peer budget in bytes.
        limit: usize,
        /// The bytes that would have been queued.
        found: usize,
    },
    /// A peer's chain stayed below the minimum chain work for more headers
    /// than the per-peer presync budget.
    PresyncTooLong {
        /// The budget in headers.
        max: u64,
    },
    /// In redownload, a batch did not end on the hash the same batch ended
    /// on in presync: the peer served a different chain the second time.
    RedownloadMismatch {
        /// Position of the batch.
        batch: usize,
    },
    /// The input buffer is full and holds no complete message (cannot happen
    /// with a correct deframer; named rather than looped on).
    BufferFull {
        /// Bytes buffered.
        buffered: usize,
    },
    /// We already hold as many connections as the configuration allows.
    TooManyPeers {
        /// The configured limit.
        max: usize,
    },
    /// A list message (`inv`, `getdata`, `addr`, `addrv2`, `getblocks`)
    /// declared more entries than the protocol allows (Core: Misbehaving,
    /// "inv message size = %u", "addr message size = %u").
    TooManyEntries {
        /// The message's command.
        command: Command,
        /// The protocol limit.
        max: usize,
        /// The count the message declared.
        found: u64,
    },
    /// All peers' buffers together passed the engine's overall memory
    /// budget and this peer held the most.
    MemoryBudget {
        /// The overall budget in bytes.
        budget: usize,
        /// All peers' buffers together when this peer was dropped.
        total: usize,
        /// This peer's buffers.
        held: usize,
    },
}

impl DisconnectReason {
    /// A short stable name for the reason (for logs, JSON and counters).
    pub fn name(&self) -> &'static str {
        match self {
            DisconnectReason::Closed(_) => "closed",
            DisconnectReason::Wire(_) => "wire",
            DisconnectReason::Payload { .. } => "payload",
            DisconnectReason::HandshakeTimeout { .. } => "handshake-timeout",
            DisconnectReason::PingTimeout { .. } => "ping-timeout",
            DisconnectReason::SelfConnection => "self-connection",
            DisconnectReason::ObsoleteVersion { .. } => "obsolete-version",
            DisconnectReason::MissingServices { .. } => "missing-services",
            DisconnectReason::NegotiationAfterVerack { .. } => "negotiation-after-verack",
            DisconnectReason::TooManyHeaders { .. } => "too-many-headers",
            DisconnectReason::LocatorTooLarge { .. } => "locator-too-large",
            DisconnectReason::NonContinuousHeaders { .. } => "non-continuous-headers",
            DisconnectReason::InvalidHeader { .. } => "invalid-header",
            DisconnectReason::Stalled { .. } => "stalled",
            DisconnectReason::MessageTooLarge { .. } => "message-too-large",
            DisconnectReason::OutputOverflow { .. } => "output-overflow",
            DisconnectReason::PresyncTooLong { .. } => "presync-too-long",
            DisconnectReason::RedownloadMismatch { .. } => "redownload-mismatch",
            DisconnectReason::BufferFull { .. } => "buffer-full",
            DisconnectReason::TooManyPeers { .. } => "too-many-peers",
            DisconnectReason::TooManyEntries { .. } => "too-many-entries",
            DisconnectReason::MemoryBudget { .. } => "memory-budget",
        }
    }

    /// True when the peer broke a rule (as opposed to going away, being slow
    /// or being surplus): the engine does not reconnect to such a peer.
    pub fn is_misbehaviour(&self) -> bool {
        matches!(
            self,
            DisconnectReason::Wire(_)
                | DisconnectReason::Payload { .. }
                | DisconnectReason::NegotiationAfterVerack { .. }
                | DisconnectReason::TooManyHeaders { .. }
                | DisconnectReason::LocatorTooLarge { .. }
                | DisconnectReason::TooManyEntries { .. }
                | DisconnectReason::NonContinuousHeaders { .. }
                | DisconnectReason::InvalidHeader { .. }
                | DisconnectReason::PresyncTooLong { .. }
                | DisconnectReason::RedownloadMismatch { .. }
                | DisconnectReason::SelfConnection
        )
    }
}

impl fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DisconnectReason::Closed(c) => write!(f, "connection closed: {c:?}"),
            DisconnectReason::Wire(e) => write!(f, "framing error: {e}"),
            DisconnectReason::Payload { command, error } => {
                write!(f, "malformed {command} payload: {error}")
            }
            DisconnectReason::HandshakeTimeout { waited } => {
                write!(f, "version handshake timeout after {} ms", waited.as_millis())
            }
            DisconnectReason::PingTimeout { waited } => {
                write!(f, "ping timeout after {} ms", waited.as_millis())
            }
            DisconnectReason::SelfConnection => f.write_str("connected to self (nonce match)"),
            DisconnectReason::ObsoleteVersion { min, found } => {
                write!(f, "obsolete protocol version: expected at least {min}, found {found}")
            }
            DisconnectReason::MissingServices { expected, found } => write!(
                f,
                "peer lacks desirable services: expected bits {expected:#x}, found {found:#x}"
            ),
            DisconnectReason::NegotiationAfterVerack { command } => {
                write!(f, "{command} received after verack")
            }
            DisconnectReason::TooManyHeaders { max, found } => {
                write!(f, "headers message size: expected at most {max}, found {found}")
            }
            DisconnectReason::LocatorTooLarge { max, found } => {
                write!(f, "getheaders locator size: expected at most {max}, found {found}")
            }
            DisconnectReason::NonContinuousHeaders { index } => {
                write!(f, "non-continuous headers sequence at index {index}")
            }
            DisconnectReason::InvalidHeader { height, error } => {
                write!(f, "invalid header at height {height}: {error}")
            }
            DisconnectReason::Stalled { waited } => {
                write!(f, "headers request stalled for {} ms", waited.as_millis())
            }
            DisconnectReason::MessageTooLarge { max, found } => write!(
                f,
                "message larger than the input budget: expected at most {max} bytes, found {found} buffered"
            ),
            DisconnectReason::OutputOverflow { limit, found } => write!(
                f,
                "peer does not read its output: budget {limit} bytes, found {found} queued"
            ),
            DisconnectReason::PresyncTooLong { max } => {
                write!(f, "low-work chain longer than the presync budget of {max} headers")
            }
            DisconnectReason::RedownloadMismatch { batch } => {
                write!(f, "redownloaded batch {batch} differs from the presynced chain")
            }
            DisconnectReason::BufferFull { buffered } => {
                write!(f, "input buffer full with {buffered} bytes and no complete message")
            }
            DisconnectReason::TooManyPeers { max } => {
                write!(f, "too many peers: limit {max}")
            }
            DisconnectReason::TooManyEntries { command, max, found } => {
                write!(f, "{command} message size: expected at most {max}, found {found}")
            }
            DisconnectReason::MemoryBudget { budget, total, held } => write!(
                f,
                "buffers over the overall budget: expected at most {budget} bytes, found {total} (this peer {held})"
            ),
        }
    }
}
