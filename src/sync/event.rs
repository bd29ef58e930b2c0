//! What the engine reports to its embedder.

use std::net::SocketAddr;

use crate::chain::HeaderError;
use crate::net::{Link, PeerId};
use crate::peer::{DisconnectReason, Remote};
use crate::wire::{BlockHash, Command, PayloadError, WireError};

/// Something that happened, for progress display and logs. Read them with
/// [`Engine::poll_event`](crate::sync::Engine::poll_event).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// A connection opened.
    Connected {
        /// The connection.
        peer: PeerId,
        /// Its remote address.
        addr: SocketAddr,
        /// Who dialled.
        link: Link,
    },
    /// An outbound connection could not be opened.
    ConnectFailed {
        /// The address dialled.
        addr: SocketAddr,
        /// The socket error.
        error: std::io::ErrorKind,
    },
    /// A peer finished the version handshake.
    Ready {
        /// The connection.
        peer: PeerId,
        /// What it told us in its `version`.
        remote: Remote,
    },
    /// A connection ended.
    Disconnected {
        /// The connection.
        peer: PeerId,
        /// Its remote address.
        addr: SocketAddr,
        /// Why.
        reason: DisconnectReason,
    },
    /// Headers from a peer were validated and joined the tree.
    Headers {
        /// Who sent them; `None` for [`Engine::add_headers`](crate::sync::Engine::add_headers).
        peer: Option<PeerId>,
        /// How many new headers (headers we already had are not counted).
        count: usize,
        /// Best height after them.
        height: u32,
        /// Best tip after them.
        tip: BlockHash,
    },
    /// Headers from a peer were rejected without dropping the peer: a header
    /// more than two hours in the future (`time-too-new`), which Core does
    /// not punish because it may become valid later. The headers before it
    /// in the message were kept, the rest dropped.
    HeadersRejected {
        /// Who sent them.
        peer: PeerId,
        /// Height of the rejected header.
        height: u32,
        /// The rule it broke.
        error: HeaderError,
    },
    /// Headers from a peer did not connect to anything we hold: the first
    /// one's parent is unknown. Not a fault (Core, `HandleUnconnectingHeaders`:
    /// it may be an announcement after a block we missed); we asked for the
    /// gap unless a request to the peer was already out.
    HeadersUnconnected {
        /// Who sent them.
        peer: PeerId,
        /// How many headers the message held.
        count: usize,
        /// The unknown parent of the first.
        prev: BlockHash,
    },
    /// Our initial sync finished: every outbound peer has told us it has
    /// nothing beyond our tip.
    Synced {
        /// Best height.
        height: u32,
        /// Best tip.
        tip: BlockHash,
    },
    /// We answered a peer's `getheaders`.
    Served {
        /// Who asked.
        peer: PeerId,
        /// Headers in this answer.
        count: usize,
        /// Headers served to this peer so far.
        total: u64,
    },
    /// A message with an undecodable payload was dropped (Core's behaviour
    /// for messages other than `headers` and `getheaders`).
    MessageDropped {
        /// Who sent it.
        peer: PeerId,
        /// Its command.
        command: Command,
        /// What was wrong.
        error: PayloadError,
    },
    /// A frame with a bad checksum or command was dropped (Core drops such
    /// a message and keeps the connection).
    FrameDropped {
        /// Who sent it.
        peer: PeerId,
        /// What was wrong.
        error: WireError,
    },
    /// The header store failed; the tree in memory goes on, the disk copy is
    /// behind.
    StoreFailed {
        /// The store's error, as text.
        error: String,
    },
}
