//! The multi-peer header-sync engine: which peer to ask, stalls, progress,
//! and serving headers to others.
//!
//! [`Engine`] implements [`Service`](crate::net::Service), so the mio reactor
//! in [`crate::net`] (or any loop an embedder writes, see
//! `examples/sync_own_loop.rs`, or the simulator in [`sim`]) drives it. It is
//! sans-IO: it never reads a clock or touches a socket.
//!
//! How the sync goes (after Bitcoin Core's src/net_processing.cpp):
//!
//! - Once an outbound peer finishes the handshake we send `getheaders` with a
//!   locator from our best tip. One request is in flight at a time (the next
//!   locator depends on the answer; a peer's presync requests, which follow
//!   its own chain, run beside it); each request goes to the ready peer
//!   asked least recently, so the work spreads over all peers. The sync is
//!   over ([`Event::Synced`]) when every ready outbound peer has nothing
//!   more and none is still connecting or in its handshake.
//! - Memory: each peer's buffers stay within [`Config::peer_budget`], all of
//!   them together within [`Config::max_buffered_total`] (the peer holding
//!   the most is dropped when a call would pass it).
//! - A `headers` answer is validated as one batch by the header tree
//!   (batched hashing, Core's rules). A full answer (2000) means "ask again";
//!   a shorter one means that peer has nothing beyond our tip.
//! - Pipelining: for a full answer during the initial sync, the request for
//!   the next batch (its locator starts at this batch's last header) is
//!   handed to the reactor first, and the batch is validated on the engine's
//!   next call, which [`Service::next_wakeup`](crate::net::Service::next_wakeup)
//!   makes due at once: the peer prepares the next batch while this one is
//!   hashed and checked. Nothing overtakes it: the engine validates it
//!   before any later message, timer or connection change. (Before, the
//!   request waited in the output buffer until the batch was done, and the
//!   peer and the engine took turns: a loopback sync of a million headers
//!   went from 3.4 to 5.7 M headers/s.)
//! - A full answer's headers are hashed on a helper thread
//!   ([`HashWorker`](crate::pow::HashWorker), started with the first one)
//!   while the peer layer checks the message's checksum
//!   ([`Handler::prepare`](crate::peer::Handler::prepare)); a message whose
//!   checksum fails is dropped with its copy. This is the engine's only
//!   thread; it never acts on the message before the checksum holds.
//! - A request unanswered for [`Config::stall_timeout`] marks the peer
//!   stalled: it is dropped and the request goes to another peer.
//! - Invalid headers, more than 2000 headers and non-continuous headers drop
//!   the peer with a typed [`DisconnectReason`](crate::peer::DisconnectReason);
//!   the others carry on. Headers that do not connect to the tree are not a
//!   fault, as in current Core (`HandleUnconnectingHeaders`): we ask for the
//!   gap unless a request to that peer is out ([`Event::HeadersUnconnected`]).
//! - With [`Config::min_chain_work`] set, a chain below that work is not
//!   stored until the peer has shown the work at a fixed memory cost, then
//!   re-downloaded and checked against what was shown (Core's headers
//!   presync; see `presync.rs` for the bound).
//! - After the initial sync, `headers` announcements are validated the same
//!   way and an `inv` for an unknown block triggers `getheaders`.
//! - Serving: `getheaders` is answered from the tree (at most 2000 headers),
//!   `getdata` for blocks with `notfound` (we hold headers only).

mod batch;
mod config;
mod engine;
mod event;
#[doc(hidden)]
pub mod fuzzing;
mod presync;
#[doc(hidden)]
pub mod sim;

pub use config::{
    Config, DEFAULT_MAX_BUFFERED_TOTAL, DEFAULT_MAX_CONNECT_ATTEMPTS, DEFAULT_MAX_EVENTS,
    DEFAULT_MAX_PEERS, DEFAULT_MAX_PRESYNC_HEADERS, DEFAULT_RECONNECT_DELAY, DEFAULT_STALL_TIMEOUT,
};
pub use engine::{Engine, PeerInfo};
pub use event::Event;

/// Most headers in one `headers` message, and in our answers
/// (src/net_processing.cpp `MAX_HEADERS_RESULTS`).
pub const MAX_HEADERS_RESULTS: usize = 2000;

/// New tips of at most this many headers are announced with `headers`
/// to peers that asked for it (BIP130), larger ones with `inv`
/// (src/net_processing.cpp `MAX_BLOCKS_TO_ANNOUNCE`).
pub const MAX_BLOCKS_TO_ANNOUNCE: usize = 8;

/// Most hashes in a `getheaders` locator we answer (src/net_processing.cpp
/// `MAX_LOCATOR_SZ`).
pub const MAX_LOCATOR_SZ: usize = 101;
